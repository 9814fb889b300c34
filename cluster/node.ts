import { randomBytes } from 'node:crypto';
import type { Logger } from 'pino';
import { isValidHttpAddress, isValidNodeId, sameHost } from './address.js';
import { type Condition, checkCondition, decider } from './conditional.js';
import { dropLog } from './drop-log.js';
import type { DurableStore } from './durable-store.js';
import {
  electMasters,
  isBetterSet,
  type MasterSet,
  NO_MASTERS,
  needsElection,
} from './election.js';
import { type Entry, hashValue, makeEntry, makeTombstone } from './entry.js';
import { InvalidationQueue } from './invalidation-queue.js';
import { LocalData } from './local-data.js';
import { Lookup } from './lookup.js';
import { Membership } from './membership.js';
import { Metrics } from './metrics.js';
import { PeerClient, type ReplicaAck } from './peer-client.js';
import { ReplicaBatcher } from './replica-batcher.js';
import { replicate, type WriteAcks, type WriteResult } from './replication.js';
import { Store } from './store.js';
import type { Peer, Transport } from './transport.js';
import { compareVersions, formatVersion, HybridClock, isNewer, type Version } from './version.js';
import { type Announce, keyHash, type Message, type NodeState } from './wire.js';

/** What a node needs to know about itself and its cluster. */
export interface NodeOptions {
  /** Unique, stable node id; defaults to the advertised HTTP address. */
  id: string;
  /** `host:port` other nodes reach this node's HTTP server at. */
  http: string;
  cluster: string;
  lookupTimeoutMs: number;
  announceMs: number;
  cacheTtlSeconds: number;
  /** Bounds of the cached-copy tier (0: none). */
  cacheMaxKeys: number;
  cacheMaxBytes: number;
  /** Seconds a tombstone is kept; a node away for longer may bring a deleted key back. */
  tombstoneTtlSeconds: number;
  writeAcks: WriteAcks;
  /** Test hook: ignore invalidation packets, as if every one were lost. */
  ignoreInvalidations?: boolean;
  /** How long to collect census answers at start before electing. */
  joinWindowMs: number;
  /** Time limit of one node-to-node HTTP request. */
  peerTimeoutMs: number;
  /** Accept who-has answers whose advertised address is not the packet's source (NAT). */
  allowAddressMismatch?: boolean;
  /** Cluster secret for node-to-node HTTP (the transport signs packets itself). */
  secret?: string | undefined;
  /** How far ahead of our clock a version from another node may be (default 60 s). */
  maxClockSkewMs?: number;
  /** Most members this node keeps track of (default 1024); more announcers are refused. */
  maxMembers?: number;
}

export interface NodeDeps {
  transport: Transport;
  /** Where primary entries and tombstones are persisted; none: memory only. */
  durable?: DurableStore;
  logger: Logger;
  metrics?: Metrics;
  now?: () => number;
}

export interface WriteOptions {
  /** Store here only, not on the masters. */
  local?: boolean;
  /** Seconds until the entry is gone everywhere. */
  ttlSeconds?: number | undefined;
  /** Write only if the key is at this version, or absent; decided on a master. */
  condition?: Condition | undefined;
  /** Set on a conditional write another node forwarded to us as the decider. */
  forwarded?: boolean;
}

/** When an entry written at `version` with a TTL expires. */
function expiry(version: Version, ttlSeconds: number | undefined): number | undefined {
  return ttlSeconds === undefined ? undefined : version.wall + ttlSeconds * 1000;
}

/** The node has not joined its cluster yet (or is leaving it). */
export class NotReadyError extends Error {
  constructor(readonly state: NodeState) {
    super(`node is ${state}`);
    this.name = 'NotReadyError';
  }
}

/**
 * One diststore node: its store, its view of the cluster, the master election, and the read
 * and write paths. It never listens for HTTP itself; server/app.ts exposes it.
 */
