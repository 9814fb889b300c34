import type { Version } from './version.js';

/** How many of them a node remembers: a write made long before is rarely refused later. */
const REMEMBERED = 10_000;

/**
 * This node's writes it kept and then answered with an error (the masters did not acknowledge
 * them as --write-acks requires): key → version, the last REMEMBERED of them, in memory. One
 * whose version turns out to be further ahead of the clock than any node admits was stamped by
 * this clock while it was wrong (it jumped, and was put right; the masters refused it), and the
 * node withdraws it (LocalData.withdraw): the client was told it failed, and kept, it would be
 * served here and re-sent to the masters at each change of theirs until their clocks caught
 * up with it, then win over every later write of the key. A write that was acknowledged (by a
 * minority's master set, during a partition) is never withdrawn.
 */
export class UnacknowledgedWrites {
  private readonly writes = new Map<string, Version>();

  add(key: string, version: Version): void {
    this.writes.delete(key);
    this.writes.set(key, version);
    if (this.writes.size > REMEMBERED) {
      const oldest = this.writes.keys().next().value as string;
      this.writes.delete(oldest);
    }
  }

  /** Forgets, and returns, the writes whose versions `admits` (the clock's rule) refuses. */
  takeRefused(admits: (version: Version) => boolean): [string, Version][] {
    const refused: [string, Version][] = [];
    for (const [key, version] of this.writes) {
      if (!admits(version)) refused.push([key, version]);
    }
    for (const [key] of refused) this.writes.delete(key);
    return refused;
  }
}
