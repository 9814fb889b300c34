import type { Entry } from './entry.js';
import { encodeEntry } from './entry-codec.js';
import { HotEntries } from './hot-entries.js';
import { KeyIndex } from './key-index.js';
import { EntryPacker, isTombstone, valueLengthOf } from './packed-entry.js';
import { SortedKeys } from './sorted-keys.js';
import { isNewer, type Version } from './version.js';
import { walkBudgetSpent } from './walk-budget.js';

/**
 * Where a node's primary entries (written here, or held as a master; tombstones included)
 * live: in the heap without a data dir (MemoryPrimary), in lmdb with one (durable-store.ts).
 * The Store decides what is newer and what has expired; a tier only holds.
 */
export interface PrimaryTier {
  /** The entry held for `key`, expired or not. */
  get(key: string): Entry | undefined;
  /**
   * The version `get` would give, read without the value (an invalidation asks only that) and
   * without making the entry one of the last read.
   */
  versionOf(key: string): Version | undefined;
  /**
   * Holds `entry` for `key`, replacing `before` (what `get` gave just now): `get` sees it at
   * once. Resolves once it is stored for good; rejects with StorageError, and `get` gives
   * `before` again, when it cannot be stored. `frame`, when given, is `entry`'s for `key`
   * (entry-codec.ts), as another node sent it: the data dir stores it as it is.
   */
  put(key: string, entry: Entry, before: Entry | undefined, frame?: Buffer): Promise<void>;
  /** Stops holding `key` (an expired entry, a collected tombstone). */
  remove(key: string): Promise<void>;
  /** The held key a who-has hash names. */
  keyForHash(hash: string): string | undefined;
  /** Every entry held, for a re-send. */
  entries(): Iterable<[string, Entry]>;
  /** Every entry held as its frame (entry-codec.ts), for a sync stream. */
  frames(): Iterable<Buffer>;
  /** The keys a client may read at `now` (no tombstone, no expiry passed), values unread. */
  readableKeys(now: number): Iterable<string>;
  /**
   * readableKeys in the tier's own order (the heap's: by key; lmdb's: by key hash, then key),
   * from just after `after` (from the first without it): SCAN's walk. A key written during
   * the walk may be missed; one held throughout is not.
   */
  readableKeysAfter(after: string | undefined, now: number): Iterable<string>;
  /**
   * Keys due to be swept (see isDue) among the next keys of a walk over all of them, as many
   * as `rule.budgetMs` allows; the next call takes up where this one stopped.
   */
  dueKeys(rule: SweepRule): string[];
  /** Entries held, tombstones included. */
  readonly count: number;
  /** Tombstones held (of `count`). */
  readonly tombstones: number;
  /** Value bytes held. */
  readonly bytes: number;
  /** The newest version ever held here, for the clock at start. */
  readonly newest: Version | undefined;
}

/** When a sweep removes an entry (wall-clock ms). */
export interface SweepRule {
  now: number;
  /** Tombstones whose version is older than this are collected. */
  tombstoneCutoff: number;
  /** How long (ms of the process's time) one step may walk: it stops at a check past it. */
  budgetMs: number;
}

/** Whether an entry is past its per-key expiry, or a tombstone older than the cutoff. */
export function isDue(
  rule: SweepRule,
  deleted: boolean,
  wall: number,
  expiresAt: number | undefined,
): boolean {
  return (
    (expiresAt !== undefined && expiresAt <= rule.now) || (deleted && wall < rule.tombstoneCutoff)
  );
}

/**
 * Entries of the heap tier read lately (see HotEntries), kept decoded (unpacking copies the
 * value and builds the version): values of at most 4 KiB, so they hold at most 4 MiB beside
 * the packed ones.
 */
const HOT_ENTRIES = 1024;
const HOT_MAX_VALUE_BYTES = 4 * 1024;