export class DistNode {
  readonly id: string;
  /** `host:port` other nodes reach this node's HTTP server at. */
  readonly http: string;
  readonly boot = `${Date.now().toString(36)}-${randomBytes(3).toString('hex')}`;
  readonly store: Store;
  readonly metrics: Metrics;
  private state: NodeState = 'joining';
  private masters: MasterSet = NO_MASTERS;
  private readonly clock: HybridClock;
  private readonly membership: Membership;
  private readonly peers: PeerClient;
  private readonly replicas: ReplicaBatcher<ReplicaAck>;
  private readonly invalidations: InvalidationQueue;
  private readonly lookup: Lookup;
  private readonly transport: Transport;
  private readonly data: LocalData;
  private readonly log: Logger;
  private readonly now: () => number;
  private ticker: NodeJS.Timeout | undefined;
  private lastTick = 0;
  /** The surviving master this node (a new master) still has to sync from. */
  private syncSource: string | undefined;
  private syncRunning = false;
  /** New masters that still have to receive our primary entries (see adopt); retried each tick. */
  private resendTo = new Set<string>();
  private resending = false;
  private closed = false;
  /** Logs refusals of input from other nodes, without flooding the log. */
  private readonly logRefusal: ReturnType<typeof dropLog>;

  constructor(
    private readonly options: NodeOptions,
    deps: NodeDeps,
  ) {
    this.id = options.id;
    this.http = options.http;
    this.now = deps.now ?? Date.now;
    this.log = deps.logger;
    this.transport = deps.transport;
    this.metrics = deps.metrics ?? new Metrics();
    this.clock = new HybridClock(this.id, this.now, options.maxClockSkewMs ?? 60_000);
    this.logRefusal = dropLog(this.log, {
      line: 'refused input from the cluster',
      summary: 'more input from the cluster was refused',
    });
    this.store = new Store({
      cacheTtlSeconds: options.cacheTtlSeconds,
      cacheMaxKeys: options.cacheMaxKeys,
      cacheMaxBytes: options.cacheMaxBytes,
      tombstoneTtlSeconds: options.tombstoneTtlSeconds,
      hashKey: (key) => keyHash(options.cluster, key),
      now: this.now,
    });
    this.data = new LocalData(this.store, deps.durable, this.clock, this.log, (key, version) =>
      this.refuseVersion('entries', version, key),
    );
    this.membership = new Membership({ now: this.now, deadAfterMs: 3 * options.announceMs });
    this.peers = new PeerClient({
      requestTimeoutMs: options.peerTimeoutMs,
      secret: options.secret,
    });
    this.replicas = new ReplicaBatcher({
      send: (http, entries) => this.peers.replicate(http, entries),
    });
    this.invalidations = new InvalidationQueue((changes) =>
      this.transport.multicast({ kind: 'invalidate', node: this.id, changes }),
    );
    this.lookup = new Lookup({
      timeoutMs: options.lookupTimeoutMs,
      ask: (hash) => {
        this.metrics.whoHasQueries.inc();
        this.transport.multicast({ kind: 'who-has', keyHash: hash });
      },
      mastersToHear: () => this.mastersToHear(),
      fetch: (answer, key) => this.fetchFrom(answer.http, answer.node, key),
      fetchEarly: (key, hash) => {
        // Spread over the ready masters by key; none when one is not ready (it may lack keys).
        const masters = this.mastersToHear();
        const from = masters?.[hash.charCodeAt(0) % masters.length];
        const http = from && this.membership.get(from)?.http;
        return from && http ? { from, entry: this.fetchFrom(http, from, key) } : undefined;
      },
      onOutcome: (outcome, ms) => {
        this.metrics.lookups.inc({ outcome });
        this.metrics.lookupSeconds.observe(ms / 1000);
      },
    });
    this.transport.onMessage((message, from) => this.receive(message, from));
    this.metrics.countEntries(() => ({
      primary: { entries: this.store.primaryCount, bytes: this.store.bytes.primary },
      cached: { entries: this.store.cachedCount, bytes: this.store.bytes.cached },
    }));
  }

