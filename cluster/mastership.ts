import { performance } from 'node:perf_hooks';
import type { Logger } from 'pino';
import {
  electMasters,
  isBetterSet,
  type MasterSet,
  NO_MASTERS,
  needsElection,
} from './election.js';
import type { LocalData } from './local-data.js';
import type { Membership } from './membership.js';
import type { Metrics } from './metrics.js';
import type { Peers } from './protocol.js';
import { parseVersion, type Version } from './version.js';

/** Where a node is in its life: joining the cluster, serving it, or leaving it. */
export type NodePhase = 'joining' | 'ready' | 'leaving';

/** What mastership needs of its node. */
export interface MastershipOptions {
  selfId: string;
  membership: Membership;
  peers: Peers;
  /** This node's entries: a sync merges into them, a re-send reads the primary ones. */
  data: LocalData;
  metrics: Metrics;
  log: Logger;
  /** Where the node is in its life: no elections before it joined or after it said goodbye. */
  phase(): NodePhase;
  /** Hears this node's own announcement, so an election counts its current keys. */
  refreshSelf(): void;
  /** Tells the cluster this node's state and master set now. */
  announce(): void;
  /** The monotonic clock (Clock.monotonic), which members' `lastSeen` is on. */
  now(): number;
  /**
   * How long a master elected with no complete master left counts as syncing: the time for
   * every node to adopt the new set and re-send what it holds (a few announce intervals).
   */
  gatherMs: number;
  /**
   * How many members this node knows of but cannot hear for its own clock (see
   * DistNode.cutOffByClock): they count as known, never as fresh, so that a set it elects
   * meanwhile is a minority's.
   */
  unheard?(): number;
  /** Told of every change of the master set (invalidations from the new set are not ours). */
  onChange?(next: MasterSet): void;
  /** Told that a master holds a newer version of a key we re-sent it (found by the re-send). */
  onNewer?(key: string, version: Version): void;
}

/**
 * The master set as this node sees it, and what follows from changing it: electing when a
 * master is missing, adopting a better set heard from others, a new master's sync from the
 * surviving master, and the re-send of every primary entry to new masters when no complete
 * master survived. The node asks it `set`, `isMaster`, `syncing`; replication tells it what
 * an acknowledgement or a failed write taught (`consider`, `forgetDead`, `maybeElect`).
 */
export class Mastership {
  private masters: MasterSet = NO_MASTERS;
  /** The surviving master this node, a new master, still has to sync from. */
  private syncSource: string | undefined;
  private syncRunning = false;
  /**
   * Until when this master, elected with no complete master left, gathers re-sends; or, back
   * from a stall, waits to hear whether it was replaced (see stalled).
   */
  private gatheringUntil = 0;
  /**
   * Members whose re-send this master awaits, and until when (see awaitResend); those whose
   * wait ran out, not awaited again before they say they owe nothing; and when each member's
   * last re-send arrived.
   */
  private readonly awaited = new Map<string, number>();
  private readonly gaveUp = new Set<string>();
  private readonly resentAt = new Map<string, number>();
  /** When this node last came back from a minority's side to the majority's set. */
  private rejoinedAt = Number.NEGATIVE_INFINITY;
  /**
   * New masters that still have to receive our primary entries (see adopt), each with the
   * number of the request to send them; retried each tick. A re-send counts only if it began
   * after the last request: one begun earlier (under an older master set, hanging through a
   * partition) lacks what was written since.
   */
  private resendTo = new Map<string, number>();
  private resendRequests = 0;
  /** The re-send under way, if any. */
  private resending: Promise<void> | undefined;

  constructor(private readonly options: MastershipOptions) {}

  get set(): MasterSet {
    return this.masters;
  }

  get isMaster(): boolean {
    return this.masters.ids.includes(this.options.selfId);
  }

  /** A new master still merging the surviving master's entries: it may lack keys. */
  get syncing(): boolean {
    const now = this.options.now();
    for (const [id, until] of this.awaited) {
      if (until > now) continue;
      this.awaited.delete(id);
      this.gaveUp.add(id);
    }
    return this.syncSource !== undefined || now < this.gatheringUntil || this.awaited.size > 0;
  }

  /** Whether this node has primary entries to re-send to masters that lack them. */
  get owesResend(): boolean {
    return this.resendTo.size > 0;
  }

  /**
   * A member says it owes the masters a re-send (`owes` in its announcement), or still
   * announces a minority's master set: it is back from the other side of a partition, or
   * restarted, and may hold writes acknowledged where we did not see them. Until its re-send
   * arrives (at most `gatherMs`), this master says it is syncing, so that a read of such a key
   * answers 503, not 404, and our answers alone do not end a lookup.
   */
  awaitResend(id: string): void {
    const { now, phase, log } = this.options;
    if (!this.isMaster || !this.masters.quorum || phase() !== 'ready') return;
    if (this.awaited.has(id) || this.gaveUp.has(id)) return;
    // Its announcement may come after its re-send, which was on its way first.
    if (now() - (this.resentAt.get(id) ?? Number.NEGATIVE_INFINITY) < this.options.gatherMs) return;
    this.awaited.set(id, now() + this.options.gatherMs);
    log.info({ member: id }, 'awaiting the re-send of a member back from elsewhere');
    this.options.announce();
  }

