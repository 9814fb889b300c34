/**
 * Members this node cannot hear because of a clock: with a cluster secret, a packet stamped
 * more than the signing window from our clock is refused (signing.ts), though authentic. Its
 * sender exists and holds the secret; either its clock or ours is wrong, and until that is
 * fixed neither hears the other. The stamps tell which: they join the clocks of the members
 * we do hear, and if their median puts us off, we are the node that is cut off (DistNode).
 *
 * Only authentic packets get here, so a stranger cannot make up members; an eavesdropper can
 * replay old ones. Each is kept for one dead-member interval, so a replay weighs only while it
 * lasts, and a member we hear is never counted here. What the evidence can do is make a node
 * refuse writes and leave misses unsettled, never accept anything.
 */
export class UntimelyMembers {
  /** Each sender's latest stamp minus our clock when it arrived (ms), and when that was. */
  private readonly members = new Map<string, { aheadMs: number; at: number }>();

  constructor(
    private readonly options: {
      /** The monotonic clock (Clock.monotonic). */
      now: () => number;
      /** Forgotten when not heard for this long (the dead-member limit). */
      forgetAfterMs: number;
      /** At most this many are kept (--max-members): replays cannot grow the map. */
      max: number;
    },
  ) {}

  /** An authentic announcement of `id`, stamped `aheadMs` from our clock, was refused. */
  heard(id: string, aheadMs: number): void {
    if (!this.members.has(id) && this.members.size >= this.options.max) {
      this.forgetOld();
      if (this.members.size >= this.options.max) return;
    }
    this.members.set(id, { aheadMs, at: this.options.now() });
  }

  /** Whether none is kept: no packet was refused for its stamp lately (the usual case). */
  get empty(): boolean {
    return this.members.size === 0;
  }

  /** Those heard lately, each with its clock minus ours (ms), sorted by id. */
  recent(): { id: string; offsetMs: number }[] {
    this.forgetOld();
    return [...this.members]
      .map(([id, { aheadMs }]) => ({ id, offsetMs: aheadMs }))
      .sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  }

  private forgetOld(): void {
    const since = this.options.now() - this.options.forgetAfterMs;
    for (const [id, { at }] of this.members) if (at < since) this.members.delete(id);
  }
}