  /** Joins the cluster: census, a short wait for answers, then adopt the best set or elect. */
  async start(): Promise<void> {
    const loaded = this.data.load();
    if (loaded > 0) this.log.info({ entries: loaded }, 'loaded entries from the data dir');
    this.membership.heard(this.announcement());
    this.transport.multicast({ kind: 'census' });
    await new Promise((resolve) => setTimeout(resolve, this.options.joinWindowMs));
    if (this.closed) return;
    this.state = 'ready';
    this.membership.heard(this.announcement());
    if (this.masters.epoch === 0) this.maybeElect();
    this.lastTick = this.now();
    this.ticker = setInterval(() => this.tick(), this.options.announceMs);
    this.announce();
    this.log.info({ masters: this.masters }, 'joined cluster');
  }

  get nodeState(): NodeState {
    return this.state;
  }

  get masterSet(): MasterSet {
    return this.masters;
  }

  get isMaster(): boolean {
    return this.masters.ids.includes(this.id);
  }

  /** Stores a value as primary here and, unless local, on the masters. */
  async write(
    key: string,
    value: Buffer,
    type: string,
    options: WriteOptions = {},
  ): Promise<WriteResult> {
    this.assertServing();
    if (options.condition) {
      const deciding = decider(this.masters.ids, (id) =>
        id === this.id ? this.state === 'ready' : this.membership.get(id)?.state === 'ready',
      );
      if (!deciding) throw new NotReadyError('syncing');
      if (deciding !== this.id) {
        const member = this.membership.get(deciding);
        if (!member || options.forwarded) throw new NotReadyError(this.state);
        const result = await this.peers.conditional(member.http, key, value, type, options);
        // The decider stored it; this node keeps it too, as the node the client wrote to.
        const expiresAt = expiry(result.version, options.ttlSeconds);
        await this.data.keep(key, makeEntry(value, type, result.version, { expiresAt }));
        return result;
      }
      checkCondition(this.store.get(key), options.condition);
    }
    const version = this.clock.next();
    const expiresAt = expiry(version, options.ttlSeconds);
    return this.commit(key, makeEntry(value, type, version, { expiresAt }), options.local);
  }

  /** Deletes a key: a tombstone here and on the masters, which beats every older version. */
  async remove(key: string): Promise<WriteResult> {
    this.assertServing();
    return this.commit(key, makeTombstone(this.clock.next()));
  }

  private async commit(key: string, entry: Entry, local = false): Promise<WriteResult> {
    await this.data.keep(key, entry);
    if (this.isMaster) this.invalidateCopies(key, entry);
    if (local || this.options.writeAcks === 'local') {
      return { key, version: entry.version, masters: this.isMaster ? [this.id] : [], lost: [] };
    }
    return this.replicate(key, entry);
  }

  /** The readable value: the local entry if any, else the newest in the cluster (fetched, cached). */
  async read(key: string): Promise<Entry | undefined> {
    const local = this.store.get(key);
    const superseded = this.store.isSuperseded(key);
    if (local && !superseded) return local.deleted ? undefined : local;
    this.assertServing();
    const found = await this.lookup.find(key, keyHash(this.options.cluster, key));
    if (found) {
      this.clock.observe(found.version);
      // A primary entry known to be superseded is replaced by the newer version, kept as primary.
      if (this.isMaster || superseded) await this.data.keep(key, found);
      else if (!found.deleted) this.store.putCached(key, found);
    }
    // Told it was superseded, yet nobody holds anything newer (the invalidation was forged, or
    // the newer version is out of reach): what we hold is still the newest to be had.
    const newest = local && (!found || isNewer(local.version, found.version)) ? local : found;
    return newest?.deleted ? undefined : newest;
  }

  /**
   * Applies a batch of entries replicated by other nodes' writes (LWW by version). A batch
   * with a version too far ahead of our clock is refused whole (VersionAheadError).
   */
  async applyReplicas(entries: AsyncIterable<[string, Entry]>): Promise<ReplicaAck> {
    // Read whole and checked before any is applied: a batch cut short or refused changes nothing.
    const batch: [string, Entry][] = [];
    for await (const item of entries) batch.push(item);
    for (const [key, entry] of batch) this.admitOrThrow('replicate', entry.version, key);
    const applied = await Promise.all(
      batch.map(async ([key, entry]) => {
        if (!(await this.data.keep(key, entry))) return 0;
        if (this.isMaster) this.invalidateCopies(key, entry);
        return 1;
      }),
    );
    return { applied: applied.reduce<number>((sum, one) => sum + one, 0), ...this.masterView() };
  }

