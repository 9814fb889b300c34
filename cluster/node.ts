import { randomBytes } from 'node:crypto';
import type { Logger } from 'pino';
import { type Clock, systemClock, type TimerHandle } from './clock.js';
import { ClockOffsets } from './clock-offsets.js';
import { clusterLookup } from './cluster-lookup.js';
import { checkCondition, decider } from './conditional.js';
import { CopyCheck } from './copy-check.js';
import type { StorageState } from './durable-store.js';
import type { MasterSet } from './election.js';
import { type Entry, makeEntry, makeTombstone, restamp } from './entry.js';
import type { ReceivedEntry } from './entry-codec.js';
import {
  ClockAheadError,
  ClockCutOffError,
  NotMasterError,
  NotReadyError,
  StorageError,
} from './errors.js';
import { Freshness } from './freshness.js';
import { IncomingEntries } from './incoming-entries.js';
import { InvalidationQueue } from './invalidation-queue.js';
import { LocalData } from './local-data.js';
import type { Lookup } from './lookup.js';
import { Mastership, type NodePhase } from './mastership.js';
import { Membership } from './membership.js';
import { Metrics } from './metrics.js';
import type { NodeDeps, NodeOptions, WriteOptions } from './node-options.js';
import { nodeStatus } from './node-status.js';
import { PacketHandler } from './packet-handler.js';
import { processMemory } from './process-memory.js';
import type { HeldVersion, Peers, ReplicaAck, WriteResult } from './protocol.js';
import { Refusals } from './refusals.js';
import { ReplicaBatcher } from './replica-batcher.js';
import { type ReplicationContext, WriteBehindError, writeToMasters } from './replication.js';
import { Store } from './store.js';
import type { Transport } from './transport.js';
import { UnacknowledgedWrites } from './unacknowledged-writes.js';
import { UntimelyMembers } from './untimely-members.js';
import { HybridClock, isNewer, type Version } from './version.js';
import { type Announce, keyHash, type NodeState } from './wire.js';

export type { NodeDeps, NodeOptions, WriteOptions } from './node-options.js';

/** How long a node back with entries waits for the masters' word on them before serving. */
const RECONCILE_MS = 5_000;
/** Times a write is stamped anew above a master's newer version before it is given up (503). */
const RESTAMPS = 3;

/** When an entry written at `version` with a TTL expires. */
function expiry(version: Version, ttlSeconds: number | undefined): number | undefined {
  return ttlSeconds === undefined ? undefined : version.wall + ttlSeconds * 1000;
}

/**
 * One diststore node, assembled: its store, its view of the cluster (membership, mastership),
 * the packets it answers, and the read and write paths, which are its public API. It never
 * listens for HTTP itself; server/app.ts exposes it.
 */
export class DistNode {
  readonly id: string;
  /** `host:port` other nodes reach this node's HTTP server at. */
  readonly http: string;
  readonly boot: string;
  readonly store: Store;
  readonly metrics: Metrics;
  private phase: NodePhase = 'joining';
  private readonly mastership: Mastership;
  private readonly hybridClock: HybridClock;
  private readonly membership: Membership;
  private readonly untimely: UntimelyMembers;
  private readonly peers: Peers;
  private readonly replicas: ReplicaBatcher<ReplicaAck>;
  private readonly unacknowledged = new UnacknowledgedWrites();
  private readonly invalidations: InvalidationQueue;
  private readonly lookup: Lookup;
  private readonly refusals: Refusals;
  private readonly freshness: Freshness;
  private readonly copyCheck: CopyCheck;
  private readonly clockOffsets: ClockOffsets;
  private readonly replicationContext: ReplicationContext;
  /** How far our clock is behind the cluster's median (0 when not behind). */
  private clockBehindMs = 0;
  /** Ticks to come whose view of other clocks is stale (after a stall). */
  private clockStaleTicks = 0;
  private readonly incoming: IncomingEntries;
  /** The current masters but this node: whose word keeps our copies servable. */
  private otherMasters: readonly string[] = [];
  private readonly transport: Transport;
  private readonly data: LocalData;
  private readonly log: Logger;
  private readonly clock: Clock;
  private ticker: TimerHandle | undefined;
  private lastTick = 0;
  private closed = false;