  /** A member says it owes nothing (any more): a later debt of its is awaited again. */
  owesNothing(id: string): void {
    this.gaveUp.delete(id);
  }

  /** A member's re-send of its primary entries arrived (see awaitResend). */
  resentFrom(id: string): void {
    if (!this.options.membership.get(id)) return; // only members: the map stays bounded
    this.resentAt.set(id, this.options.now());
    if (this.awaited.delete(id) && !this.syncing) this.options.announce();
  }

  /**
   * This master was stalled long enough to be counted dead: another may have taken its place
   * and taken writes it never saw. For a few announce intervals, time to hear the set the
   * others use now, it says it is syncing, so that neither its answers nor its own reads are
   * taken for a master's word.
   */
  stalled(): void {
    if (!this.isMaster || this.options.phase() !== 'ready') return;
    this.gatheringUntil = this.options.now() + this.options.gatherMs;
    this.options.log.info('master back from a stall: syncing until it hears the others');
  }

  /** A master's HTTP address, if it is known. */
  httpOf(id: string): string | undefined {
    return this.options.membership.get(id)?.http;
  }

  /** Whether this node came back from a minority's side less than `gatherMs` ago. */
  private get justRejoined(): boolean {
    return this.options.now() - this.rejoinedAt < this.options.gatherMs;
  }

  /** Adopts a master set heard from another node if it is better than ours. */
  consider(set: MasterSet, source: string): void {
    if (set.epoch === 0 || !isBetterSet(set, this.masters)) return;
    this.adopt({ ...set, ids: [...set.ids].sort() }, source);
  }

  /**
   * A member announced itself: a master still owed our re-send (one we had not heard from when
   * we adopted its set, as after a partition heals) gets it now, not at the next tick.
   */
  heardFrom(id: string): void {
    if (this.resendTo.has(id) && this.options.membership.isAlive(id)) void this.resendPrimaries();
  }

  /**
   * A master found dead by a failed write and a failed probe: forgotten until it announces.
   * Not when it announced itself after `since` (when the write began: the request failed for
   * another reason, such as a partition it was sent across), nor just after we rejoined the
   * majority (see maybeElect). Returns whether it was forgotten.
   */
  forgetDead(id: string, since: number): boolean {
    const heard = this.options.membership.get(id)?.lastSeen ?? Number.NEGATIVE_INFINITY;
    if (heard > since || this.justRejoined) return false;
    return this.options.membership.forget(id);
  }

  /** Elects a new set if a master is missing (dead, left) or there are too few. */
  maybeElect(): void {
    const { phase, membership, metrics, log } = this.options;
    if (phase() !== 'ready') return;
    // Just back from a minority's side, our news of who is alive is old (requests to the
    // majority's masters started during the partition fail for that): the majority's set
    // stands, and our own election waits a few intervals.
    if (this.justRejoined) return;
    this.options.refreshSelf();
    const alive = membership.aliveMembers();
    const unheard = this.options.unheard?.() ?? 0;
    const known = membership.knownCount() + unheard;
    const fresh = membership.freshCount();
    // A set elected before we found we are cut off (alone at start, say) is no majority's.
    const cutOff = unheard > 0 && this.masters.quorum && fresh * 2 <= known;
    if (!cutOff && !needsElection(this.masters, alive, known, fresh)) return;
    const next = electMasters(this.masters, alive, known, fresh);
    metrics.elections.inc();
    log.info(
      {
        from: this.masters,
        to: next,
        alive: alive.map((m) => `${m.id}(${m.keys})`),
        known,
        fresh,
      },
      'election',
    );
    this.adopt(next, 'election');
  }

  /** Each announce interval: re-elect if needed, resume a stalled sync, retry re-sends. */
  tick(): void {
    this.maybeElect();
    // A source that looks dead is not given up here: if it is, the election above has replaced
    // it and adopt() took care of us; if it only stalled, the sync resumes when it is back.
    const { phase, membership } = this.options;
    if (phase() === 'ready' && this.syncSource && membership.isAlive(this.syncSource)) {
      void this.syncFromSurvivor();
    }
    if (this.resendTo.size > 0) void this.resendPrimaries();
  }