  /** Refuses (VersionAheadError, counted and logged) a version our clock does not admit. */
  private admitOrThrow(path: string, version: Version, detail: string): void {
    if (this.clock.admits(version)) return;
    this.refuseVersion(path, version, detail);
    this.clock.check(version);
  }

  /** Counts and logs a version from another node that our clock does not admit. */
  private refuseVersion(path: string, version: Version, detail: string): void {
    this.metrics.versionsRefused.inc({ path });
    this.logRefusal(
      'version-ahead',
      `${path}: ${detail} at ${formatVersion(version)}, ${version.wall - this.now()} ms ahead`,
    );
  }

  /** A master tells the cluster a key changed, so nodes drop older cached copies at once. */
  private invalidateCopies(key: string, entry: Entry): void {
    this.invalidations.add(keyHash(this.options.cluster, key), entry.version);
  }

  /** Applies a stream of entries (a re-send after both masters were lost, or after a heal). */
  async applyEntries(entries: AsyncIterable<[string, Entry]>): Promise<ReplicaAck> {
    // Where sender and master disagree (they were apart), the newer version is announced:
    // older copies elsewhere, the sender's own included, are dropped, as after a write.
    const newer: [string, Entry][] = [];
    const store = this.store;
    const noted = async function* () {
      for await (const [key, entry] of entries) {
        const held = store.get(key);
        const order = held ? compareVersions(held.version, entry.version) : 0;
        if (held && order !== 0) newer.push([key, order > 0 ? held : entry]);
        yield [key, entry] as [string, Entry];
      }
    };
    const applied = await this.data.keepAll(noted());
    this.metrics.syncEntries.inc(applied);
    if (this.isMaster) for (const [key, entry] of newer) this.invalidateCopies(key, entry);
    return { applied, ...this.masterView() };
  }

  /** The JSON view of this node and the cluster, for /status. */
  status() {
    const now = this.now();
    return {
      node: {
        id: this.id,
        http: this.options.http,
        cluster: this.options.cluster,
        boot: this.boot,
        state: this.state,
        role: this.isMaster ? 'master' : 'member',
      },
      masters: { epoch: this.masters.epoch, ids: [...this.masters.ids] },
      members: this.membership.all().map((m) => ({
        id: m.id,
        http: m.http,
        keys: m.keys,
        state: m.state,
        master: this.masters.ids.includes(m.id),
        alive: m.id === this.id || this.membership.isAlive(m.id),
        lastSeenMs: m.id === this.id ? 0 : now - m.lastSeen,
      })),
      store: {
        primary: this.store.primaryCount,
        cached: this.store.cachedCount,
        primaryBytes: this.store.bytes.primary,
        cachedBytes: this.store.bytes.cached,
      },
    };
  }

  /** Says goodbye on the cluster so masters are replaced at once, not after a timeout. */
  leave(): void {
    if (this.state === 'leaving') return;
    this.state = 'leaving';
    this.announce();
    this.log.info('said goodbye to the cluster');
  }

  /** Stops timers and releases sockets; safe to call twice. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.ticker);
    this.invalidations.flush();
    this.store.close();
    this.peers.close();
    await this.transport.close();
  }

  private assertServing(): void {
    if (this.state === 'joining' || this.state === 'leaving') throw new NotReadyError(this.state);
  }

  private masterView() {
    return { epoch: this.masters.epoch, masters: [...this.masters.ids] };
  }

  private replicate(key: string, entry: Entry): Promise<WriteResult> {
    return replicate(
      {
        selfId: this.id,
        writeAcks: this.options.writeAcks,
        send: (http, key, entry) => this.replicas.replicate(http, key, entry),
        probe: (http) => this.peers.probe(http),
        metrics: this.metrics,
        log: this.log,
        masters: () => this.masters,
        httpOf: (id) => this.membership.get(id)?.http,
        heardSet: (set, source) => this.consider(set, source),
        confirmedDead: (id) => this.membership.forget(id),
        reelect: () => this.maybeElect(),
      },
      key,
      entry,
    );
  }

  /** Fetches a key from another node over HTTP, counted by result. */
  private async fetchFrom(http: string, node: string, key: string): Promise<Entry | undefined> {
    try {
      const entry = await this.peers.fetch(http, key);
      if (entry) this.admitOrThrow('fetch', entry.version, `${key} from ${node}`);
      this.metrics.fetches.inc({ result: entry ? 'ok' : 'gone' });
      return entry;
    } catch (error) {
      this.metrics.fetches.inc({ result: 'error' });
      this.log.warn({ peer: node, err: String(error) }, 'fetch failed');
      throw error;
    }
  }