  constructor(
    private readonly options: NodeOptions,
    deps: NodeDeps,
  ) {
    this.id = options.id;
    this.http = options.http;
    this.clock = deps.clock ?? systemClock;
    const now = () => this.clock.now();
    this.boot = `${now().toString(36)}-${randomBytes(3).toString('hex')}`;
    this.log = deps.logger;
    this.transport = deps.transport;
    this.peers = deps.peers;
    this.metrics = deps.metrics ?? new Metrics();
    // Versions follow the cluster's clock where ours is behind it (see tick): a node with a
    // slow clock still writes, and admits, versions of the cluster's time.
    const versionNow = () => now() + this.clockBehindMs;
    this.hybridClock = new HybridClock(this.id, versionNow, options.maxClockSkewMs ?? 60_000);
    this.refusals = new Refusals(this.hybridClock, now, this.metrics, this.log);
    this.store = new Store(
      {
        cacheTtlSeconds: options.cacheTtlSeconds,
        cacheMaxKeys: options.cacheMaxKeys,
        cacheMaxBytes: options.cacheMaxBytes,
        tombstoneTtlSeconds: options.tombstoneTtlSeconds,
        hashKey: (key) => keyHash(options.cluster, key),
        now,
      },
      deps.durable,
    );
    this.data = new LocalData(
      this.store,
      deps.durable,
      this.hybridClock,
      this.log,
      (key, version) => this.refusals.version('entries', version, key),
      (error) => {
        const reason = error instanceof StorageError ? error.reason : 'failed';
        this.metrics.storageErrors.inc({ reason });
        this.log.warn({ err: error }, 'a write could not be stored');
      },
    );
    this.clockOffsets = new ClockOffsets({
      maxOffsetMs: options.maxClockOffsetMs ?? 1000,
      log: this.log,
    });
    // Ages and silences: on a clock the wall clock's steps do not move (Clock.monotonic).
    const monotonic = () => this.clock.monotonic();
    this.membership = new Membership({
      now,
      monotonic,
      deadAfterMs: 3 * options.announceMs,
      freshWithinMs: 2 * options.announceMs,
    });
    this.untimely = new UntimelyMembers({
      now: monotonic,
      forgetAfterMs: 3 * options.announceMs,
      max: options.maxMembers ?? 1024,
    });
    this.freshness = new Freshness({
      now: monotonic,
      // As long as a silent master is still counted alive: its invalidations are not missed
      // before it would be declared dead.
      leaseMs: 3 * options.announceMs,
      onRevalidate: (reason) => {
        this.metrics.revalidations.inc({ reason });
        this.log.info({ reason }, 'copies will be checked against the masters before served');
        // After the change that caused it (a new master set) has been taken in.
        queueMicrotask(() => this.copyCheck.run());
      },
    });
    this.copyCheck = new CopyCheck({
      store: this.store,
      freshness: this.freshness,
      peers: this.peers,
      masters: () => this.copyCheckMasters(),
      refusals: this.refusals,
      metrics: this.metrics,
      log: this.log,
      now,
    });
    this.mastership = new Mastership({
      selfId: this.id,
      membership: this.membership,
      peers: this.peers,
      data: this.data,
      metrics: this.metrics,
      log: this.log,
      phase: () => this.phase,
      refreshSelf: () => this.membership.heard(this.announcement()),
      announce: () => this.announce(),
      now: monotonic,
      gatherMs: 3 * options.announceMs,
      unheard: () => this.cutOffByClock()?.length ?? 0,
      onChange: (next) => {
        this.otherMasters = next.ids.filter((id) => id !== this.id);
        this.freshness.mastersChanged(next.ids);
      },
      // A re-send found a newer version on a master: ours is no longer served as current.
      onNewer: (key, version) => this.store.invalidate(key, version, true),
    });
    this.replicas = new ReplicaBatcher({
      send: (http, entries) => this.peers.replicate(http, entries),
    });
    // Built once: every write goes through it.
    this.replicationContext = {
      selfId: this.id,
      writeAcks: options.writeAcks,
      send: (http, key, entry) => this.replicas.add(http, key, entry),
      probe: (http) => this.peers.probe(http),
      now: monotonic,
      metrics: this.metrics,
      log: this.log,
      mastership: this.mastership,
    };
    this.invalidations = new InvalidationQueue((changes, seq) =>
      this.transport.multicast({ kind: 'invalidate', node: this.id, seq, changes }),
    );
    this.lookup = clusterLookup({
      selfId: this.id,
      timeoutMs: options.lookupTimeoutMs,
      transport: this.transport,
      peers: this.peers,
      mastership: this.mastership,
      membership: this.membership,
      refusals: this.refusals,
      metrics: this.metrics,
      log: this.log,
      clock: this.clock,
      state: () => this.nodeState,
      cutOff: () => this.cutOffByClock() !== undefined,
    });
    this.incoming = new IncomingEntries({
      data: this.data,
      refusals: this.refusals,
      metrics: this.metrics,
      mastership: this.mastership,
      invalidate: (key, entry) => this.invalidateCopies(key, entry),
    });
    const packets = new PacketHandler({
      selfId: this.id,
      http: options.http,
      boot: this.boot,
      transport: this.transport,
      membership: this.membership,
      mastership: this.mastership,
      store: this.store,
      lookup: this.lookup,
      refusals: this.refusals,
      hybridClock: this.hybridClock,
      freshness: this.freshness,
      log: this.log,
      state: () => this.nodeState,
      announcement: () => this.announcement(),
      allowAddressMismatch: options.allowAddressMismatch,
      ignoreInvalidations: options.ignoreInvalidations,
      maxMembers: options.maxMembers ?? 1024,
      untimely: this.untimely,
    });
    this.transport.onMessage((message, from) => packets.receive(message, from));
    this.transport.onUntimely?.((announce, from, aheadMs) =>
      packets.untimely(announce, from, aheadMs),
    );
    this.metrics.countStorage(() => this.data.storage);
    this.metrics.countMemory(() => ({ ...processMemory(), ...this.data.disk }));
    this.metrics.countClockOffset(() => {
      const offset = this.clockOffset();
      return offset === undefined ? undefined : offset / 1000;
    });
    this.metrics.countEntries(() => ({
      primary: { entries: this.store.primaryCount, bytes: this.store.bytes.primary },
      cached: { entries: this.store.cachedCount, bytes: this.store.bytes.cached },
    }));
  }

