import { CacheTier } from './cache-tier.js';
import type { Entry } from './entry.js';
import { KeyIndex } from './key-index.js';
import { isDue, MemoryPrimary, type PrimaryTier } from './primary-tier.js';
import { SortedKeys } from './sorted-keys.js';
import { compareVersions, isNewer, type Version } from './version.js';

/**
 * How long one sweep step (one a tick) may walk the primary entries. It runs in the event
 * loop, so every answer waits for it: walking all of 1 M entries took 25–75 ms in the heap,
 * a slice of 20,000 in lmdb 20–50 ms (measured), and an idle node with 1 M entries in lmdb
 * showed event loop delays of 47–150 ms (15–20 ms with these steps, as with no sweep). At 3
 * ms a step, a walk over 1 M entries takes 21 steps in the heap and 908 in lmdb (measured):
 * about 20 s and 15 min at one step a second. Expired entries are hidden from every read
 * meanwhile; the sweep only reclaims their room.
 */
const SWEEP_STEP_MS = 3;

export interface StoreOptions {
  /** Seconds a cached copy (fetched from another node) is kept. */
  cacheTtlSeconds: number;
  /** Bounds of the cached-copy tier (0: none); primary entries are never evicted. */
  cacheMaxKeys: number;
  cacheMaxBytes: number;
  /** Seconds a tombstone is kept before it is collected. */
  tombstoneTtlSeconds: number;
  /** The key's hash as who-has queries name it. */
  hashKey: (key: string) => string;
  /** Wall clock in ms (per-key expiry and tombstone age are wall-clock facts). */
  now: () => number;
}

/**
 * The node's two tiers: primary entries (written here, or held as a master, tombstones
 * included; see primary-tier.ts for where they live) never expire unless given a per-key TTL;
 * cached copies fetched from the cluster expire after the cache TTL. Both merge by version.
 */
/** Where a walk of the keys stands: in which tier, after which key (Store.scanKeys). */
export interface ScanPosition {
  tier: 'primary' | 'cached';
  after: string | undefined;
}

export interface ScanPage {
  keys: string[];
  /** Where the next page starts; undefined: the walk is over. */
  next: ScanPosition | undefined;
}

export class Store {
  private readonly cache: CacheTier;
  /** Who-has hashes of the cached copies (the primary tier indexes its own). */
  private readonly cachedByHash: KeyIndex;
  private readonly sortedCached = new SortedKeys(() => this.cache.keys());
  /**
   * Primary entries a master said are superseded (an invalidation), with the version that
   * superseded them. They are kept, on disk too, until the newer version is held: an
   * invalidation never destroys data, it only stops the entry being served as current.
   */
  private readonly superseded = new Map<string, Version>();

  constructor(
    private readonly options: StoreOptions,
    private readonly primary: PrimaryTier = new MemoryPrimary(options.hashKey),
  ) {
    this.cachedByHash = new KeyIndex(options.hashKey);
    this.cache = new CacheTier({
      ttlSeconds: options.cacheTtlSeconds,
      maxKeys: options.cacheMaxKeys,
      maxBytes: options.cacheMaxBytes,
      onRemove: (key) => this.cachedByHash.remove(key),
    });
  }

  /** The key a who-has hash names, if this node holds it. */
  keyForHash(hash: string): string | undefined {
    return this.primary.keyForHash(hash) ?? this.cachedByHash.find(hash);
  }

  /** The key a hash names if this node holds a cached copy of it (a heap lookup only). */
  cachedKeyForHash(hash: string): string | undefined {
    return this.cachedByHash.find(hash);
  }

  /** The newest unexpired local entry for a key, primary or cached; tombstones included. */
  get(key: string): Entry | undefined {
    const primary = this.primary.get(key);
    if (primary !== undefined) return this.expired(primary) ? undefined : primary;
    const cached = this.cache.get(key);
    return cached && !this.expired(cached) ? cached : undefined;
  }

  /** The value a client may read here: not deleted, not expired, not known to be superseded. */
  live(key: string): Entry | undefined {
    const entry = this.get(key);
    return entry?.deleted || this.superseded.has(key) ? undefined : entry;
  }

  /** Whether a primary entry (expired or not) is held for a key. */
  holdsPrimary(key: string): boolean {
    return this.primary.get(key) !== undefined;
  }