  /** Masters whose `absent` answers settle a miss (see Lookup). */
  private mastersToHear(): string[] | undefined {
    const others = this.masters.ids.filter((id) => id !== this.id);
    // A master still joining or syncing may lack keys: its silence settles nothing, and
    // neither does ours alone while another master could hold what we lack.
    if (others.some((id) => this.membership.get(id)?.state !== 'ready')) return undefined;
    if (others.length === 0 && !(this.isMaster && this.state === 'ready')) return undefined;
    return others;
  }

  private receive(message: Message, from: Peer): void {
    switch (message.kind) {
      case 'census':
        this.transport.unicast(this.announcement(), from);
        return;
      case 'announce':
        if (this.acceptAnnounce(message, from)) this.heard(message);
        return;
      case 'who-has':
        this.answerWhoHas(message.keyHash, from);
        return;
      case 'has':
        // An answer must come from the node it names, or it could send us anywhere.
        if (!this.options.allowAddressMismatch && !sameHost(message.http, from.address)) {
          this.drop('address-mismatch', `has answer for ${message.http}`, from);
          return;
        }
        if (!this.clock.admits(message.version)) {
          this.refuseVersion('who-has', message.version, `answer from ${message.node}`);
          return;
        }
        // Only a current master's answer ends the collection early.
        if (message.master && !this.fromMaster(message.node, from)) {
          this.drop('not-master', `has answer claiming m=1 from ${message.node}`, from);
          return;
        }
        this.lookup.answer(message.keyHash, message);
        return;
      case 'absent':
        if (!this.fromMaster(message.node, from)) {
          this.drop('not-master', `absent answer from ${message.node}`, from);
          return;
        }
        this.lookup.answer(message.keyHash, { absent: message.node });
        return;
      case 'invalidate': {
        if (this.options.ignoreInvalidations) return;
        // Only the masters apply writes, so only they can say a copy is stale.
        if (!this.fromMaster(message.node, from)) {
          this.drop('not-master', `invalidation from ${message.node}`, from);
          return;
        }
        for (const { keyHash, version } of message.changes) {
          if (!this.clock.admits(version)) {
            this.refuseVersion('invalidation', version, `from ${message.node}`);
            continue;
          }
          const key = this.store.keyForHash(keyHash);
          // Masters converge by replication; elsewhere even our own earlier write is superseded.
          if (key !== undefined) this.store.invalidate(key, version, !this.isMaster);
        }
        return;
      }
    }
  }

  /** Whether a packet naming `node` comes from a current master, at that master's address. */
  private fromMaster(node: string, from: Peer): boolean {
    if (!this.masters.ids.includes(node) || node === this.id) return false;
    const http = this.membership.get(node)?.http;
    return (
      http !== undefined && (this.options.allowAddressMismatch || sameHost(http, from.address))
    );
  }

