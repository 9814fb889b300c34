import type { Logger } from 'pino';
import type { DurableStore } from './durable-store.js';
import type { Entry } from './entry.js';
import type { Store } from './store.js';
import type { HybridClock, Version } from './version.js';

/**
 * This node's entries: the in-memory store and, with a data dir, its durable copy. Every
 * change of a primary entry goes through here so that memory and disk never disagree.
 */
export class LocalData {
  constructor(
    readonly store: Store,
    private readonly durable: DurableStore | undefined,
    private readonly clock: HybridClock,
    private readonly log: Logger,
  ) {}

  /** Loads the data dir into memory at start; returns the number of entries. */
  load(): number {
    if (!this.durable) return 0;
    for (const [key, entry] of this.durable.entries()) {
      this.clock.observe(entry.version);
      this.store.putPrimary(key, entry);
    }
    this.sweep();
    return this.store.primaryCount;
  }

  /**
   * Holds an entry as primary if it is newer than the primary entry held (Store.putPrimary),
   * and persists what is then held; resolves after the commit to disk, so nothing is
   * acknowledged before it is durable. Returns whether the primary entry changed.
   */
  async keep(key: string, entry: Entry): Promise<boolean> {
    this.clock.observe(entry.version);
    const kept = this.store.putPrimary(key, entry);
    if (!kept) return false;
    await this.durable?.put(key, kept);
    return true;
  }

  /** keep() for a stream; the disk writes overlap (lmdb commits them in batches). */
  async keepAll(entries: AsyncIterable<[string, Entry]>): Promise<number> {
    let applied = 0;
    let writes: Promise<void>[] = [];
    for await (const [key, entry] of entries) {
      this.clock.observe(entry.version);
      const kept = this.store.putPrimary(key, entry);
      if (!kept) continue;
      applied++;
      if (this.durable) writes.push(this.durable.put(key, kept));
      if (writes.length >= 10_000) {
        await Promise.all(writes);
        writes = [];
      }
    }
    await Promise.all(writes);
    return applied;
  }

  /** Drops a copy older than `version` (see Store.invalidate), from disk too if primary. */
  dropSuperseded(key: string, version: Version, primaryToo: boolean): void {
    if (this.store.invalidate(key, version, primaryToo) === 'primary') this.forget(key);
  }

  /** Drops expired entries and old tombstones, here and on disk. */
  sweep(): void {
    for (const key of this.store.sweep()) this.forget(key);
  }

  private forget(key: string): void {
    this.durable?.remove(key).catch((error) => {
      this.log.error({ key, err: String(error) }, 'cannot remove an entry from the data dir');
    });
  }
}
