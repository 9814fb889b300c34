import { closeSync, fsyncSync, openSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { type RootDatabase, TransactionFlags } from 'lmdb';
import type { StoredKey } from './durable-store.js';

/**
 * Where a compaction writes its copy, inside the data dir. Found at a start only after a
 * crash during a compaction: the copy is then removed, the data file was never replaced.
 */
export const COMPACTION_DIR = 'compacting';

/**
 * A data file this much larger than its entries written in key order is compacted. Entries
 * written at random places (a master's writes: the file is ordered by key hash) leave lmdb's
 * pages about two thirds full, plus the pages freed by copy-on-write: 1 M entries of the
 * bench took 263 MiB, 171 MiB once compacted (docs/performance.md).
 */
const LOOSE_RATIO = 1.3;
/** Nor is a compaction worth its copy for less than this saving. */
const MIN_SAVING_BYTES = 1024 * 1024;
/** Records read to estimate an entry's size in the file (keys in hash order: a random sample). */
const SAMPLE = 1000;
/** lmdb's header of a node on a leaf page (key and record follow), and its pointer to it. */
const NODE_HEADER = 8;
const NODE_POINTER = 2;
/** A page's header; what an overflow page holds beyond it is one record's bytes. */
const PAGE_HEADER = 16;
/** Leaf pages written in order are about this full; the rest is page headers and branches. */
const IN_ORDER_FILL = 0.93;
/** Entries copied in one transaction: about 5 ms of the event loop (2.3 µs an entry, measured). */
const SLICE = 2000;
/** Rounds copying the writes made during the copy, before the last one, which swaps the file. */
const CATCH_UP_ROUNDS = 5;
/** A slice's transaction: committed before returning, flushed only with the last one. */
const UNFLUSHED =
  TransactionFlags.ABORTABLE | TransactionFlags.SYNCHRONOUS_COMMIT | TransactionFlags.NO_SYNC_FLUSH;

type Lmdb = RootDatabase<Buffer, StoredKey>;

/** What the store being compacted lends its compaction (see LmdbDurableStore.compact). */
export interface CompactedStore {
  /** Opens an lmdb environment in `dir` as the store opens its own. */
  open(dir: string): Lmdb;
  /**
   * Stored keys written or removed since the compaction began, each with its entry's key; the
   * store adds to it.
   */
  readonly changed: Map<string, string>;
  /** What is stored for the entry of `key` now, committed or not (undefined: removed). */
  valueOf(key: string): Buffer | undefined;
  /** Stores the META record, the counts as they are now, in `db` (in its transaction). */
  writeMeta(db: Lmdb): void;
  /** Whether the copy may go on: the store is not closing nor failed, and the disk has room. */
  mayGoOn(bytes: number): boolean;
  /** Makes `db` the store's environment; called in the same turn the data file is replaced. */
  swap(db: Lmdb): void;
}

export type CompactionResult =
  | { compacted: true; fromBytes: number; toBytes: number; entries: number; seconds: number }
  | {
      compacted: false;
      /** Not loose enough to be worth it; no disk room for a copy; or the store is closing. */
      reason: 'not loose' | 'no room for a copy' | 'stopped';
    };

/**
 * The bytes `db`'s `count` entries would take written in key order, estimated from a sample.
 * A record too large for a leaf (over about half a page) takes whole overflow pages of its own
 * and leaves a page number on the leaf: an entry of 5 KB takes two pages however it is
 * written, so a file of them is not loose (2,000 of them: 16.6 MB, estimated 16.5 MB; counted
 * as 5 KB each, 10.9 MB: 1.53× loose).
 */
export function inOrderBytes(db: Lmdb, count: number): number {
  const { pageSize } = db.getStats() as { pageSize: number };
  // lmdb's me_nodemax: two nodes must fit on a page.
  const nodeMax = (((pageSize - PAGE_HEADER) / 2) & ~1) - NODE_POINTER;
  let bytes = 0;
  let sampled = 0;
  for (const { key, value } of db.getRange({ start: '', limit: SAMPLE })) {
    const node = NODE_HEADER + Buffer.byteLength(key as string) + value.length;
    if (node <= nodeMax) {
      bytes += (node + NODE_POINTER) / IN_ORDER_FILL;
    } else {
      const pages = Math.ceil((PAGE_HEADER + value.length) / pageSize);
      bytes += pages * pageSize + (node - value.length + 8 + NODE_POINTER) / IN_ORDER_FILL;
    }
    sampled++;
  }
  return sampled === 0 ? 0 : (count * bytes) / sampled;
}

/** Whether a data file of `fileBytes` holding `inOrder` bytes' worth is worth compacting. */
export function isLoose(fileBytes: number, inOrder: number): boolean {
  return fileBytes >= LOOSE_RATIO * inOrder && fileBytes - inOrder >= MIN_SAVING_BYTES;
}

/**
 * Writes `from`'s records in key order into a new environment beside it (pages filled, none
 * free), a slice a turn so that requests are served meanwhile; then, in rounds, the records
 * changed meanwhile; then, in one turn with no write in between, the last changes and META,
 * flushed, and renames the new file over `dir`'s data.mdb and swaps. A crash before the
 * rename leaves the old file whole; after it, the new one holds every committed record.
 * Returns the bytes written and how long it took; gives up (the copy removed) when the store
 * closes or the disk runs short.
 */
export async function compactDataFile(
  from: Lmdb,
  dir: string,
  store: CompactedStore,
): Promise<CompactionResult> {
  const started = performance.now();
  const path = join(dir, COMPACTION_DIR);
  rmSync(path, { recursive: true, force: true });
  const to = store.open(path);
  let swapped = false;
  try {
    let after: string | undefined;
    let entries = 0;
    let sliceBytes = 0;
    // Ends with a slice shorter than SLICE: the last keys of the file.
    for (let walked = SLICE; walked === SLICE; ) {
      if (!store.mayGoOn(2 * sliceBytes)) return { compacted: false, reason: 'stopped' };
      walked = 0;
      sliceBytes = 0;
      // Straight from one file to the other, through lmdb's reused read buffer: no slice held,
      // no Buffer made per entry. 300,000 entries took 0.7 s and left RssAnon 2–5 MiB fuller;
      // slices read with getRange into arrays took 1.1 s and left it 5–8 MiB fuller (measured).
      to.transactionSync(() => {
        for (const key of from.getKeys({ start: after ?? '', limit: SLICE + 1 })) {
          if (key === after) continue;
          after = key as string;
          walked++;
          // One read snapshot serves the whole turn, so the key is there; were it not, it was
          // removed meanwhile, and the catch-up copies that.
          const value = from.getBinaryFast(key);
          if (value !== undefined) {
            // In order, so MDB_APPEND: each leaf is filled before the next is begun.
            to.putSync(key, value, { append: true });
            sliceBytes += value.length;
            entries++;
          }
          if (walked === SLICE) break;
        }
      }, UNFLUSHED);
      await nextTurn();
    }
    for (let round = 0; round < CATCH_UP_ROUNDS && store.changed.size > SLICE; round++) {
      const keys = [...store.changed];
      store.changed.clear();
      for (let i = 0; i < keys.length; i += SLICE) {
        if (!store.mayGoOn(0)) return { compacted: false, reason: 'stopped' };
        to.transactionSync(() => copyChanges(to, keys.slice(i, i + SLICE), store), UNFLUSHED);
        await nextTurn();
      }
    }
    if (!store.mayGoOn(0)) return { compacted: false, reason: 'stopped' };
    const fromBytes = fileBytes(from);
    // From here to the swap nothing yields: no write can reach the old file after its copy.
    to.transactionSync(() => {
      copyChanges(to, [...store.changed], store);
      store.writeMeta(to);
    }); // flushed, with every slice before it
    store.changed.clear();
    renameSync(join(path, 'data.mdb'), join(dir, 'data.mdb'));
    store.swap(to);
    swapped = true;
    syncDir(dir);
    // The new environment's lock file goes too: the open environment keeps using it.
    rmSync(path, { recursive: true, force: true });
    const seconds = (performance.now() - started) / 1000;
    return { compacted: true, fromBytes, toBytes: fileBytes(to), entries, seconds };
  } finally {
    if (!swapped) {
      await to.close();
      rmSync(path, { recursive: true, force: true });
    }
  }
}

function copyChanges(to: Lmdb, changes: Array<[string, string]>, store: CompactedStore): void {
  for (const [stored, key] of changes) {
    const value = store.valueOf(key);
    if (value === undefined) to.removeSync(stored);
    else to.putSync(stored, value);
  }
}

/** The size of `db`'s data file as lmdb uses it (see DurableStore.disk). */
export function fileBytes(db: Lmdb): number {
  const stats = db.getStats() as { pageSize: number; lastPageNumber: number };
  return (stats.lastPageNumber + 1) * stats.pageSize;
}

/** Makes a rename in `dir` durable. */
function syncDir(dir: string): void {
  const fd = openSync(dir, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}