  /**
   * Whether an announce may be heard: a valid id and address, the address the packet came
   * from, and room for it (a flood of made-up members would otherwise fill the member list
   * and could be elected).
   */
  private acceptAnnounce(announce: Announce, from: Peer): boolean {
    if (!isValidNodeId(announce.node) || !isValidHttpAddress(announce.http)) {
      this.drop('bad-member', `announce with id ${announce.node.slice(0, 64)}`, from);
      return false;
    }
    if (!this.options.allowAddressMismatch && !sameHost(announce.http, from.address)) {
      this.drop('address-mismatch', `announce of ${announce.node} for ${announce.http}`, from);
      return false;
    }
    const maxMembers = this.options.maxMembers ?? 1024;
    if (!this.membership.get(announce.node) && this.membership.size >= maxMembers) {
      this.drop('too-many-members', `announce of ${announce.node}: ${maxMembers} known`, from);
      return false;
    }
    return true;
  }

  /** Counts and logs a packet the node will not act on. */
  private drop(reason: string, detail: string, from: Peer): void {
    this.metrics.packetsDropped.inc({ reason });
    this.logRefusal(reason, detail, `${from.address}:${from.port}`);
  }

  private answerWhoHas(hash: string, from: Peer): void {
    if (this.state === 'joining' || this.state === 'leaving') return;
    const key = this.store.keyForHash(hash);
    const entry = key === undefined ? undefined : this.store.get(key);
    if (entry) {
      this.transport.unicast(
        {
          kind: 'has',
          keyHash: hash,
          node: this.id,
          http: this.options.http,
          version: entry.version,
          master: this.isMaster,
          valueHash: hashValue(entry.value),
          deleted: entry.deleted === true,
        },
        from,
      );
    } else if (this.isMaster && this.state === 'ready') {
      this.transport.unicast({ kind: 'absent', keyHash: hash, node: this.id }, from);
    }
  }

  private heard(announce: Announce): void {
    if (announce.node === this.id) {
      if (announce.boot !== this.boot)
        this.log.error({ id: this.id }, 'another node uses this node id');
      return;
    }
    const before = this.membership.get(announce.node);
    if (!before) this.log.info({ member: announce.node, http: announce.http }, 'member joined');
    // A new master set is judged with what we knew of its sender before this announcement:
    // whether the sender was a complete master of the previous set, not what it is now.
    this.consider(
      { epoch: announce.epoch, ids: announce.masters },
      `announce from ${announce.node}`,
    );
    this.membership.heard(announce);
    if (announce.state === 'leaving') {
      this.log.info({ member: announce.node }, 'member left');
      if (this.state !== 'joining') this.maybeElect();
    }
  }

  /** Adopts a master set heard from another node if it is better than ours. */
  private consider(set: MasterSet, source: string): void {
    if (set.epoch === 0 || !isBetterSet(set, this.masters)) return;
    this.adopt({ epoch: set.epoch, ids: [...set.ids].sort() }, source);
  }

  private maybeElect(): void {
    if (this.state === 'joining' || this.state === 'leaving') return;
    this.membership.heard(this.announcement());
    const live = this.membership.live();
    if (!needsElection(this.masters, live)) return;
    const next = electMasters(this.masters, live);
    this.metrics.elections.inc();
    this.log.info(
      { from: this.masters, to: next, live: live.map((m) => `${m.id}(${m.keys})`) },
      'election',
    );
    this.adopt(next, 'election');
  }

  private adopt(next: MasterSet, source: string): void {
    const previous = this.masters;
    // Survivors are masters of the previous set that held everything: alive and ready. A
    // master that was still syncing when its source died holds only part of the data.
    const survivors = next.ids.filter((id) =>
      id === this.id
        ? previous.ids.includes(id) && this.state === 'ready'
        : previous.ids.includes(id) &&
          this.membership.isAlive(id) &&
          this.membership.get(id)?.state === 'ready',
    );
    const wasMaster = previous.ids.includes(this.id);
    this.masters = next;
    this.metrics.masterChanges.inc();
    this.log.info({ epoch: next.epoch, masters: next.ids, source }, 'master set changed');
    const survivor = survivors.find((id) => id !== this.id);
    if (this.isMaster && !survivors.includes(this.id) && this.state !== 'joining') {
      if (survivor) {
        this.state = 'syncing';
        this.syncSource = survivor;
        void this.syncFromSurvivor();
      } else if (this.state === 'syncing') {
        // Our sync source is gone and no complete master is left: every node re-sends what
        // it holds to the new masters (below), so there is nothing more to wait for.
        this.state = 'ready';
        this.syncSource = undefined;
      }
    } else if (!this.isMaster && this.state === 'syncing') {
      this.state = 'ready';
      this.syncSource = undefined;
    }
    // No survivor (both masters lost, or a partition healed and the other side's set won),
    // or this node just joined, perhaps with entries from its data dir that the masters never
    // saw, or it was a master and is no more (it may hold versions the new masters lack, or
    // older ones they will invalidate): the new masters get every primary entry we hold.
    this.resendTo = new Set([...this.resendTo].filter((id) => next.ids.includes(id)));
    if (
      (survivors.length === 0 && (previous.epoch > 0 || this.store.primaryCount > 0)) ||
      (wasMaster && !this.isMaster)
    ) {
      for (const id of next.ids) if (id !== this.id) this.resendTo.add(id);
      void this.resendPrimaries();
    }
    if (this.state !== 'joining') this.announce();
  }

