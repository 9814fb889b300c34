import { isNewer, type Version } from './version.js';
import { type Change, packChanges } from './wire.js';

/**
 * A master's invalidations, gathered during one turn of the event loop and multicast
 * together, as many keys to a packet as fit (packChanges). A batch of replicated writes then
 * costs a few packets instead of one per write, for the master and for every node that
 * receives them.
 */
export class InvalidationQueue {
  /** Key hash → newest version changed this turn (a key written twice is named once). */
  private pending = new Map<string, Version>();
  private scheduled = false;

  /** Number of the last packet sent; receivers notice a lost one by the gap (freshness.ts). */
  private seq = 0;

  constructor(private readonly send: (changes: Change[], seq: number) => void) {}

  /** Number of the last invalidation packet sent (0: none yet), for announcements. */
  get lastSeq(): number {
    return this.seq;
  }

  /** Queues a change; it leaves at the end of this turn of the event loop. */
  add(keyHash: string, version: Version): void {
    if (isNewer(version, this.pending.get(keyHash))) this.pending.set(keyHash, version);
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(() => this.flush());
  }

  /** Sends what is queued now. */
  flush(): void {
    this.scheduled = false;
    const changes = [...this.pending].map(([keyHash, version]) => ({ keyHash, version }));
    this.pending = new Map();
    for (const packet of packChanges(changes)) {
      this.seq++;
      this.send(packet, this.seq);
    }
  }
}
