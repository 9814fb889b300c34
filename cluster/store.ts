import { CacheTier } from './cache-tier.js';
import type { Entry } from './entry.js';
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
 * expire after the cache TTL. Both merge by version.
 */
export class Store {
  private readonly primary = new Map<string, Entry>();
  private readonly cache: CacheTier;
  /** Key hash → key, so a who-has query (which names only the hash) can be answered. */
  private readonly byHash = new Map<string, string>();
  private primaryBytesHeld = 0;

  constructor(private readonly options: StoreOptions) {
    this.cache = new CacheTier({
      ttlSeconds: options.cacheTtlSeconds,
      maxKeys: options.cacheMaxKeys,
      maxBytes: options.cacheMaxBytes,
      onRemove: (key) => this.unindex(key),
    });
  }

  /** The key a who-has hash names, if this node holds it. */
  keyForHash(hash: string): string | undefined {
    return this.byHash.get(hash);
  }

  /** The newest unexpired local entry for a key, primary or cached; tombstones included. */
  get(key: string): Entry | undefined {
    const entry = this.primary.get(key) ?? this.cache.get(key);
    return entry && !this.expired(entry) ? entry : undefined;
  }

  /** The value a client may read: not deleted, not expired. */
  live(key: string): Entry | undefined {
    const entry = this.get(key);
    return entry?.deleted ? undefined : entry;
  }

  /** Stores as primary if newer than what is held; a cached copy it supersedes is dropped. */
  putPrimary(key: string, entry: Entry): boolean {
    const held = this.primary.get(key);
    if (!isNewer(entry.version, (held ?? this.cache.peek(key))?.version)) return false;
    this.byHash.set(this.options.hashKey(key), key);
    this.primaryBytesHeld += entry.value.length - (held?.value.length ?? 0);
    this.primary.set(key, entry);
    this.cache.delete(key);
    return true;
  }

  /** Keeps a fetched copy for the cache TTL, unless a primary or newer copy is already held. */
  putCached(key: string, entry: Entry): boolean {
    if (this.primary.has(key) || !isNewer(entry.version, this.cache.peek(key)?.version)) {
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
    this.byHash.set(this.options.hashKey(key), key);
    return true;
  }

  /**
   * Drops a local entry older than `version` (a write elsewhere made it stale): the cached
   * copy, and with `primaryToo` a primary entry as well. Returns the tier it was dropped from.
   */
  invalidate(key: string, version: Version, primaryToo: boolean): 'primary' | 'cached' | undefined {
    const cached = this.cache.peek(key);
    if (cached && isNewer(version, cached.version)) {
      this.cache.delete(key);
      return 'cached';
    }
    const primary = this.primary.get(key);
    if (primaryToo && primary && isNewer(version, primary.version)) {
      this.primary.delete(key);
      this.primaryBytesHeld -= primary.value.length;
      this.unindex(key);
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
    for (const [key, entry] of this.primary) {
      if (this.expired(entry) || (entry.deleted && entry.version.wall < tombstoneCutoff)) {
        this.primary.delete(key);
        this.primaryBytesHeld -= entry.value.length;
        this.unindex(key);
        removed.push(key);
      }
    }
    return removed;
  }

  /** Every readable key held here, primary and cached. */
  keys(): string[] {
    const keys: string[] = [];
    const readable = (entry: Entry | undefined) => entry && !entry.deleted && !this.expired(entry);
    for (const [key, entry] of this.primary) if (readable(entry)) keys.push(key);
    // peek, not get: listing is not a use, and get would reorder the map being iterated.
    for (const key of this.cache.keys()) if (readable(this.cache.peek(key))) keys.push(key);
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
  primaryEntries(): IterableIterator<[string, Entry]> {
    return this.primary.entries();
  }

  close(): void {
    this.cache.close();
  }

  private expired(entry: Entry): boolean {
    return entry.expiresAt !== undefined && entry.expiresAt <= this.options.now();
  }

  private unindex(key: string): void {
    if (!this.primary.has(key) && !this.cache.has(key))
      this.byHash.delete(this.options.hashKey(key));
  }
}
