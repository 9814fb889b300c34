import type { Logger } from 'pino';
import type { DurableStore, StorageState } from './durable-store.js';
import type { Entry } from './entry.js';
import type { ReceivedEntry } from './entry-codec.js';
import type { Store } from './store.js';
import { formatVersion, type HybridClock, type Version } from './version.js';

/**
 * Entries of a stream applied in one event turn (keepAll): this many, or fewer when their
 * values reach the byte bound (large values). lmdb commits a window in one transaction, or
 * several together when they queue behind a commit. Up to KEEP_IN_FLIGHT windows wait for
 * their commit, so at most 10,000 entries and 16 MiB of values are held for a stream.
 */
const KEEP_WINDOW = 1000;
const KEEP_WINDOW_BYTES = 1.6 * 1024 * 1024;
const KEEP_IN_FLIGHT = 10;

/**
 * This node's entries: the store, whose primary tier is the data dir when there is one. Every
 * change of a primary entry goes through here: it is answered only once stored.
 */
export class LocalData {
  constructor(
    readonly store: Store,
    private readonly durable: DurableStore | undefined,
    private readonly clock: HybridClock,
    private readonly log: Logger,
    /** Told of every entry from outside refused for a version too far ahead (see keepAll). */
    private readonly onRefused: (key: string, version: Version) => void = () => {},
    /** Told of every write the data dir could not store (a full disk, a failed commit). */
    private readonly onStorageError: (error: unknown) => void = () => {},
  ) {}

  /** Whether writes can be stored here ('memory': no data dir, nothing to run out of). */
  get storage(): StorageState | 'memory' {
    return this.durable?.storage ?? 'memory';
  }

  /** The data dir's file and map sizes; undefined without one. */
  get disk(): { fileBytes: number; mapBytes: number } | undefined {
    return this.durable?.disk;
  }

  /**
   * Readies the entries at start: the clock moves past the newest version stored (so this
   * node's next write is newer than any it holds). Nothing is read into memory: with a data
   * dir, entries are read from it when asked; what ran out while stopped is never served (reads
   * check expiry) and goes with the sweeps of the following ticks. Returns the entries held.
   */
  load(): number {
    const newest = this.store.newestPrimary;
    // A version stored from before the skew bound existed is kept, but never moves the clock.
    if (newest && !this.clock.observe(newest)) {
      this.log.warn(
        { newest: formatVersion(newest) },
        'entries in the data dir are versioned ahead of this clock; they do not move it',
      );
    }
    return this.store.primaryCount;
  }

  /**
   * Holds an entry as primary if it is newer than the primary entry held (Store.putPrimary),
   * and persists what is then held; resolves after the commit to disk, so nothing is
   * acknowledged before it is durable. Returns whether the primary entry changed; throws
   * VersionAheadError, changing nothing, for a version too far ahead of our clock, and
   * StorageError, memory put back as it was, when the data dir cannot store it. `frame`:
   * the entry's as another node sent it (see ReceivedEntry).
   */
  async keep(key: string, entry: Entry, frame?: Buffer): Promise<boolean> {
    this.clock.check(entry.version);
    this.clock.observe(entry.version);
    const held = this.store.putPrimary(key, entry, frame);
    if (!held) return false;
    await this.stored(held.stored);
    return true;
  }

  /**
   * keep() for a stream, a window of entries at a time (see KEEP_WINDOW). A sync from another
   * data dir arrives in this one's order, so its entries fill pages one after the other; the
   * entries of other streams land at random places, and the windows queued behind a commit
   * make one transaction, which copies and syncs each page once for the keys it takes. Small
   * windows with several in flight cost a sync in order 12-15 % less CPU than windows of
   * 10,000 with two in flight (their entries die young), and a stream in random order the
   * same time (measured in-process, 1 M entries). An entry too far ahead of our clock is
   * skipped and reported to onRefused; the rest are kept.
   */
  async keepAll(entries: AsyncIterable<ReceivedEntry>): Promise<number> {
    let applied = 0;
    let window: ReceivedEntry[] = [];
    let windowBytes = 0;
    const committing: Promise<unknown>[] = [];
    let refusal: unknown;
    const apply = async () => {
      // The disk is full: the rest would be refused too, and the sender will send them again.
      if (refusal) {
        this.onStorageError(refusal);
        throw refusal;
      }
      const writes = new Set<Promise<void>>();
      for (const [key, entry, frame] of window) {
        if (!this.clock.observe(entry.version)) {
          this.onRefused(key, entry.version);
          continue;
        }
        const held = this.store.putPrimary(key, entry, frame);
        if (!held) continue;
        applied++;
        // Writes of one disk batch share a promise: waited on once.
        writes.add(held.stored);
      }
      window = [];
      windowBytes = 0;
      // The oldest window must be on disk before another is let go.
      const oldest = committing.length === KEEP_IN_FLIGHT ? committing.shift() : undefined;
      if (oldest) await this.stored(oldest);
      const commit = Promise.all(writes);
      commit.catch((error: unknown) => {
        refusal ??= error; // reported and thrown by the next window, or awaited at the end
      });
      committing.push(commit);
    };
    for await (const item of entries) {
      window.push(item);
      windowBytes += item[1].value.length;
      if (window.length === KEEP_WINDOW || windowBytes >= KEEP_WINDOW_BYTES) await apply();
    }
    await apply();
    for (const commit of committing) await this.stored(commit);
    return applied;
  }

  /** Waits for a change to be stored; a failure is reported, then thrown. */
  private async stored(storing: Promise<unknown>): Promise<void> {
    try {
      await storing;
    } catch (error) {
      this.onStorageError(error);
      throw error;
    }
  }

  /**
   * Drops this node's own write of `key` at `version`, unless a newer one replaced it: a
   * version stamped by a clock found wrong, which no master took (see UnacknowledgedWrites).
   * Returns whether it was dropped.
   */
  async withdraw(key: string, version: Version): Promise<boolean> {
    const removed = this.store.withdraw(key, version);
    if (!removed) return false;
    this.log.warn(
      { key, version: formatVersion(version) },
      'withdrew a write stamped by a wrong clock',
    );
    await this.stored(removed);
    return true;
  }

  /** Drops expired entries and old tombstones, here and on disk. */
  sweep(): void {
    for (const [key, removed] of this.store.sweep()) {
      removed.catch((error) => {
        this.log.error({ key, err: error }, 'cannot remove an entry from the data dir');
      });
    }
  }
}