  /** The version a master said supersedes the primary entry held for a key, if any. */
  supersededBy(key: string): Version | undefined {
    return this.superseded.get(key);
  }

  /**
   * Holds an entry as primary if it is newer than the primary entry held. A cached copy never
   * decides that: a node asked to hold a version it has only cached (fetched before it became
   * a master, say) must hold it as primary (on disk, in syncs and re-sends), or the write is
   * lost with the cache. The cached copy is folded in: a newer one is promoted in the entry's
   * place. Returns the entry now held as primary and the promise of its storage (see
   * PrimaryTier.put), or undefined when nothing changed.
   */
  putPrimary(
    key: string,
    entry: Entry,
    frame?: Buffer,
  ): { kept: Entry; stored: Promise<void> } | undefined {
    const replaced = this.primary.get(key);
    if (replaced !== undefined && !isNewer(entry.version, replaced.version)) return undefined;
    // A master holds no copies as a rule: the cache is not asked for each of a sync's entries.
    const cached = this.cache.count > 0 ? this.cache.peek(key) : undefined;
    const kept = cached !== undefined && isNewer(cached.version, entry.version) ? cached : entry;
    const stored = this.primary.put(key, kept, replaced, kept === entry ? frame : undefined);
    this.cache.delete(key);
    const mark = this.superseded.get(key);
    if (mark && !isNewer(mark, kept.version)) {
      this.superseded.delete(key);
      // Not stored after all: what is held again is still superseded.
      stored.catch(() => {
        if (!this.superseded.has(key)) this.superseded.set(key, mark);
      });
    }
    return { kept, stored };
  }

  /**
   * Drops the primary entry of `key` if it is still `version` (LocalData.withdraw). Returns the
   * promise of its removal from the tier, or undefined when another version is held now.
   */
  withdraw(key: string, version: Version): Promise<void> | undefined {
    const held = this.primary.versionOf(key);
    if (held === undefined || compareVersions(held, version) !== 0) return undefined;
    this.superseded.delete(key);
    return this.primary.remove(key);
  }

  /** Keeps a fetched copy for the cache TTL, unless a primary or newer copy is already held. */
  putCached(key: string, entry: Entry): boolean {
    const held = this.cache.peek(key);
    if (
      this.primary.get(key) !== undefined ||
      (held !== undefined && !isNewer(entry.version, held.version))
    ) {
      return false;
    }
    const ttlSeconds =
      entry.expiresAt === undefined
        ? this.options.cacheTtlSeconds
        : Math.min(
            this.options.cacheTtlSeconds,
            Math.max(0.001, (entry.expiresAt - this.options.now()) / 1000),
          );
    this.cache.set(key, entry, ttlSeconds);
    // Indexed after set: replacing an older copy un-indexes the key on the way.
    if (!this.cache.has(key)) return false; // larger than the whole tier
    this.cachedByHash.add(key);
    this.sortedCached.add(key);
    return true;
  }

  /**
   * A write elsewhere made a local entry older than `version` stale: a cached copy is
   * dropped; with `primaryToo`, a primary entry is marked superseded (see `superseded`), never
   * removed. Returns the tier that was affected.
   */
  invalidate(key: string, version: Version, primaryToo: boolean): 'primary' | 'cached' | undefined {
    const cached = this.cache.peek(key);
    if (cached !== undefined && isNewer(version, cached.version)) {
      this.cache.delete(key);
      return 'cached';
    }
    const primary = primaryToo ? this.primary.versionOf(key) : undefined;
    if (primary !== undefined && isNewer(version, primary)) {
      if (isNewer(version, this.superseded.get(key))) this.superseded.set(key, version);
      return 'primary';
    }
    return undefined;
  }

