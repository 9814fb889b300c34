import NodeCache from 'node-cache';
import type { Entry } from './entry.js';
import { EntryPacker } from './packed-entry.js';

export interface CacheTierOptions {
  /** Seconds a cached copy is kept. */
  ttlSeconds: number;
  /** Most cached copies held at once (0: no limit). */
  maxKeys: number;
  /** Most value bytes held at once (0: no limit). */
  maxBytes: number;
  /** Called when a copy leaves the tier: expired, evicted, deleted or replaced by a newer one. */
  onRemove: (key: string) => void;
}

/**
 * Cached copies of entries fetched from other nodes: node-cache holds them, packed (see
 * packed-entry.ts), with their TTL; this class adds the bounds. When full, the least recently
 * read copies go first: a copy nobody reads is the cheapest to fetch again.
 */
export class CacheTier {
  private readonly cache: NodeCache;
  private readonly packer = new EntryPacker();
  /** Key → value bytes, in order of last use (oldest first; a Map keeps insertion order). */
  private readonly recency = new Map<string, number>();
  private bytesHeld = 0;
  private lastExpiryScan = 0;

  constructor(private readonly options: CacheTierOptions) {
    this.cache = new NodeCache({
      stdTTL: options.ttlSeconds,
      checkperiod: Math.max(1, Math.min(60, options.ttlSeconds)),
      useClones: false,
    });
    this.cache.on('expired', (key: string) => this.forget(key));
  }

  /** The copy, if held and not expired; counts as a use. */
  get(key: string): Entry | undefined {
    const packed = this.cache.get<string>(key);
    const bytes = this.recency.get(key);
    if (packed !== undefined && bytes !== undefined) {
      this.recency.delete(key);
      this.recency.set(key, bytes);
    }
    return packed === undefined ? undefined : this.packer.unpackEntry(packed);
  }

  /** The copy without counting a use (for merging versions). */
  peek(key: string): Entry | undefined {
    const packed = this.cache.get<string>(key);
    return packed === undefined ? undefined : this.packer.unpackEntry(packed);
  }

  /** Holds a copy for `ttlSeconds` (at most the tier's TTL), evicting to stay in bounds. */
  set(key: string, entry: Entry, ttlSeconds = this.options.ttlSeconds): void {
    this.delete(key);
    const { maxKeys, maxBytes } = this.options;
    if (maxBytes > 0 && entry.value.length > maxBytes) return; // would evict everything
    const full = () =>
      (maxKeys > 0 && this.recency.size >= maxKeys) ||
      (maxBytes > 0 && this.bytesHeld + entry.value.length > maxBytes);
    if (full()) this.dropExpired();
    while (full()) {
      const oldest = this.recency.keys().next().value;
      if (oldest === undefined) break;
      this.delete(oldest);
    }
    this.cache.set(key, this.packer.packEntry(entry), ttlSeconds);
    this.recency.set(key, entry.value.length);
    this.bytesHeld += entry.value.length;
  }

  delete(key: string): void {
    if (!this.recency.has(key)) return;
    this.cache.del(key);
    this.forget(key);
  }

  has(key: string): boolean {
    return this.cache.has(key);
  }

  keys(): IterableIterator<string> {
    return this.recency.keys();
  }

  get count(): number {
    return this.recency.size;
  }

  get bytes(): number {
    return this.bytesHeld;
  }

  close(): void {
    this.cache.close();
  }

  /**
   * Expired copies leave node-cache only when read or at its periodic check; before evicting
   * a live copy, make them leave now. A full scan, so at most once a second.
   */
  private dropExpired(): void {
    const now = Date.now();
    if (now - this.lastExpiryScan < 1000) return;
    this.lastExpiryScan = now;
    // has() expires a stale key, which reaches forget() through the 'expired' event.
    for (const key of [...this.recency.keys()]) this.cache.has(key);
  }

  private forget(key: string): void {
    const bytes = this.recency.get(key);
    if (bytes === undefined) return;
    this.recency.delete(key);
    this.bytesHeld -= bytes;
    this.options.onRemove(key);
  }
}
