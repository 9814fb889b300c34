import { openDurableStore } from '../../cluster/durable-store.js';
import { type Entry, makeEntry } from '../../cluster/entry.js';
import { keyHash } from '../../cluster/wire.js';

export const looseKey = (i: number) => `key-${i}`;
export const looseValue = (i: number, round = 0, bytes = 100) =>
  `${round}:${i}:`.padEnd(bytes, 'v');

/**
 * Writes `count` entries of `valueBytes`-byte values into the data dir `dir` of `cluster`, as a master
 * takes them, a thousand to a batch: each batch lands at random places of the file (ordered by
 * key hash), which leaves its pages loose. 30,000 make a file several MiB larger than the
 * same entries in key order. Returns what was written.
 */
export async function looseDataDir(
  dir: string,
  cluster: string,
  count: number,
  valueBytes = 100,
): Promise<Map<string, Entry>> {
  const written = new Map<string, Entry>();
  const store = await openDurableStore(dir, (key) => keyHash(cluster, key));
  try {
    for (let from = 0; from < count; from += 1000) {
      const batch: Promise<void>[] = [];
      for (let i = from; i < Math.min(count, from + 1000); i++) {
        const version = { wall: 1 + i, counter: 0, node: 'filler' };
        const entry = makeEntry(Buffer.from(looseValue(i, 0, valueBytes)), 'text/plain', version);
        written.set(looseKey(i), entry);
        batch.push(store.put(looseKey(i), entry, undefined));
      }
      await Promise.all(batch);
    }
  } finally {
    await store.close();
  }
  return written;
}