  /** Joins the cluster: census, a short wait for answers, then adopt the best set or elect. */
  async start(): Promise<void> {
    const held = this.data.load();
    if (held > 0) this.log.info({ entries: held }, 'entries held in the data dir');
    this.membership.heard(this.announcement());
    this.transport.multicast({ kind: 'census' });
    await this.sleep(this.options.joinWindowMs);
    if (this.closed) return;
    // Before it serves, a node that came back with entries learns which of them the masters
    // hold newer versions of (its re-send's answer). A master that cannot be reached in time
    // leaves those entries to be checked one by one as they are read.
    const current =
      held === 0 ||
      (await Promise.race([this.mastership.resent(), this.sleep(RECONCILE_MS).then(() => false)]));
    if (this.closed) return;
    if (current) this.freshness.trustAll();
    this.followClusterClock();
    this.phase = 'ready';
    this.membership.heard(this.announcement());
    if (this.mastership.set.epoch === 0) this.mastership.maybeElect();
    this.lastTick = this.clock.now();
    this.ticker = this.clock.setInterval(() => this.tick(), this.options.announceMs);
    this.announce();
    this.copyCheck.run();
    this.log.info({ masters: this.mastership.set }, 'joined cluster');
  }

  /** Joining, ready, syncing (a new master merging the survivor's entries), or leaving. */
  get nodeState(): NodeState {
    if (this.phase !== 'ready') return this.phase;
    return this.mastership.syncing || this.masterStalled() ? 'syncing' : 'ready';
  }

  /** Whether writes can be stored here: ok, full, failed, or memory (no data dir). */
  get storage(): StorageState | 'memory' {
    return this.data.storage;
  }

