import type { Announce, NodeState } from './wire.js';

/** What this node knows of another (or itself), from its latest announcement. */
export interface Member {
  id: string;
  http: string;
  keys: number;
  epoch: number;
  masters: string[];
  state: NodeState;
  boot: string;
  /** When its latest announcement arrived, on the monotonic clock (ms). */
  lastSeen: number;
  /** Its wall clock minus ours when its announcement arrived (ms); undefined if it sent none. */
  clockOffsetMs?: number | undefined;
}

export interface MembershipOptions {
  /** The wall clock: a member's clock offset is its announced clock minus this. */
  now: () => number;
  /** A clock that never jumps (Clock.monotonic): members' silences are measured on it. */
  monotonic: () => number;
  /** A member not heard from for this long is dead (3 × the announce interval). */
  deadAfterMs: number;
  /**
   * A member counts towards an election's quorum only if heard within this (2 × the announce
   * interval; default: deadAfterMs). See freshCount.
   */
  freshWithinMs?: number;
}

/** The members of the cluster as this node sees them, and which of them are alive. */
export class Membership {
  private readonly members = new Map<string, Member>();

  constructor(private readonly options: MembershipOptions) {}

  /** Records an announcement (or census answer). */
  heard(announce: Announce): Member {
    const now = this.options.now();
    const at = this.options.monotonic();
    const member: Member = {
      id: announce.node,
      http: announce.http,
      keys: announce.keys,
      epoch: announce.epoch,
      masters: announce.masters,
      state: announce.state,
      boot: announce.boot,
      lastSeen: at,
      clockOffsetMs: announce.clock === undefined ? undefined : announce.clock - now,
    };
    this.members.set(member.id, member);
    return member;
  }

  /** Forgets a member that said goodbye or was confirmed dead; it returns when it announces. */
  forget(id: string): boolean {
    return this.members.delete(id);
  }

  /** Members remembered, alive or not. */
  get size(): number {
    return this.members.size;
  }

  get(id: string): Member | undefined {
    return this.members.get(id);
  }

  isAlive(id: string): boolean {
    const member = this.members.get(id);
    return member !== undefined && this.alive(member);
  }

  /** Members heard from recently that are not leaving, sorted by id. */
  aliveMembers(): Member[] {
    return [...this.members.values()].filter((m) => this.alive(m)).sort(byId);
  }

  /**
   * How many alive members were heard within `freshWithinMs`: those an election may count for
   * its quorum. Masters are replaced when silent for `deadAfterMs`; members cut off with them
   * by a partition have then been silent almost as long, though still counted alive, and must
   * not make a minority believe it holds a majority.
   */
  freshCount(): number {
    const since =
      this.options.monotonic() - (this.options.freshWithinMs ?? this.options.deadAfterMs);
    let fresh = 0;
    for (const member of this.members.values()) {
      if (this.alive(member) && member.lastSeen >= since) fresh++;
    }
    return fresh;
  }

  /**
   * How many members count towards a quorum: every one remembered, alive or silent, except
   * those that said goodbye (a node shut down on purpose does not make the rest a minority).
   */
  knownCount(): number {
    let known = 0;
    for (const member of this.members.values()) if (member.state !== 'leaving') known++;
    return known;
  }

  /** Every member still remembered, alive or not, sorted by id (for /status). */
  all(): Member[] {
    return [...this.members.values()].sort(byId);
  }

  /** Drops members silent for much longer than the dead limit, so the map stays bounded. */
  prune(): void {
    const cutoff = this.options.monotonic() - 10 * this.options.deadAfterMs;
    for (const [id, member] of this.members) if (member.lastSeen < cutoff) this.members.delete(id);
  }

  /**
   * Treats everyone as just heard. Used after this process itself was stalled (paused, swapped
   * out): silence we did not listen for is no evidence of death.
   */
  pardon(): void {
    const now = this.options.monotonic();
    for (const member of this.members.values()) member.lastSeen = now;
  }

  private alive(member: Member): boolean {
    return (
      member.state !== 'leaving' &&
      this.options.monotonic() - member.lastSeen <= this.options.deadAfterMs
    );
  }
}

function byId(a: Member, b: Member): number {
  return a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
}
