import { CacheTier } from './cache-tier.js';
import type { Entry } from './entry.js';
import { KeyIndex } from './key-index.js';
import { EntryPacker, isTombstone, valueLengthOf } from './packed-entry.js';
import { isNewer, type Version } from './version.js';

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
 * included) never expire unless given a per-key TTL; cached copies fetched from the cluster
 * expire after the cache TTL. Both merge by version. Entries are held packed (see
 * packed-entry.ts); the Entry objects handed out are made on each read.
 */
export class Store {
  /** Key → packed entry. */
  private readonly primary = new Map<string, string>();
  private readonly cache: CacheTier;
  /** Packs the entries of both tiers: the cache's packed strings are read here too. */
  private readonly packer = new EntryPacker();
  private readonly byHash: KeyIndex;
  private primaryBytesHeld = 0;
  /**
   * Primary entries a master said are superseded (an invalidation), with the version that
   * superseded them. They are kept, on disk too, until the newer version is held: an
   * invalidation never destroys data, it only stops the entry being served as current.
   */
  private readonly superseded = new Map<string, Version>();

  constructor(private readonly options: StoreOptions) {
    this.byHash = new KeyIndex(options.hashKey);
    this.cache = new CacheTier({
      ttlSeconds: options.cacheTtlSeconds,
      maxKeys: options.cacheMaxKeys,
      maxBytes: options.cacheMaxBytes,
      packer: this.packer,
      onRemove: (key) => this.unindex(key),
    });
  }

  /** The key a who-has hash names, if this node holds it. */
  keyForHash(hash: string): string | undefined {
    return this.byHash.find(hash);
  }

  /** The newest unexpired local entry for a key, primary or cached; tombstones included. */
  get(key: string): Entry | undefined {
    const packed = this.primary.get(key);
    if (packed !== undefined)
      return this.expired(packed) ? undefined : this.packer.unpackEntry(packed);
    const cached = this.cache.get(key);
    return cached && !this.expiredEntry(cached) ? cached : undefined;
  }

  /** The value a client may read here: not deleted, not expired, not known to be superseded. */
  live(key: string): Entry | undefined {
    const entry = this.get(key);
    return entry?.deleted || this.superseded.has(key) ? undefined : entry;
  }

  /** Whether the primary entry held for a key is known to be older than the cluster's. */
  isSuperseded(key: string): boolean {
    return this.superseded.has(key);
  }

  /**
   * Holds an entry as primary if it is newer than the primary entry held. A cached copy never
   * decides that: a node asked to hold a version it has only cached (fetched before it became
   * a master, say) must hold it as primary (on disk, in syncs and re-sends), or the write is
   * lost with the cache. The cached copy is folded in: a newer one is promoted in the entry's
   * place. Returns the entry now held as primary, or undefined when nothing changed.
   */
  putPrimary(key: string, entry: Entry): Entry | undefined {
    const replaced = this.primary.get(key);
    if (replaced !== undefined && !isNewer(entry.version, this.packer.versionOf(replaced)))
      return undefined;
    const cached = this.cache.peekPacked(key);
    const kept =
      cached !== undefined && isNewer(this.packer.versionOf(cached), entry.version)
        ? this.packer.unpackEntry(cached)
        : entry;
    this.byHash.add(key);
    this.primaryBytesHeld += kept.value.length - (replaced ? valueLengthOf(replaced) : 0);
    this.primary.set(key, kept === entry ? this.packer.packEntry(entry) : (cached as string));
    this.cache.delete(key);
    const mark = this.superseded.get(key);
    if (mark && !isNewer(mark, kept.version)) this.superseded.delete(key);
    return kept;
  }

  /**
   * A way back to the primary entry held for `key` now, for a change whose disk write then
   * failed (LocalData.keep): memory must not hold what the disk refused.
   */
  undoPoint(key: string): () => void {
    const before = this.primary.get(key);
    return () => {
      const now = this.primary.get(key);
      if (now === undefined) return;
      this.primaryBytesHeld -= valueLengthOf(now);
      if (before === undefined) {
        this.primary.delete(key);
        this.unindex(key);
      } else {
        this.primary.set(key, before);
        this.primaryBytesHeld += valueLengthOf(before);
      }
    };
  }

