import { Store } from '../../cluster/store.js';

/**
 * A Store in the heap with no cached-copy bounds, keys as their own hash, and its wall clock
 * read from `now` (a test moves it). `ttls`: the cached-copy and tombstone TTLs, in seconds.
 */
export function heapStore(now: () => number, ttls = { cache: 60, tombstone: 60 }): Store {
  return new Store({
    cacheTtlSeconds: ttls.cache,
    cacheMaxKeys: 0,
    cacheMaxBytes: 0,
    tombstoneTtlSeconds: ttls.tombstone,
    hashKey: (key) => key,
    now,
  });
}