  /** A new master streams every entry from the surviving master, merging by version. */
  private async syncFromSurvivor(): Promise<void> {
    const source = this.syncSource;
    const member = source && this.membership.get(source);
    if (!source || !member || this.syncRunning) return;
    this.syncRunning = true;
    const started = performance.now();
    let applied = 0;
    try {
      this.log.info({ from: source }, 'sync started');
      applied = await this.data.keepAll(this.peers.sync(member.http));
      const seconds = (performance.now() - started) / 1000;
      this.metrics.syncSeconds.observe(seconds);
      this.metrics.syncEntries.inc(applied);
      this.log.info({ from: source, applied, seconds }, 'sync finished');
      if (this.syncSource === source && this.state === 'syncing') {
        this.syncSource = undefined;
        this.state = 'ready';
        this.announce();
      }
    } catch (error) {
      // Retried at the next tick while we are still a syncing master.
      this.log.warn({ from: source, applied, err: String(error) }, 'sync failed');
    } finally {
      this.syncRunning = false;
    }
  }

  /**
   * Sends every primary entry we hold to the new masters (see adopt). A master not heard from
   * yet (forgotten during a long partition) or that fails is tried again at the next tick.
   */
  private async resendPrimaries(): Promise<void> {
    if (this.resending) return;
    this.resending = true;
    try {
      for (const id of [...this.resendTo]) {
        const member = this.membership.get(id);
        if (!member || !this.membership.isAlive(id)) continue;
        try {
          const ack = await this.peers.sendEntries(member.http, this.store.primaryEntries());
          this.resendTo.delete(id);
          this.log.info(
            { to: id, applied: ack.applied, held: this.store.primaryCount },
            're-sent primary entries',
          );
        } catch (error) {
          this.log.warn({ to: id, err: String(error) }, 're-send of primary entries failed');
        }
      }
    } finally {
      this.resending = false;
    }
  }

  private tick(): void {
    const now = this.now();
    // A tick far later than scheduled means this process was stalled (SIGSTOP, swap): the
    // silence of others during that time says nothing about them.
    if (now - this.lastTick > 2 * this.options.announceMs) {
      this.log.warn({ stalledMs: now - this.lastTick }, 'process was stalled; keeping members');
      this.membership.pardon();
    }
    this.lastTick = now;
    this.membership.prune();
    this.data.sweep();
    this.maybeElect();
    // A source that looks dead is not given up here: if it is, the election above has replaced
    // it and adopt() took care of us; if it only stalled, the sync resumes when it is back.
    if (this.state === 'syncing' && this.syncSource && this.membership.isAlive(this.syncSource)) {
      void this.syncFromSurvivor();
    }
    if (this.resendTo.size > 0) void this.resendPrimaries();
    this.announce();
  }

  private announcement(): Announce {
    return {
      kind: 'announce',
      node: this.id,
      http: this.options.http,
      keys: this.store.primaryCount,
      epoch: this.masters.epoch,
      masters: [...this.masters.ids],
      state: this.state,
      boot: this.boot,
    };
  }

  private announce(): void {
    this.membership.heard(this.announcement());
    this.transport.multicast(this.announcement());
  }
}
