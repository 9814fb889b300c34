import NodeCache from 'node-cache';
import type { Entry } from './entry.js';
import { isNewer } from './version.js';

export interface StoreOptions {
  /** Seconds a cached copy (fetched from another node) is kept. */
  cacheTtlSeconds: number;
  /** The key's hash as who-has queries name it. */
  hashKey: (key: string) => string;
}

/**
 * The node's two tiers: primary entries (written here, or held as a master) never expire;
 * cached copies fetched from the cluster expire after the cache TTL. Both merge by version.
 */
export class Store {
  private readonly primary = new Map<string, Entry>();
  private readonly cache: NodeCache;
  /** Key hash → key, so a who-has query (which names only the hash) can be answered. */
  private readonly byHash = new Map<string, string>();
  private readonly hashKey: (key: string) => string;

  constructor({ cacheTtlSeconds, hashKey }: StoreOptions) {
    this.hashKey = hashKey;
    this.cache = new NodeCache({
      stdTTL: cacheTtlSeconds,
      checkperiod: Math.max(1, Math.min(60, cacheTtlSeconds)),
      useClones: false,
    });
    this.cache.on('expired', (key: string) => {
      if (!this.primary.has(key)) this.byHash.delete(this.hashKey(key));
    });
  }

  /** The key a who-has hash names, if this node holds it. */
  keyForHash(hash: string): string | undefined {
    return this.byHash.get(hash);
  }

  /** The newest local entry for a key, primary or cached. */
  get(key: string): Entry | undefined {
    return this.primary.get(key) ?? this.cache.get<Entry>(key);
  }

  /** Stores as primary if newer than what is held; a cached copy it supersedes is dropped. */
  putPrimary(key: string, entry: Entry): boolean {
    if (!isNewer(entry.version, this.get(key)?.version)) return false;
    if (!this.primary.has(key) && !this.cache.has(key)) this.byHash.set(this.hashKey(key), key);
    this.primary.set(key, entry);
    this.cache.del(key);
    return true;
  }

  /** Keeps a fetched copy for the cache TTL, unless a primary or newer copy is already held. */
  putCached(key: string, entry: Entry): boolean {
    if (this.primary.has(key) || !isNewer(entry.version, this.cache.get<Entry>(key)?.version)) {
      return false;
    }
    if (!this.cache.has(key)) this.byHash.set(this.hashKey(key), key);
    this.cache.set(key, entry);
    return true;
  }

  /** Every key held here, primary and cached. */
  keys(): string[] {
    const keys = new Set(this.primary.keys());
    for (const key of this.cache.keys()) keys.add(key);
    return [...keys];
  }

  get primaryCount(): number {
    return this.primary.size;
  }

  get cachedCount(): number {
    return this.cache.getStats().keys;
  }

  /** Primary entries, for a sync stream or a re-send to new masters. */
  primaryEntries(): IterableIterator<[string, Entry]> {
    return this.primary.entries();
  }

  close(): void {
    this.cache.close();
  }
}