/** The primary tier in the heap: a Map of packed entries (packed-entry.ts) and a hash index. */
export class MemoryPrimary implements PrimaryTier {
  /** Key → packed entry. */
  private readonly held = new Map<string, string>();
  private readonly packer = new EntryPacker();
  private readonly hot = new HotEntries(HOT_ENTRIES, HOT_MAX_VALUE_BYTES);
  private readonly byHash: KeyIndex;
  private bytesHeld = 0;
  private tombstonesHeld = 0;
  private newestHeld: Version | undefined;
  private readonly sorted = new SortedKeys(() => this.held.keys());
  /** Where the expiry sweep's walk stands (undefined: a new walk starts at the next step). */
  private sweepWalk: MapIterator<[string, string]> | undefined;

  /** `hashKey` is the key's hash as who-has queries name it. */
  constructor(hashKey: (key: string) => string) {
    this.byHash = new KeyIndex(hashKey);
  }

  get(key: string): Entry | undefined {
    const hot = this.hot.get(key);
    if (hot) return hot;
    const packed = this.held.get(key);
    if (packed === undefined) return undefined;
    const entry = this.packer.unpackEntry(packed);
    this.hot.keep(key, entry);
    return entry;
  }

  versionOf(key: string): Version | undefined {
    const hot = this.hot.get(key);
    if (hot) return hot.version;
    const packed = this.held.get(key);
    return packed === undefined ? undefined : this.packer.versionOf(packed);
  }

  put(key: string, entry: Entry, _before: Entry | undefined): Promise<void> {
    this.hot.forget(key);
    const replaced = this.held.get(key);
    this.bytesHeld += entry.value.length - (replaced === undefined ? 0 : valueLengthOf(replaced));
    this.tombstonesHeld +=
      Number(entry.deleted === true) - Number(replaced !== undefined && isTombstone(replaced));
    this.held.set(key, this.packer.packEntry(entry));
    // A key held already is indexed: no hash of it again on every write.
    if (replaced === undefined) {
      this.byHash.add(key);
      this.sorted.add(key);
    }
    if (isNewer(entry.version, this.newestHeld)) this.newestHeld = entry.version;
    return Promise.resolve();
  }

  remove(key: string): Promise<void> {
    this.hot.forget(key);
    const packed = this.held.get(key);
    if (packed !== undefined) {
      this.held.delete(key);
      this.bytesHeld -= valueLengthOf(packed);
      if (isTombstone(packed)) this.tombstonesHeld--;
      this.byHash.remove(key);
    }
    return Promise.resolve();
  }

  keyForHash(hash: string): string | undefined {
    return this.byHash.find(hash);
  }

  *entries(): IterableIterator<[string, Entry]> {
    for (const [key, packed] of this.held) yield [key, this.packer.unpackEntry(packed)];
  }

  *frames(): Generator<Buffer> {
    for (const [key, entry] of this.entries()) yield encodeEntry(key, entry);
  }

  *readableKeys(now: number): Generator<string> {
    for (const [key, packed] of this.held) if (this.readable(packed, now)) yield key;
  }

  *readableKeysAfter(after: string | undefined, now: number): Generator<string> {
    for (const key of this.sorted.after(after)) {
      const packed = this.held.get(key);
      if (packed !== undefined && this.readable(packed, now)) yield key;
    }
  }

  private readable(packed: string, now: number): boolean {
    const expiresAt = this.packer.expiresAtOf(packed);
    return !isTombstone(packed) && (expiresAt === undefined || expiresAt > now);
  }

  dueKeys(rule: SweepRule): string[] {
    const started = performance.now();
    const due: string[] = [];
    const { packer } = this;
    // A Map's iterator survives changes: a key removed is not met, one added is met later.
    this.sweepWalk ??= this.held.entries();
    for (let walked = 1; ; walked++) {
      const next = this.sweepWalk.next();
      if (next.done) {
        this.sweepWalk = undefined;
        break;
      }
      const [key, packed] = next.value;
      if (isDue(rule, isTombstone(packed), packer.wallOf(packed), packer.expiresAtOf(packed)))
        due.push(key);
      if (walkBudgetSpent(walked, started, rule.budgetMs)) break;
    }
    return due;
  }

  get count(): number {
    return this.held.size;
  }

  get tombstones(): number {
    return this.tombstonesHeld;
  }

  get bytes(): number {
    return this.bytesHeld;
  }

  get newest(): Version | undefined {
    return this.newestHeld;
  }
}