  /** Keeps a fetched copy for the cache TTL, unless a primary or newer copy is already held. */
  putCached(key: string, entry: Entry): boolean {
    const held = this.cache.peekPacked(key);
    if (
      this.primary.has(key) ||
      (held !== undefined && !isNewer(entry.version, this.packer.versionOf(held)))
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
    this.byHash.add(key);
    return true;
  }

  /**
   * A write elsewhere made a local entry older than `version` stale: a cached copy is
   * dropped; with `primaryToo`, a primary entry is marked superseded (see `superseded`), never
   * removed. Returns the tier that was affected.
   */
  invalidate(key: string, version: Version, primaryToo: boolean): 'primary' | 'cached' | undefined {
    const cached = this.cache.peekPacked(key);
    if (cached !== undefined && isNewer(version, this.packer.versionOf(cached))) {
      this.cache.delete(key);
      return 'cached';
    }
    const primary = this.primary.get(key);
    if (primaryToo && primary !== undefined && isNewer(version, this.packer.versionOf(primary))) {
      if (isNewer(version, this.superseded.get(key))) this.superseded.set(key, version);
      return 'primary';
    }
    return undefined;
  }

  /**
   * Removes what has run out: primary entries past their per-key TTL and tombstones older
   * than the tombstone TTL. Returns the keys removed.
   */
  sweep(): string[] {
    const now = this.options.now();
    const tombstoneCutoff = now - this.options.tombstoneTtlSeconds * 1000;
    const removed: string[] = [];
    for (const [key, packed] of this.primary) {
      if (
        this.expired(packed) ||
        (isTombstone(packed) && this.packer.wallOf(packed) < tombstoneCutoff)
      ) {
        this.primary.delete(key);
        this.superseded.delete(key);
        this.primaryBytesHeld -= valueLengthOf(packed);
        this.unindex(key);
        removed.push(key);
      }
    }
    return removed;
  }

  /** Every key held here with its version, primary and cached, tombstones included. */
  *versions(): Generator<[string, Version]> {
    for (const [key, packed] of this.primary) yield [key, this.packer.versionOf(packed)];
    for (const key of this.cache.keys()) {
      const packed = this.cache.peekPacked(key);
      if (packed !== undefined) yield [key, this.packer.versionOf(packed)];
    }
  }

  /** Every readable key held here, primary and cached. */
  keys(): string[] {
    const keys: string[] = [];
    const readable = (packed: string | undefined) =>
      packed !== undefined && !isTombstone(packed) && !this.expired(packed);
    for (const [key, packed] of this.primary) if (readable(packed)) keys.push(key);
    // peek, not get: listing is not a use, and get would reorder the map being iterated.
    for (const key of this.cache.keys()) if (readable(this.cache.peekPacked(key))) keys.push(key);
    return keys;
  }

  /** Primary entries held, tombstones included. */
  get primaryCount(): number {
    return this.primary.size;
  }

  get cachedCount(): number {
    return this.cache.count;
  }

  /** Value bytes held in each tier. */
  get bytes(): { primary: number; cached: number } {
    return { primary: this.primaryBytesHeld, cached: this.cache.bytes };
  }

  /** Primary entries (tombstones included), for a sync stream or a re-send to new masters. */
  *primaryEntries(): IterableIterator<[string, Entry]> {
    for (const [key, packed] of this.primary) yield [key, this.packer.unpackEntry(packed)];
  }

  close(): void {
    this.cache.close();
  }

  private expired(packed: string): boolean {
    const expiresAt = this.packer.expiresAtOf(packed);
    return expiresAt !== undefined && expiresAt <= this.options.now();
  }

  private expiredEntry(entry: Entry): boolean {
    return entry.expiresAt !== undefined && entry.expiresAt <= this.options.now();
  }

  private unindex(key: string): void {
    if (!this.primary.has(key) && !this.cache.has(key)) this.byHash.remove(key);
  }
}