  get masterSet(): MasterSet {
    return this.mastership.set;
  }

  get isMaster(): boolean {
    return this.mastership.isMaster;
  }

  /** Stores a value as primary here and, unless local, on the masters. */
  async write(
    key: string,
    value: Buffer,
    type: string,
    options: WriteOptions = {},
  ): Promise<WriteResult> {
    this.assertServing();
    this.assertClockAdmitted();
    if (options.condition) {
      const deciding = decider(this.mastership.set.ids, (id) =>
        id === this.id ? this.nodeState === 'ready' : this.membership.get(id)?.state === 'ready',
      );
      if (!deciding) throw new NotReadyError('syncing');
      if (deciding !== this.id) {
        const http = this.mastership.httpOf(deciding);
        if (!http || options.forwarded) throw new NotReadyError(this.nodeState);
        const { ttlSeconds, condition } = options;
        const write = { key, value, type, ttlSeconds, condition };
        const result = await this.peers.conditional(http, write);
        // The decider stored it; this node keeps it too, as the node the client wrote to.
        const expiresAt = expiry(result.version, options.ttlSeconds);
        await this.data.keep(key, makeEntry(value, type, result.version, { expiresAt }));
        return result;
      }
      checkCondition(this.store.get(key), options.condition);
    }
    const version = this.hybridClock.next();
    const expiresAt = expiry(version, options.ttlSeconds);
    return this.commit(key, makeEntry(value, type, version, { expiresAt }), options.local);
  }

  /** Deletes a key: a tombstone here and on the masters, which beats every older version. */
  async remove(key: string): Promise<WriteResult> {
    this.assertServing();
    this.assertClockAdmitted();
    return this.commit(key, makeTombstone(this.hybridClock.next()));
  }

  /**
   * Stores a write here, then on the masters. A master that already holds a newer version
   * (our clock is behind, or a write elsewhere came first) makes us stamp ours above it and
   * write it again: the write answered last is the one that stays, whatever the clocks say.
   */
  private async commit(key: string, written: Entry, local = false): Promise<WriteResult> {
    let entry = written;
    const admittedSet = this.mastership.set;
    for (let attempt = 1; ; attempt++) {
      await this.data.keep(key, entry);
      this.freshness.verified(key);
      if (this.isMaster) this.invalidateCopies(key, entry);
      if (local || this.options.writeAcks === 'local') {
        return { key, version: entry.version, masters: this.isMaster ? [this.id] : [], lost: [] };
      }
      try {
        const result = await writeToMasters(this.replicationContext, key, entry);
        // Its clock may have cut this node off while the write was under way (the masters
        // refused it, and then fell silent to it): the set that took the write is then the
        // one this node elected alone, and the cluster will refuse its version. Not acknowledged.
        // The set the write began with was elected before the check the write passed.
        if (this.mastership.set !== admittedSet) this.assertClockAdmitted();
        return result;
      } catch (error) {
        if (!(error instanceof WriteBehindError) || attempt === RESTAMPS) {
          await this.notAcknowledged(key, entry, error);
          throw error;
        }
        this.metrics.restamps.inc();
        this.hybridClock.observe(error.held);
        entry = restamp(entry, this.hybridClock.next());
      }
    }
  }

  /** A write kept here and answered with `error`: see UnacknowledgedWrites. */
  private async notAcknowledged(key: string, entry: Entry, error: unknown): Promise<void> {
    // Stamped by a clock found wrong: the masters refuse it, and it is not kept here either.
    if (error instanceof ClockCutOffError || error instanceof ClockAheadError) {
      await this.withdraw(key, entry.version);
    } else {
      this.unacknowledged.add(key, entry.version);
    }
  }

