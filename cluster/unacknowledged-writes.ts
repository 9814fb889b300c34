import { formatVersion, type Version } from './version.js';

/** How many of them a node remembers: a write made long before is rarely refused later. */
const REMEMBERED = 10_000;

/**
 * This node's writes it kept and then answered with an error (the masters did not acknowledge
 * them as --write-acks requires): key → version, the last REMEMBERED of them, in memory. When a
 * master refuses one of them in a re-send as stamped too far ahead of its clock, our clock was
 * wrong when it was made, and the node withdraws it (LocalData.withdraw): the client was told
 * it failed, and kept, it would be re-sent at each master change until the masters' clocks
 * caught up with it, then win over every later write of the key. A write that was
 * acknowledged (by a minority's master set, during a partition) is never withdrawn.
 */
export class UnacknowledgedWrites {
  private readonly writes = new Map<string, string>();

  add(key: string, version: Version): void {
    this.writes.delete(key);
    this.writes.set(key, formatVersion(version));
    if (this.writes.size > REMEMBERED) {
      const oldest = this.writes.keys().next().value as string;
      this.writes.delete(oldest);
    }
  }

  /** Whether the write of `key` at `version` was answered with an error (and is remembered). */
  has(key: string, version: Version): boolean {
    return this.writes.get(key) === formatVersion(version);
  }
}