  private adopt(next: MasterSet, source: string): void {
    const { selfId, membership, phase } = this.options;
    const previous = this.masters;
    // Survivors are masters of the previous set that held everything: alive and ready. A
    // master that was still syncing when its source died holds only part of the data.
    const survivors = next.ids.filter((id) =>
      id === selfId
        ? previous.ids.includes(id) && phase() === 'ready' && !this.syncing
        : previous.ids.includes(id) &&
          membership.isAlive(id) &&
          membership.get(id)?.state === 'ready',
    );
    const wasMaster = previous.ids.includes(selfId);
    // Back from a minority's side to the majority's set (see maybeElect).
    if (source !== 'election' && previous.epoch > 0 && !previous.quorum && next.quorum) {
      this.rejoinedAt = this.options.now();
    }
    this.masters = next;
    this.options.metrics.masterChanges.inc();
    const { epoch, ids, quorum } = next;
    this.options.log.info({ epoch, masters: ids, quorum, source }, 'master set changed');
    this.options.onChange?.(next);
    const survivor = survivors.find((id) => id !== selfId);
    if (this.isMaster && !survivors.includes(selfId) && phase() !== 'joining') {
      if (survivor) {
        // The sync goes both ways: the survivor gets our primary entries too. It has every
        // write acknowledged through us already, unless it became ready for want of a
        // complete master and still waits for the re-sends of the writes only we hold.
        this.syncSource = survivor;
        this.resendTo.set(survivor, ++this.resendRequests);
        void this.syncFromSurvivor();
      } else {
        // Our sync source, if any, is gone and no complete master is left: every node re-sends
        // what it holds to the new masters (below). Until they all had time to, this master
        // is not complete: it says so (syncing), so that no node takes it for a survivor and
        // leaves a later new master to sync from it what it has not gathered yet.
        this.syncSource = undefined;
        if (previous.epoch > 0) this.gatheringUntil = this.options.now() + this.options.gatherMs;
      }
    } else if (!this.isMaster) {
      this.syncSource = undefined;
      this.gatheringUntil = 0;
    }
    // No survivor (both masters lost, or a partition healed and the other side's set won),
    // or this node just joined, perhaps with entries from its data dir that the masters never
    // saw, or it was a master and is no more (it may hold versions the new masters lack, or
    // older ones they will invalidate): the new masters get every primary entry we hold.
    if (
      (survivors.length === 0 &&
        (previous.epoch > 0 || this.options.data.store.primaryCount > 0)) ||
      (wasMaster && !this.isMaster)
    ) {
      for (const id of next.ids) if (id !== selfId) this.resendTo.set(id, ++this.resendRequests);
    }
    for (const id of this.resendTo.keys()) if (!next.ids.includes(id)) this.resendTo.delete(id);
    if (this.resendTo.size > 0) void this.resendPrimaries();
    if (phase() !== 'joining') this.options.announce();
  }

  /** A new master streams every entry from the surviving master, merging by version. */
  private async syncFromSurvivor(): Promise<void> {
    const { membership, peers, data, metrics, log } = this.options;
    const source = this.syncSource;
    const member = source && membership.get(source);
    if (!source || !member || this.syncRunning) return;
    this.syncRunning = true;
    const started = performance.now();
    let applied = 0;
    try {
      log.info({ from: source }, 'sync started');
      applied = await data.keepAll(peers.sync(member.http));
      const seconds = (performance.now() - started) / 1000;
      metrics.syncSeconds.observe(seconds);
      metrics.syncEntries.inc(applied);
      log.info({ from: source, applied, seconds }, 'sync finished');
      if (this.syncSource === source) {
        this.syncSource = undefined;
        this.options.announce();
      }
    } catch (error) {
      // Retried at the next tick while we are still a syncing master.
      log.warn({ from: source, applied, err: error }, 'sync failed');
    } finally {
      this.syncRunning = false;
    }
  }

  /**
   * Sends every primary entry we hold to the new masters (see adopt). A master not heard from
   * yet (forgotten during a long partition) or that fails is tried again at the next tick.
   */
  private resendPrimaries(): Promise<void> {
    this.resending ??= this.resendEach().finally(() => {
      this.resending = undefined;
    });
    return this.resending;
  }

  /**
   * Waits for the re-send of our primary entries to the masters that still lack it; true when
   * none is left to do (false: a master did not take it, it is retried at the next tick).
   */
  async resent(): Promise<boolean> {
    if (this.resendTo.size > 0) await this.resendPrimaries();
    return this.resendTo.size === 0;
  }

  private async resendEach(): Promise<void> {
    const { membership, peers, data, log } = this.options;
    for (const [id, request] of [...this.resendTo]) {
      const member = membership.get(id);
      if (!member || !membership.isAlive(id)) continue;
      try {
        const ack = await peers.sendEntries(
          member.http,
          data.store.primaryEntries(),
          this.options.selfId,
        );
        // Asked again while this one was under way: the next tick sends what is held now.
        if (this.resendTo.get(id) === request) this.resendTo.delete(id);
        for (const [key, version] of ack.newer ?? []) {
          const parsed = parseVersion(version);
          if (parsed) this.options.onNewer?.(key, parsed);
        }
        log.info(
          {
            to: id,
            applied: ack.applied,
            newer: ack.newer?.length ?? 0,
            held: data.store.primaryCount,
          },
          're-sent primary entries',
        );
      } catch (error) {
        log.warn({ to: id, err: error }, 're-send of primary entries failed');
      }
    }
  }
}