  /** The readable value: the local entry if any, else the newest in the cluster (fetched, cached). */
  async read(key: string): Promise<Entry | undefined> {
    const local = this.store.get(key);
    const superseded = this.store.supersededBy(key);
    if (local && !superseded && this.current(key)) {
      this.log.debug({ key, version: local.version }, 'served as held');
      return local.deleted ? undefined : local;
    }
    this.assertServing();
    const hash = keyHash(this.options.cluster, key);
    const found = await this.lookup.find(key, hash, superseded);
    // For tracing a stale read (--log-level debug), with the answers and fetches it came from.
    this.log.debug(
      { key, hash, local: local?.version, superseded, found: found?.version },
      'looked up',
    );
    this.freshness.verified(key);
    if (found) {
      this.hybridClock.observe(found.version);
      if (this.isMaster) await this.adopt(key, found);
      // A primary entry held here (this node's own write, a former master's entry), superseded
      // or found older now, is replaced by the newer version, kept as primary: a copy could not
      // be cached beside it, and the next read, the key now checked, would serve the older
      // entry (the likely cause of CI's churn failure on 87553a8: a demoted master, its copy
      // check failing while the new masters awaited its re-send). Likewise a copy found
      // deleted is dropped, not served at the next read.
      else if (superseded || this.store.holdsPrimary(key)) await this.data.keep(key, found);
      else if (found.deleted) this.store.invalidate(key, found.version, false);
      else this.store.putCached(key, found);
    }
    // Told it was superseded, yet the masters hold nothing newer (the newer write was lost
    // with the masters that had it): what we hold is still the newest to be had.
    const newest = local && (!found || isNewer(local.version, found.version)) ? local : found;
    return newest?.deleted ? undefined : newest;
  }

  /**
   * Keeps, on a master, a version a lookup found newer than the one held (a write made on a
   * node that was elsewhere, found there before its re-send came), as if written to it: the
   * copies elsewhere are invalidated and the other masters are sent it. The re-send, when it
   * comes, holds nothing newer for this master, so nothing else would tell them (churn seed
   * 101: the node that wrote the older value served it for good).
   */
  private async adopt(key: string, found: Entry): Promise<void> {
    if (!(await this.data.keep(key, found))) return;
    this.invalidateCopies(key, found);
    for (const id of this.otherMasters) {
      const http = this.mastership.httpOf(id);
      if (!http) continue;
      // Best effort: the writer's re-send reaches that master too.
      this.replicas.add(http, key, found).catch((error: unknown) => {
        this.log.warn({ master: id, key, err: error }, 'cannot pass a version found to a master');
      });
    }
  }

  /**
   * Applies a batch of entries replicated by other nodes' writes (LWW by version). A batch
   * with a version too far ahead of our clock is refused whole (VersionAheadError).
   */
  applyReplicas(entries: AsyncIterable<ReceivedEntry>): Promise<ReplicaAck> {
    return this.incoming.replicas(entries);
  }

  /**
   * Applies a stream of entries: `from`'s re-send after both masters were lost, after a heal
   * or a restart.
   */
  async applyEntries(entries: AsyncIterable<ReceivedEntry>, from?: string): Promise<ReplicaAck> {
    const ack = await this.incoming.resent(entries);
    if (from !== undefined) this.mastership.resentFrom(from);
    return ack;
  }

  /**
   * Whether a who-has query for `hash` could get an answer from this node: a master answers
   * each one (absent too), another node only for keys it holds. Whatever else decides the
   * answer (state, the entry) is decided by the packet handler for the queries this lets by.
   */
  mayAnswerWhoHas(hash: string): boolean {
    return this.isMaster || this.store.keyForHash(hash) !== undefined;
  }

  /**
   * Of the keys and versions another node holds, those this master holds a newer version of
   * (tombstones too), with that version: that node's copy check (CopyCheck).
   */
  newerThan(held: readonly HeldVersion[]): HeldVersion[] {
    this.assertReadyMaster();
    const newer: HeldVersion[] = [];
    for (const [key, version] of held) {
      const entry = this.store.get(key);
      if (entry && isNewer(entry.version, version)) newer.push([key, entry.version]);
    }
    return newer;
  }

  /**
   * This master's entry for a key (a tombstone too), given as a master's word: a miss's early
   * fetch takes it for the answer. A master still syncing or back from a stall gives none.
   */
  masterEntry(key: string): Entry | undefined {
    this.assertReadyMaster();
    return this.store.get(key);
  }

  private assertReadyMaster(): void {
    if (this.nodeState !== 'ready') throw new NotReadyError(this.nodeState);
    if (!this.isMaster) throw new NotMasterError();
  }