  /**
   * Removes what has run out among the next primary entries of a walk over them all (as many
   * as SWEEP_STEP_MS allows): those past their per-key TTL and tombstones older than the
   * tombstone TTL. Returns each key removed with the promise of its removal from the tier.
   */
  sweep(): Array<[string, Promise<void>]> {
    const now = this.options.now();
    const tombstoneCutoff = now - this.options.tombstoneTtlSeconds * 1000;
    const rule = { now, tombstoneCutoff, budgetMs: SWEEP_STEP_MS };
    const removed: Array<[string, Promise<void>]> = [];
    for (const key of this.primary.dueKeys(rule)) {
      // Read again: a slice read from lmdb does not see a write still being committed.
      const entry = this.primary.get(key);
      if (!entry || !isDue(rule, entry.deleted === true, entry.version.wall, entry.expiresAt))
        continue;
      this.superseded.delete(key);
      removed.push([key, this.primary.remove(key)]);
    }
    return removed;
  }

  /** Every key held here with its version, primary and cached, tombstones included. */
  *versions(): Generator<[string, Version]> {
    for (const [key, entry] of this.primary.entries()) yield [key, entry.version];
    for (const key of this.cache.keys()) {
      const cached = this.cache.peek(key);
      if (cached !== undefined) yield [key, cached.version];
    }
  }

  /** Every readable key held here, primary and cached, one at a time (a listing streams). */
  *readableKeys(): Generator<string> {
    yield* this.primary.readableKeys(this.options.now());
    // peek, not get: listing is not a use, and get would reorder the map being iterated.
    for (const key of [...this.cache.keys()]) {
      const cached = this.cache.peek(key);
      if (cached !== undefined && !cached.deleted && !this.expired(cached)) yield key;
    }
  }

  /** Every readable key held here, primary and cached. */
  keys(): string[] {
    return [...this.readableKeys()];
  }

  /**
   * Up to `count` readable keys from `from` on (from the first when undefined): the primary
   * entries in their tier's order, then the cached copies in key order (a SCAN's walk, resumable from
   * the position returned, which is undefined at the end). Nothing is listed whole but the
   * cached copies' keys, a bounded set; a key held throughout a walk comes once.
   */
  scanKeys(from: ScanPosition | undefined, count: number): ScanPage {
    const now = this.options.now();
    const keys: string[] = [];
    let last: ScanPosition | undefined;
    const tiers: Array<[ScanPosition['tier'], Iterable<string>]> = [];
    if (!from || from.tier === 'primary') {
      tiers.push(['primary', this.primary.readableKeysAfter(from?.after, now)]);
    }
    tiers.push(['cached', this.cachedKeysAfter(from?.tier === 'cached' ? from.after : undefined)]);
    for (const [tier, walk] of tiers) {
      for (const key of walk) {
        // One more key exists: the page ends at the one before it.
        if (keys.length === count) return { keys, next: last };
        keys.push(key);
        last = { tier, after: key };
      }
    }
    return { keys, next: undefined };
  }

  /** The readable cached copies' keys in key order, after `after`. */
  private *cachedKeysAfter(after: string | undefined): Generator<string> {
    for (const key of this.sortedCached.after(after)) {
      const cached = this.cache.peek(key);
      if (cached !== undefined && !cached.deleted && !this.expired(cached)) yield key;
    }
  }

  /**
   * Keys held, primary and cached, tombstones not counted; an expired entry counts until it is
   * swept, as Redis counts a key until it is evicted. Kept as counts, not walked: INFO asks for
   * it (ioredis at every connection), and a walk of 1 M entries in lmdb took 3.3 s.
   */
  get keyCount(): number {
    return this.primary.count - this.primary.tombstones + this.cache.count;
  }

  /** Primary entries held, tombstones included. */
  get primaryCount(): number {
    return this.primary.count;
  }

  get cachedCount(): number {
    return this.cache.count;
  }

  /** Value bytes held in each tier. */
  get bytes(): { primary: number; cached: number } {
    return { primary: this.primary.bytes, cached: this.cache.bytes };
  }

  /** The newest version ever held as primary (the clock starts past it). */
  get newestPrimary(): Version | undefined {
    return this.primary.newest;
  }

  /** Primary entries (tombstones included), for a re-send to new masters. */
  primaryEntries(): Iterable<[string, Entry]> {
    return this.primary.entries();
  }

  /** Primary entries as their frames, for a new master's sync stream. */
  primaryFrames(): Iterable<Buffer> {
    return this.primary.frames();
  }

  close(): void {
    this.cache.close();
  }

  private expired(entry: Entry): boolean {
    return entry.expiresAt !== undefined && entry.expiresAt <= this.options.now();
  }
}