  /** The JSON view of this node and the cluster, for /status. */
  status() {
    return nodeStatus({
      node: {
        id: this.id,
        http: this.http,
        cluster: this.options.cluster,
        boot: this.boot,
        state: this.nodeState,
        role: this.isMaster ? 'master' : 'member',
      },
      masters: this.mastership.set,
      membership: this.membership,
      store: this.store,
      storage: this.data.storage,
      memory: processMemory(),
      disk: this.data.disk,
      clock: this.clockReport(),
      now: this.clock.monotonic(),
    });
  }

  /** Says goodbye on the cluster so masters are replaced at once, not after a timeout. */
  leave(): void {
    if (this.phase === 'leaving') return;
    this.phase = 'leaving';
    this.announce();
    this.log.info('said goodbye to the cluster');
  }

  /** Stops timers and releases sockets; safe to call twice. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.clock.clearInterval(this.ticker);
    this.invalidations.flush();
    this.store.close();
    this.peers.close();
    await this.transport.close();
  }

  /** Whether a copy of `key` held here may be served without asking the masters. */
  private current(key: string): boolean {
    // A joining node has not yet heard what the masters hold (it may not even know them yet,
    // so nothing looks out of date): what it loaded from disk waits until it is ready.
    if (this.phase === 'joining') return false;
    // A master's entries are kept current by replication itself, once it has synced: a new
    // master's own older copies, or a stalled one's, are checked like anyone's until then.
    if (this.isMaster && this.nodeState !== 'syncing') return true;
    return this.freshness.servable(key, this.otherMasters);
  }

  /**
   * Whether this master was stalled (SIGSTOP, swap) long enough for the others to count it
   * dead, and has not yet run the tick that notices it: they may have elected another master
   * and acknowledged writes it never saw, so what it holds is no master's word until it has
   * heard from them again (Mastership.stalled).
   */
  private masterStalled(): boolean {
    return this.isMaster && this.clock.now() - this.lastTick > 3 * this.options.announceMs;
  }

  /** The masters a copy check asks: see CopyCheckOptions.masters. */
  private copyCheckMasters(): string[] | undefined {
    if (this.phase !== 'ready' || this.isMaster) return undefined;
    const https = this.otherMasters.map((id) => this.mastership.httpOf(id));
    if (https.length === 0 || https.some((http) => http === undefined)) return undefined;
    return https as string[];
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => this.clock.setTimeout(resolve, ms));
  }

  private assertServing(): void {
    if (this.phase !== 'ready') throw new NotReadyError(this.phase);
  }

  /**
   * Refuses writes while our clock cuts us off the cluster (see cutOffByClock), or is further
   * ahead of the cluster's than it admits.
   */
  private assertClockAdmitted(): void {
    const unheard = this.cutOffByClock();
    if (unheard) throw new ClockCutOffError(this.clockOffset() ?? 0, unheard.length);
    if (ClockOffsets.aheadOfMajority(this.otherClocks(), this.options.maxClockSkewMs ?? 60_000)) {
      const offset = (this.clockOffset() ?? 0) / 1000;
      throw new ClockAheadError(`${offset.toFixed(1)} s ahead of its median`);
    }
  }

  /** A master tells the cluster a key changed, so nodes drop older cached copies at once. */
  private invalidateCopies(key: string, entry: Entry): void {
    this.invalidations.add(keyHash(this.options.cluster, key), entry.version);
  }

  private tick(): void {
    const now = this.clock.now();
    // A tick far later than scheduled means this process was stalled (SIGSTOP, swap): the
    // silence of others during that time says nothing about them. Read on the wall clock,
    // which runs on through a suspended host too (the monotonic clock does not); a wall
    // clock stepped forward is taken for a stall as well, which costs a revalidation only.
    if (now - this.lastTick > 2 * this.options.announceMs) {
      this.log.warn({ stalledMs: now - this.lastTick }, 'process was stalled; keeping members');
      if (this.masterStalled()) this.mastership.stalled();
      this.membership.pardon();
      // Invalidations that came while we were stopped may have been dropped unread.
      this.freshness.revalidate('stalled');
      // Announcements queued while we were stopped are read late: their clocks look behind.
      this.clockStaleTicks = 2;
    }
    this.lastTick = now;
    this.membership.prune();
    if (this.clockStaleTicks > 0) this.clockStaleTicks--;
    else this.followClusterClock();
    this.data.sweep();
    this.withdrawStampedAhead();
    this.mastership.tick();
    // A check that failed (a master out of reach) is tried again each tick.
    this.copyCheck.run();
    this.announce();
  }

  /**
   * Withdraws this node's failed writes stamped further ahead of its clock than any node
   * admits: its clock had jumped ahead, and has been put right (see UnacknowledgedWrites).
   */
  private withdrawStampedAhead(): void {
    for (const [key, version] of this.unacknowledged.takeRefused((v) =>
      this.hybridClock.admits(v),
    )) {
      void this.withdraw(key, version);
    }
  }

  /**
   * LocalData.withdraw, counted. A data dir that cannot remove it is logged, never thrown: the
   * write's own answer (clock_off, clock_ahead) is what its client must get.
   */
  private async withdraw(key: string, version: Version): Promise<void> {
    try {
      if (await this.data.withdraw(key, version)) this.metrics.withdrawn.inc();
    } catch (error) {
      this.log.error({ key, err: error }, 'cannot withdraw a write from the data dir');
    }
  }

  /** Reports our clock if it is off the cluster's, and keeps versions up with it. */
  private followClusterClock(): void {
    const offset = this.clockOffset();
    this.clockOffsets.check(offset);
    this.clockBehindMs = Math.max(0, -(offset ?? 0));
  }

  private clockReport() {
    const offsetMs = this.clockOffset();
    const maxOffsetMs = this.options.maxClockOffsetMs ?? 1000;
    const unheard = this.unheardMembers().map((m) => m.id);
    return { offsetMs, maxOffsetMs, off: this.clockOffsets.isOff(offsetMs), unheard };
  }

  /**
   * The members we cannot hear for their packets' stamps, if it is our clock that is wrong
   * (off the median of every clock we know of, theirs included): then what we write reaches
   * nobody, and nobody's writes reach us, until our clock is fixed. Undefined otherwise.
   */
  private cutOffByClock(): { id: string }[] | undefined {
    const unheard = this.unheardMembers();
    if (unheard.length === 0 || !this.clockOffsets.isOff(this.clockOffset())) return undefined;
    return unheard;
  }

  /** Members whose authentic announcements we refuse for their stamps, and do not hear. */
  private unheardMembers(): { id: string; offsetMs: number }[] {
    // Asked on every write and every lookup: nothing to sort out in the usual case.
    if (this.untimely.empty) return [];
    return this.untimely.recent().filter((m) => !this.membership.isAlive(m.id));
  }

  /** This node's clock minus the cluster's median, in ms (see ClockOffsets). */
  private clockOffset(): number | undefined {
    return ClockOffsets.ours(this.otherClocks());
  }

  /**
   * The live members' clocks as offsets from ours (their clock minus ours, ms), and those of
   * the members we cannot hear for their stamps (UntimelyMembers).
   */
  private otherClocks(): number[] {
    const heard = this.membership
      .aliveMembers()
      .filter((m) => m.id !== this.id && m.clockOffsetMs !== undefined)
      .map((m) => m.clockOffsetMs as number);
    return [...heard, ...this.unheardMembers().map((m) => m.offsetMs)];
  }

  private announcement(): Announce {
    return {
      kind: 'announce',
      node: this.id,
      http: this.http,
      keys: this.store.primaryCount,
      epoch: this.mastership.set.epoch,
      masters: [...this.mastership.set.ids],
      quorum: this.mastership.set.quorum,
      inv: this.invalidations.lastSeq,
      state: this.nodeState,
      boot: this.boot,
      clock: this.clock.now(),
      ...(this.mastership.owesResend ? { owes: true } : {}),
    };
  }

  private announce(): void {
    this.membership.heard(this.announcement());
    this.transport.multicast(this.announcement());
  }
}
