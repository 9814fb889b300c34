import { constants } from 'node:fs';
import * as fs from 'node:fs/promises';
import { join } from 'node:path';
import { open, type RangeOptions, type RootDatabase, type Transaction } from 'lmdb';
import {
  COMPACTION_DIR,
  type CompactionResult,
  compactDataFile,
  fileBytes,
  inOrderBytes,
  isLoose,
} from './data-file-compaction.js';
import { DiskSpace } from './disk-space.js';
import type { Entry } from './entry.js';
import {
  decodeRecord,
  encodeEntry,
  frameKey,
  frameOf,
  frameRecord,
  recordIsTombstone,
  recordMayExpire,
  recordVersion,
} from './entry-codec.js';
import { DiststoreError, StorageError } from './errors.js';
import { HotEntries } from './hot-entries.js';
import { isDue, type PrimaryTier, type SweepRule } from './primary-tier.js';
import { formatVersion, isNewer, parseVersion, type Version } from './version.js';
import { walkBudgetSpent } from './walk-budget.js';

/** The data dir cannot be used; the message names the path and what the operator can do. */
export class DataDirError extends DiststoreError {
  readonly code = 'data_dir';
}

/**
 * The primary tier in lmdb (a data dir): each entry's frame (entry-codec.ts: the key, then
 * the record) is stored under the start of the key's hash as who-has queries name it (its
 * place: see PLACE_CHARS), read from the mapped pages when asked, so the heap holds none of
 * them. The entries are their own who-has index: a who-has answer, like a read by key, is one
 * exact read. Beside them, under a number (lmdb orders numbers before every string), one META
 * record with the count, the value bytes and the newest version, committed in the same batch
 * as every change.
 */
export interface DurableStore extends PrimaryTier {
  /** Whether writes can be stored: `full` until the disk has room again, `failed` for good. */
  readonly storage: StorageState;
  /** The data file's size and the map's, for /status. */
  readonly disk: { fileBytes: number; mapBytes: number };
  /** Rewrites the data file in key order when it is loose (see data-file-compaction.ts). */
  compact(): Promise<CompactionResult>;
  /** Flushes and closes, releases the lock; safe to call twice. */
  close(): Promise<void>;
}

export type StorageState = 'ok' | 'full' | 'failed';

/** Whether an unhandled rejection is lmdb's report of a failed commit (see LmdbDurableStore). */
export function isLmdbCommitFailure(error: unknown): boolean {
  return error instanceof Error && error.message.startsWith('Commit failed (see commitError');
}

/** How long close() waits for lmdb after a failed commit, when its close never returns. */
const CLOSE_AFTER_FAILURE_MS = 1000;
/** The record of counts (see DurableStore); a number, so never a stored key. */
const META = 0;
/**
 * The layout of the data dir, as META names it: `layout N` and a newline before its JSON
 * (layout 1's META was the JSON alone). A release of layout 1 cannot parse it, so it refuses
 * the data dir ("cannot open the data in …", files untouched) instead of taking the stored
 * keys for client keys; one of layout 2 refuses layout 3 so too, and this one a later layout.
 *   layout 1  the record under its key, and [1, hash] → key as the who-has index: inserts at
 *             random places, and a new master's file after a sync of 1 M entries was
 *             343.5 MiB against 178.9 with layout 2 (docs/performance.md).
 *   layout 2  the record under the hash's first 8 characters, then the key: a who-has answer
 *             was a cursor step, about 8 µs more than an exact read (docs/performance.md).
 *   layout 3  the frame (key and record) under the hash's first 16 characters (PLACE_CHARS),
 *             one key to a place: a who-has answer is an exact read; 14 bytes more an entry.
 */
const LAYOUT = 3;
/**
 * Characters of the key hash (base32) that name an entry's place in layout 3: 80 bits, so
 * among 10 M keys two share a place about once in 2 × 10^10 clusters, and a key sharing a
 * place with a stored key, found on purpose, takes about 2^80 hashes; such a key's write is
 * refused (see put), never written over the other. The whole hash (26 characters) would make
 * every entry 10 bytes larger, the data file and a master's RSS about 5 % (docs/performance.md).
 */
const PLACE_CHARS = 16;
/** Characters of the hash before the key in a stored key of layout 2. */
const LAYOUT_2_PREFIX = 8;
/** First element of [MOVING, key]: an entry's record on its way to its place in this layout. */
const MOVING = 2;
/** Entries moved in one transaction when a data dir is moved to this layout. */
const MOVE_BATCH = 10_000;
/**
 * Entries read lately (from a key's second read on: see HotEntries), kept decoded: a read from
 * lmdb looks the key up and decodes the record (about 6 µs under load, measured), a hot key's
 * get-local then costs what a heap read does. Bounded in count and in value size, so
 * the heap holds at most about 64 MB of them.
 */
const HOT_ENTRIES = 1024;
const HOT_MAX_VALUE_BYTES = 64 * 1024;
/**
 * The memory map's size: address space only (the file grows as pages are written; nothing is
 * preallocated on Linux). lmdb-js starts at 128 KiB and, each time the file outgrows the map,
 * maps it again twice as large but keeps every older map for readers that may still hold it:
 * every page read once stayed resident in each map, and a node's RSS counted the file about
 * twice (200,000 writes in one process: 153 MiB of mapped pages for a 76 MiB file, measured;
 * a new master after its sync of 1 M entries: RSS 8.33× the raw bytes, 5.66× with one map).
 * One map of 1 TiB is never outgrown, so the file is mapped once. A cgroup's MemoryMax counts
 * the pages used, not the address space.
 */
const MAP_BYTES = 2 ** 40;
/** Most keys one sweep step reads (its time budget, rule.budgetMs, stops it sooner). */
const SWEEP_SLICE = 20_000;

/** Stored keys: META, the entries' (storedKey), and arrays: layout 1's index, MOVING's. */
export type StoredKey = string | number | [number, string];

/**
 * Opens (creating if missing) the store in `dir`, taking its lock; throws DataDirError.
 * `hashKey` is the key's hash as who-has queries name it (the entries are stored again under
 * new keys when the data dir comes from a cluster of another name, or of an earlier layout).
 */
export async function openDurableStore(
  dir: string,
  hashKey: (key: string) => string,
): Promise<DurableStore> {
  try {
    await fs.mkdir(dir, { recursive: true, mode: 0o700 });
    await fs.access(dir, constants.R_OK | constants.W_OK | constants.X_OK);
  } catch (error) {
    throw failure(`cannot create or open the data dir ${dir} (check path, owner)`, error);
  }
  // mkdir's mode applies only to a dir it creates: an existing 0755 dir is made private too.
  await makePrivate(dir, 0o700);
  const lockPath = await takeLock(dir);
  try {
    // lmdb-js 3.5 kills the process (SIGSEGV, a double free) when its open finds data.mdb is not
    // an lmdb file, so the files are checked here before lmdb sees them.
    await checkLmdbFiles(dir);
    // A compaction's copy, left by a crash before it replaced the data file.
    await fs.rm(join(dir, COMPACTION_DIR), { recursive: true, force: true });
    const db = openLmdb(dir);
    // lmdb creates its files under the umask (0644 as a rule); the values are the operator's.
    await privateFiles(dir).catch(async (error) => {
      await db.close();
      throw error;
    });
    const store = new LmdbDurableStore(db, dir, lockPath, hashKey);
    try {
      await store.readMeta();
    } catch (error) {
      await store.close();
      throw error;
    }
    return store;
  } catch (error) {
    await fs.unlink(lockPath).catch(noop);
    throw error instanceof DataDirError ? error : failure(`cannot open the data in ${dir}`, error);
  }
}

/** The lmdb environment in `dir`, as every data dir's is opened. */
function openLmdb(dir: string): RootDatabase<Buffer, StoredKey> {
  // noSubdir: lmdb would otherwise treat a dir named like `node.1` as a file name.
  return open<Buffer, StoredKey>({
    path: dir,
    encoding: 'binary',
    noSubdir: false,
    mapSize: MAP_BYTES,
  });
}

class LmdbDurableStore implements DurableStore {
  private closing: Promise<void> | undefined;
  private readonly space: DiskSpace;
  /** The size of the last record refused for want of room; 0 when the last write had room. */
  private refusedBytes = 0;
  /** Why lmdb failed a commit; after that it is not written to again (see DiskSpace). */
  private failure: string | undefined;
  /**
   * Changes not committed yet (null: a removal): lmdb shows a write to readers only once its
   * batch commits, and `get` must see it at once.
   */
  private readonly pending = new Map<string, Entry | null>();
  /** Entries read lately (see HOT_ENTRIES); oldest first. */
  private readonly hot = new HotEntries(HOT_ENTRIES, HOT_MAX_VALUE_BYTES);
  /** Places (see placeOf) of the keys first written by a change in `pending`, and the keys. */
  private readonly pendingByPlace = new Map<string, string>();
  private countHeld = 0;
  private bytesHeld = 0;
  private tombstonesHeld = 0;
  private newestHeld: Version | undefined;
  /** The changes of the lmdb batch being written, settled together (see settle). */
  private batch: Batch | undefined;
  /** Whether the counts changed since META was last written. */
  private metaChanged = false;
  /**
   * The entry keyForHash found last, decoded if its frame is at most HOT_MAX_VALUE_BYTES: a
   * who-has answer reads it next, and the fetch of the node that asked reads it again, each
   * an lmdb read and a decode otherwise (about 6 µs of a master's 13 µs for the three,
   * measured in-process; a memory-only master's: 6 µs). Forgotten at each change (put,
   * remove).
   */
  private lastFound: { key: string; entry: Entry } | undefined;
  /**
   * The place (a stored key) the last read by key found empty, until a change: a put of a new
   * key then needs no second read to know that no other key of its hash holds it.
   */
  private emptyPlace: string | undefined;
  /** The last key hashOf hashed (undefined: none yet), and its hash. */
  private lastHashed: string | undefined;
  private lastHash = '';
  /** The stored key the next sweep slice starts at ('' : the first). */
  private sweepFrom = '';
  /**
   * The read transaction of `get`, `versionOf` and `keyForHash` (as lmdb-js's read options),
   * held until a commit of this store's writes settles (see newBatch). lmdb-js renews its own
   * one in each event-loop turn that reads and resets it with a setTimeout(0): a timer, so one
   * more wake-up of the process after every read that comes alone, as a master's reads of a
   * who-has and its fetch do. Measured in-process, a read each 2 ms: 62 µs of CPU a read with
   * lmdb-js's, 38 µs with one held, 32 µs with no read at all.
   */
  private readOptions: { transaction: Transaction } | undefined;

  /**
   * Stored keys changed during a compaction, each with its entry's key, copied again before
   * its swap (see compact).
   */
  private compacting: Map<string, string> | undefined;
  private compaction: Promise<CompactionResult> | undefined;
  /**
   * Bytes an entry took in the file the last compaction wrote (0: none yet): an estimate from
   * a sample can be low (values of very different sizes), and a file it calls loose would
   * then be copied every hour for nothing. What a compaction wrote is what one would write.
   */
  private compactedBytesPerEntry = 0;
  /**
   * Walks (`stored`) under way in each environment: one replaced by a compaction is closed,
   * unmapping the old file, only once none walks it (a sync stream may pause for seconds).
   */
  private readonly walks = new Map<RootDatabase<Buffer, StoredKey>, number>();
  /** Environments replaced by a compaction, still walked. */
  private readonly retired = new Set<RootDatabase<Buffer, StoredKey>>();

  constructor(
    private db: RootDatabase<Buffer, StoredKey>,
    private readonly dir: string,
    private readonly lockPath: string,
    private readonly hashKey: (key: string) => string,
  ) {
    this.space = new DiskSpace(dir);
    this.commitCounts(db);
  }

  /** Once per batch of `db`, inside it: the counts commit with the changes they count. */
  private commitCounts(db: RootDatabase<Buffer, StoredKey>): void {
    db.on('beforecommit', () => {
      if (!this.metaChanged || db !== this.db) return;
      this.metaChanged = false;
      db.put(META, this.meta()).catch(noop);
    });
  }

  /**
   * Reads the META record. When it is missing (a data dir of an earlier release), of an
   * earlier layout or names another hash, every entry is moved to its place in this layout
   * under this hash (see LAYOUT), then counted: see moveEntries.
   */
  async readMeta(): Promise<void> {
    const text = this.db.getBinary(META)?.toString();
    const named = text === undefined ? undefined : /^layout (\d+)\n/.exec(text);
    const layout = named ? Number(named[1]) : 1;
    if (layout > LAYOUT) {
      throw new DataDirError(
        `the data in ${this.dir} is of layout ${layout}, written by a newer release (this one reads layouts 1 to ${LAYOUT}); the files were left untouched`,
      );
    }
    const held =
      text === undefined
        ? undefined
        : (JSON.parse(named ? text.slice(named[0].length) : text) as MetaRecord);
    const current = layout === LAYOUT && held?.index === this.hashKey('');
    if (current && !held.moving) {
      this.countHeld = held.count;
      this.bytesHeld = held.bytes;
      this.newestHeld = held.newest === undefined ? undefined : parseVersion(held.newest);
      // META of the release before did not count tombstones: they are counted once.
      this.tombstonesHeld = held.tombstones ?? (await this.countTombstones());
      return;
    }
    await this.moveEntries(current ? undefined : (layout as 1 | 2 | 3));
  }

  /**
   * Moves every entry to its place in this layout, MOVE_BATCH to a transaction, so that the
   * heap holds a batch's keys and never all of them: first each stored entry's record to
   * [MOVING, key] (the entries stored as layout `from` has them; undefined: moved already, as
   * META says), then each from there to storedKey(key), as its frame. The old places are all
   * empty before a new one is written: no entry is written over, even one whose key is another
   * key's new place. A node stopped meanwhile goes on where it stopped at its next start; META
   * says which step it reached (a move to layout 2 stopped in its second step goes on as a
   * move from layout 2: its MOVING records are this layout's). Then one walk counts the
   * entries for META.
   */
  private async moveEntries(from: 1 | 2 | 3 | undefined): Promise<void> {
    const batches = (range: RangeOptions) =>
      (function* (db) {
        for (;;) {
          const keys = [...db.getKeys({ ...range, limit: MOVE_BATCH })];
          if (keys.length === 0) return;
          yield keys;
        }
      })(this.db);
    if (from !== undefined) {
      for (const stored of batches({ start: '' })) {
        await this.db.transaction(() => {
          for (const key of stored as string[]) {
            const value = this.db.getBinary(key) as Buffer;
            if (from === 3) this.db.put([MOVING, frameKey(value)], frameRecord(value));
            else this.db.put([MOVING, from === 2 ? key.slice(LAYOUT_2_PREFIX) : key], value);
            this.db.remove(key);
          }
        });
      }
      await this.db.transaction(() => {
        // Layout 1's who-has index, [1, hash] → key.
        for (const key of this.db.getKeys({ start: [1], end: [MOVING] })) this.db.remove(key);
        this.db.put(META, metaBytes({ count: 0, bytes: 0, index: this.hashKey(''), moving: true }));
      });
    }
    for (const moving of batches({ start: [MOVING], end: [MOVING + 1] })) {
      await this.db.transaction(() => {
        for (const key of moving as Array<[number, string]>) {
          this.db.put(this.storedKey(key[1]), frameOf(key[1], this.db.getBinary(key) as Buffer));
          this.db.remove(key);
        }
      });
    }
    this.countHeld = this.bytesHeld = this.tombstonesHeld = 0;
    this.newestHeld = undefined;
    for (const [, entry] of this.entries()) {
      this.countHeld++;
      if (entry.deleted) this.tombstonesHeld++;
      this.bytesHeld += entry.value.length;
      if (isNewer(entry.version, this.newestHeld)) this.newestHeld = entry.version;
    }
    await this.db.put(META, this.meta());
  }

  /** The tombstones stored, counted from their records' flags (no decoding), into META. */
  private async countTombstones(): Promise<number> {
    let tombstones = 0;
    for (const [, record] of this.committed()) if (recordIsTombstone(record)) tombstones++;
    this.tombstonesHeld = tombstones;
    await this.db.put(META, this.meta());
    return tombstones;
  }

  /** Where `key`'s entry is stored: its place (see placeOf). */
  private storedKey(key: string): string {
    return placeOf(this.hashOf(key));
  }

  /**
   * hashKey, remembering the last key: a write reads the key's entry (putPrimary) and then
   * stores it, and SHA-256 was a seventh of a new master's CPU in a sync (profiled).
   */
  private hashOf(key: string): string {
    if (this.lastHashed !== key) {
      this.lastHash = this.hashKey(key);
      this.lastHashed = key;
    }
    return this.lastHash;
  }

  get(key: string): Entry | undefined {
    const held = this.pending.get(key);
    if (held !== undefined) return held ?? undefined;
    const hot = this.hot.get(key) ?? this.found(key);
    if (hot) return hot;
    // The fast read's buffer is lmdb's, reused by the next read: decodeRecord copies the value.
    const frame = this.readFrame(key);
    if (frame === undefined) return undefined;
    const entry = loadRecord(key, frameRecord(frame));
    this.hot.keep(key, entry);
    return entry;
  }

  versionOf(key: string): Version | undefined {
    const held = this.pending.get(key);
    if (held !== undefined) return held?.version;
    const hot = this.hot.get(key) ?? this.found(key);
    if (hot) return hot.version;
    const frame = this.readFrame(key);
    return frame === undefined ? undefined : readStored(key, frameRecord(frame), recordVersion);
  }

  put(
    key: string,
    entry: Entry,
    before: Entry | undefined,
    frame = encodeEntry(key, entry),
  ): Promise<void> {
    const stored = this.storedKey(key);
    try {
      if (before === undefined) this.assertPlaceFree(key, stored);
      this.admit(frame.length);
    } catch (error) {
      return Promise.reject(error);
    }
    this.pending.set(key, entry);
    this.hot.forget(key);
    this.lastFound = this.emptyPlace = undefined;
    if (before === undefined) this.countHeld++;
    this.tombstonesHeld += Number(entry.deleted === true) - Number(before?.deleted === true);
    this.bytesHeld += entry.value.length - (before?.value.length ?? 0);
    if (isNewer(entry.version, this.newestHeld)) this.newestHeld = entry.version;
    this.metaChanged = true;
    this.compacting?.set(stored, key);
    const written = this.db.put(stored, frame);
    if (before !== undefined) return this.settle(key, entry, written);
    this.pendingByPlace.set(stored, key);
    return this.settle(key, entry, written, stored);
  }

  /** Throws StorageError when another key is stored under `stored`, `key`'s place. */
  private assertPlaceFree(key: string, stored: string): void {
    // The get before a put of a new key (Store.putPrimary) found the place empty, as a rule.
    const holder =
      this.emptyPlace === stored ? this.pendingByPlace.get(stored) : this.keyInPlace(stored);
    if (holder === undefined || holder === key || this.pending.get(holder) === null) return;
    throw new StorageError(
      'collision',
      `the key ${JSON.stringify(key)} has the place of the key ${JSON.stringify(holder)} (the first 16 characters of its hash) in the data dir ${this.dir}, which holds one key to a place: this write is refused`,
    );
  }

  remove(key: string): Promise<void> {
    const before = this.get(key);
    if (before === undefined) return Promise.resolve();
    try {
      // A removal frees room in the end, but lmdb copies pages to do it: not on a full disk.
      this.admit(0);
    } catch (error) {
      return Promise.reject(error);
    }
    this.pending.set(key, null);
    this.hot.forget(key);
    this.lastFound = this.emptyPlace = undefined;
    this.countHeld--;
    if (before.deleted) this.tombstonesHeld--;
    this.bytesHeld -= before.value.length;
    this.metaChanged = true;
    const stored = this.storedKey(key);
    this.compacting?.set(stored, key);
    return this.settle(key, null, this.db.remove(stored));
  }

  /**
   * Resolves once a change's batch is committed and on disk; its `pending` entry is then
   * dropped (lmdb has it). lmdb hands every unconditional write of one batch the same promise,
   * so the changes of a batch are settled together: one wait and one fsync, not one each.
   */
  private settle(key: string, change: Entry | null, committed: Promise<boolean>, place?: string) {
    if (this.batch?.committed !== committed) this.batch = this.newBatch(committed);
    this.batch.changes.push({ key, change, place });
    return this.batch.settled;
  }

  private newBatch(committed: Promise<boolean>): Batch {
    const batch: Batch = { committed, changes: [], settled: Promise.resolve() };
    batch.settled = (async () => {
      try {
        await committed;
        // lmdb's overlapping sync resolves a commit before its fsync: wait for the fsync too.
        await this.db.flushed;
      } catch (error) {
        throw this.failed(error);
      } finally {
        if (this.batch === batch) this.batch = undefined;
        // Reads see the batch from here on, before its changes leave `pending`.
        this.endReads();
        for (const { key, change, place } of batch.changes) {
          // A later change of the key is its own to settle.
          if (this.pending.get(key) === change) this.pending.delete(key);
          if (place !== undefined) this.pendingByPlace.delete(place);
        }
      }
    })();
    return batch;
  }

  /** The frame stored under `stored`, in lmdb's reused buffer (valid until the next read). */
  private readStored(stored: string): Buffer | undefined {
    return (this.db as FastReader).getBinaryFast(stored, this.reads());
  }

  /** `key`'s frame as stored, if its place holds `key` (see readStored). */
  private readFrame(key: string): Buffer | undefined {
    const stored = this.storedKey(key);
    const frame = this.readStored(stored);
    this.emptyPlace = frame === undefined ? stored : undefined;
    return frame !== undefined && frameKey(frame) === key ? frame : undefined;
  }

  /** The options of a read in the held transaction (see readOptions), begun if none is held. */
  private reads(): { transaction: Transaction } {
    this.readOptions ??= { transaction: this.db.useReadTransaction() };
    return this.readOptions;
  }

  /** Lets go of the held read transaction: the next read begins one on what is committed. */
  private endReads(): void {
    this.readOptions?.transaction.done();
    this.readOptions = undefined;
  }

  keyForHash(hash: string): string | undefined {
    const key = this.keyInPlace(placeOf(hash));
    // Another hash of the same place (see placeOf), or a removal being committed: gone
    // already for every reader. hashOf remembers the hash for the key's read that follows.
    if (key === undefined || this.hashOf(key) !== hash) return undefined;
    return this.pending.get(key) === null ? undefined : key;
  }

  /** The key written last to `place`, committed or not. */
  private keyInPlace(place: string): string | undefined {
    return this.pendingByPlace.get(place) ?? this.storedKeyAt(place);
  }

  /** The key stored under `hash`. */
  private storedKeyAt(place: string): string | undefined {
    const frame = this.readStored(place);
    if (frame === undefined) return undefined;
    const key = frameKey(frame);
    // A who-has answer reads the key's entry next, and a fetch from its asker follows. The
    // record of a key being changed is about to be replaced: not kept.
    this.lastFound =
      frame.length <= HOT_MAX_VALUE_BYTES && !this.pending.has(key)
        ? { key, entry: loadRecord(key, frameRecord(frame)) }
        : undefined;
    return key;
  }

  /** The entry of `key` if keyForHash found it last (see lastFound). */
  private found(key: string): Entry | undefined {
    return this.lastFound?.key === key ? this.lastFound.entry : undefined;
  }

  *entries(): Generator<[string, Entry]> {
    for (const [key, record] of this.committed()) yield [key, loadRecord(key, record)];
    yield* this.uncommitted();
  }

  *frames(): Generator<Buffer> {
    // As stored: the key of each is read only to leave out one being changed.
    for (const frame of this.storedFrames('')) {
      if (this.pending.size === 0 || !this.pending.has(frameKey(frame))) yield frame;
    }
    for (const [key, entry] of this.uncommitted()) yield encodeEntry(key, entry);
  }

  *readableKeys(now: number): Generator<string> {
    for (const [key, record] of this.committed()) {
      if (!recordMayExpire(record) || readable(loadRecord(key, record), now)) yield key;
    }
    for (const [key, entry] of this.uncommitted()) if (readable(entry, now)) yield key;
  }

  *readableKeysAfter(after: string | undefined, now: number): Generator<string> {
    // Committed records only: a key not committed yet was written during the walk. One being
    // changed is listed by its committed record.
    const start = after === undefined ? '' : this.storedKey(after);
    for (const [key, record] of this.stored(start)) {
      if (key === after) continue;
      if (!recordMayExpire(record) || readable(loadRecord(key, record), now)) yield key;
    }
  }

  /** Every stored record, but those of keys changed since (see `uncommitted`). */
  private *committed(): Generator<[string, Buffer]> {
    for (const item of this.stored('')) if (!this.pending.has(item[0])) yield item;
  }

  /** The keys and records stored from `start` (a stored key) on, in lmdb's order. */
  private *stored(start: string): Generator<[string, Buffer]> {
    for (const frame of this.storedFrames(start)) yield [frameKey(frame), frameRecord(frame)];
  }

  /** The frames stored from `start` (a stored key) on, in lmdb's order. */
  private *storedFrames(start: string): Generator<Buffer> {
    const db = this.db;
    this.walks.set(db, (this.walks.get(db) ?? 0) + 1);
    try {
      for (const { value } of db.getRange({ start })) yield value;
    } catch (error) {
      const message = `cannot read the data in ${this.dir} (corrupt? left untouched)`;
      throw error instanceof DataDirError ? error : failure(message, error);
    } finally {
      const walks = (this.walks.get(db) ?? 1) - 1;
      if (walks > 0) this.walks.set(db, walks);
      else this.walks.delete(db);
      if (walks === 0 && this.retired.delete(db)) db.close().catch(noop);
    }
  }

  /** Entries written and not committed yet: a copy, as they settle while the caller walks. */
  private uncommitted(): Array<[string, Entry]> {
    return [...this.pending].filter((item): item is [string, Entry] => item[1] !== null);
  }

  dueKeys(rule: SweepRule): string[] {
    const started = performance.now();
    const due: string[] = [];
    let walked = 0;
    let last = this.sweepFrom;
    let stopped = false;
    for (const { key, value } of this.db.getRange({ start: this.sweepFrom, limit: SWEEP_SLICE })) {
      walked++;
      last = key as string;
      const record = frameRecord(value);
      if (recordMayExpire(record)) {
        const client = frameKey(value);
        const entry = loadRecord(client, record);
        if (isDue(rule, entry.deleted === true, entry.version.wall, entry.expiresAt))
          due.push(client);
      }
      if (walkBudgetSpent(walked, started, rule.budgetMs)) {
        stopped = true;
        break;
      }
    }
    // The step's last key starts the next one (read twice; simpler than its successor).
    this.sweepFrom = stopped || walked === SWEEP_SLICE ? last : '';
    for (const [key, entry] of this.pending) {
      if (entry && isDue(rule, entry.deleted === true, entry.version.wall, entry.expiresAt))
        due.push(key);
    }
    return due;
  }

  get count(): number {
    return this.countHeld;
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

  get disk(): { fileBytes: number; mapBytes: number } {
    return { fileBytes: fileBytes(this.db), mapBytes: MAP_BYTES };
  }

  /**
   * Rewrites the data file in key order when it is loose (see compactDataFile); one at a time.
   * The node asks after its start and then now and then (server/daemon.ts).
   */
  compact(): Promise<CompactionResult> {
    if (this.closing || this.failure) {
      return Promise.resolve({ compacted: false, reason: 'stopped' });
    }
    // One at a time: the one under way is the answer, without sampling the file again.
    if (this.compaction) return this.compaction;
    const from = this.db;
    const inOrder = Math.max(
      inOrderBytes(from, this.countHeld),
      this.countHeld * this.compactedBytesPerEntry,
    );
    if (!isLoose(fileBytes(from), inOrder)) {
      return Promise.resolve({ compacted: false, reason: 'not loose' });
    }
    // The copy needs room for what it writes, and a margin so that writes go on meanwhile.
    if (!this.space.hasRoom(2 * inOrder)) {
      return Promise.resolve({ compacted: false, reason: 'no room for a copy' });
    }
    this.compaction = this.compactFrom(from)
      .then((result) => {
        if (result.compacted) {
          this.compactedBytesPerEntry = result.toBytes / Math.max(1, this.countHeld);
        }
        return result;
      })
      .finally(() => {
        this.compacting = undefined;
        this.compaction = undefined;
      });
    return this.compaction;
  }

  private compactFrom(from: RootDatabase<Buffer, StoredKey>): Promise<CompactionResult> {
    // Changes not committed yet are not in the slices read: they are copied with the later ones.
    this.compacting = new Map([...this.pending.keys()].map((key) => [this.storedKey(key), key]));
    return compactDataFile(from, this.dir, {
      open: openLmdb,
      changed: this.compacting,
      valueOf: (key) => {
        const change = this.pending.get(key);
        if (change !== undefined) return change === null ? undefined : encodeEntry(key, change);
        return this.db.getBinary(this.storedKey(key));
      },
      writeMeta: (db) => db.putSync(META, this.meta()),
      mayGoOn: (bytes) =>
        this.closing === undefined && this.failure === undefined && this.space.hasRoom(bytes),
      swap: (db) => {
        this.endReads();
        this.db = db;
        this.commitCounts(db);
        privateFiles(this.dir).catch(noop);
        if (this.walks.has(from)) this.retired.add(from);
        else from.close().catch(noop);
      },
    });
  }

  private meta(): Buffer {
    return metaBytes({
      count: this.countHeld,
      tombstones: this.tombstonesHeld,
      bytes: this.bytesHeld,
      newest: this.newestHeld && formatVersion(this.newestHeld),
      index: this.hashKey(''),
    });
  }

  get storage(): StorageState {
    if (this.failure) return 'failed';
    // Full until a write like the one refused would fit again.
    if (this.refusedBytes > 0 && this.space.hasRoom(this.refusedBytes)) this.refusedBytes = 0;
    return this.refusedBytes > 0 ? 'full' : 'ok';
  }

  /** Throws StorageError unless lmdb may be asked to write `bytes` more. */
  private admit(bytes: number): void {
    if (this.failure) {
      throw new StorageError(
        'failed',
        `the data dir ${this.dir} could not be written (${this.failure}); this node refuses writes until it is restarted`,
      );
    }
    this.refusedBytes = this.space.take(bytes) ? 0 : Math.max(bytes, 1);
    if (this.refusedBytes > 0) {
      const free = (this.space.lastFree / 1024 / 1024).toFixed(1);
      throw new StorageError(
        'full',
        `the disk of the data dir ${this.dir} is full (${free} MB free, 1 MB kept free): writes resume once space is freed there`,
      );
    }
  }

  private failed(error: unknown): StorageError {
    // lmdb rejects the commit's own promise with the cause too; nobody else would handle it.
    const commitError = (error as { commitError?: Promise<unknown> } | undefined)?.commitError;
    commitError?.catch(noop);
    this.failure ??= reason(error);
    return new StorageError(
      'failed',
      `the data dir ${this.dir} could not be written (${this.failure}); this node refuses writes until it is restarted`,
      { cause: error },
    );
  }

  close(): Promise<void> {
    this.closing ??= (async () => {
      // A compaction under way stops at its next slice and removes its copy.
      await this.compaction?.catch(noop);
      for (const db of this.retired) await db.close();
      this.endReads();
      // After a failed commit lmdb-js's close() never returns: the lock is released anyway.
      const closed = this.db.close();
      if (this.failure) {
        const given = new Promise((resolve) => setTimeout(resolve, CLOSE_AFTER_FAILURE_MS).unref());
        await Promise.race([closed.catch(noop), given]);
      } else {
        await closed;
      }
      await fs.unlink(this.lockPath).catch(noop);
    })();
    return this.closing;
  }
}

/** lmdb-js's getBinaryFast takes the options its get takes; its types leave them out. */
interface FastReader {
  getBinaryFast(id: StoredKey, options: { transaction: Transaction }): Buffer | undefined;
}

/** Changes of one lmdb batch, and the promise they are all answered with. */
interface Batch {
  committed: Promise<boolean>;
  changes: Array<{ key: string; change: Entry | null; place: string | undefined }>;
  settled: Promise<void>;
}

/** What the META record holds. */
interface MetaRecord {
  count: number;
  /** Of `count`; missing in a META of the release before (then counted at open). */
  tombstones?: number;
  bytes: number;
  newest?: string | undefined;
  /** The hash of '' under the stored keys' hash: another value means another cluster's. */
  index: string;
  /** Entries are being moved to this layout and this hash; the old places are empty. */
  moving?: boolean;
}

/** The place of the entry whose key has `hash`: its first PLACE_CHARS characters. */
function placeOf(hash: string): string {
  return hash.slice(0, PLACE_CHARS);
}

function metaBytes(record: MetaRecord): Buffer {
  return Buffer.from(`layout ${LAYOUT}\n${JSON.stringify(record)}`);
}

function readable(entry: Entry, now: number): boolean {
  return !entry.deleted && (entry.expiresAt === undefined || entry.expiresAt > now);
}

/** The entry a stored record holds; a record that cannot be decoded stops the load. */
function loadRecord(key: string, record: Buffer): Entry {
  return readStored(key, record, decodeRecord);
}

/** What `read` takes from a stored record; a record that cannot be decoded stops the load. */
function readStored<T>(key: string, record: Buffer, read: (record: Buffer) => T): T {
  try {
    return read(record);
  } catch (error) {
    throw new DataDirError(
      `the stored record for key ${JSON.stringify(key)} cannot be decoded: ${reason(error)}; it was left untouched`,
    );
  }
}

/** Creates the lock file, taking it over from a dead node; throws when a live process holds it. */
async function takeLock(dir: string): Promise<string> {
  const lockPath = join(dir, 'diststore.lock');
  // The start time tells us from an earlier incarnation with our pid (a restarted container).
  const mine = `${process.pid}\n${Math.round(performance.timeOrigin)}\n`;
  // Retries only follow a takeover or a lock that vanished; a live holder ends the loop.
  for (let attempt = 0; attempt < 3; attempt++) {
    const created = await fs.writeFile(lockPath, mine, { flag: 'wx', mode: 0o600 }).then(
      () => true,
      (error) => {
        if (code(error) === 'EEXIST') return false;
        throw failure(`cannot create the lock file ${lockPath}`, error);
      },
    );
    if (created) return lockPath;
    const held = await fs.readFile(lockPath, 'utf8').catch((error) => {
      if (code(error) === 'ENOENT') return undefined;
      throw failure(`cannot read the lock file ${lockPath}`, error);
    });
    if (held === undefined) continue;
    assertStale(dir, lockPath, held, mine);
    // Rename rather than unlink: of two nodes taking over at once, only one moves the stale lock.
    const aside = `${lockPath}.stale-${process.pid}`;
    const moved = await fs.rename(lockPath, aside).then(() => fs.readFile(aside, 'utf8'), noop);
    if (moved === undefined) continue; // lost the rename to another node: start over
    // What we moved is a lock another node just took: put it back, then report its holder.
    if (moved !== held) await fs.link(aside, lockPath).catch(noop);
    await fs.unlink(aside).catch(noop);
    if (moved !== held) assertStale(dir, lockPath, moved, mine);
  }
  throw new DataDirError(`${lockPath} keeps changing: is another node starting on ${dir}?`);
}

/** Throws unless the lock's process is gone (killed without releasing it). */
function assertStale(dir: string, lockPath: string, held: string, mine: string): void {
  const [pidText = '', started = ''] = held.split('\n');
  if (!/^[1-9]\d*$/.test(pidText)) {
    throw new DataDirError(
      `the lock file ${lockPath} does not name a process (another node may be starting); if no node uses ${dir}, remove ${lockPath} and start again`,
    );
  }
  const [myPid, myStart] = mine.split('\n');
  if (pidText === myPid ? started === myStart : isAlive(Number(pidText))) {
    throw new DataDirError(
      `the data dir ${dir} is in use by process ${pidText} (lock file ${lockPath}); two nodes must never share a data dir: give this node its own data dir, or stop process ${pidText} first`,
    );
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return code(error) === 'EPERM'; // it exists but belongs to another user
  }
}

/** Checks the files lmdb will open: readable, writable, and data.mdb starting with an lmdb header. */
async function checkLmdbFiles(dir: string): Promise<void> {
  for (const name of ['data.mdb', 'lock.mdb']) {
    const path = join(dir, name);
    await fs.access(path, constants.R_OK | constants.W_OK).catch((error) => {
      if (code(error) !== 'ENOENT') throw failure(`cannot read and write ${path}`, error);
    });
  }
  const dataPath = join(dir, 'data.mdb');
  const file = await fs.open(dataPath, 'r').catch(() => undefined);
  if (!file) return;
  try {
    const { size } = await file.stat();
    // An empty file is how lmdb leaves a fresh environment it never initialised.
    if (size === 0) return;
    const header = Buffer.alloc(64);
    await file.read(header, 0, 64, 0);
    // Meta page 0: a 24-byte page header (flag P_META 0x08 at 18), then magic, format version,
    // and the page size at 48; lmdb reads metas up to the second page, so that much must exist.
    const psize = header.readUInt32LE(48);
    const ok =
      (header.readUInt16LE(18) & 0x08) !== 0 &&
      header.readUInt32LE(24) === 0xbeefc0de &&
      psize >= 512 &&
      size >= 2 * psize;
    if (!ok || (header.readUInt32LE(28) & 0xffff) !== 2) {
      const what = ok ? 'is from an incompatible lmdb version' : 'looks corrupt (no lmdb header)';
      throw new DataDirError(
        `the data in ${dataPath} ${what}; the files in ${dir} were left untouched: restore them from a backup, or move the dir aside to start this node empty`,
      );
    }
  } finally {
    await file.close();
  }
}

/** Takes every permission from group and others, unless none is given already. */
async function makePrivate(path: string, mode: number): Promise<void> {
  try {
    const stat = await fs.stat(path);
    if ((stat.mode & 0o077) !== 0) await fs.chmod(path, mode);
  } catch (error) {
    throw failure(
      `cannot make ${path} readable by this user only (chmod ${mode.toString(8)}; is it this user's?)`,
      error,
    );
  }
}

/** Makes every file of the data dir 0600 (data.mdb, lock.mdb, the lock). */
async function privateFiles(dir: string): Promise<void> {
  for (const item of await fs.readdir(dir, { withFileTypes: true })) {
    if (item.isFile()) await makePrivate(join(dir, item.name), 0o600);
  }
}

function noop(): undefined {}

function code(error: unknown): string | undefined {
  return (error as NodeJS.ErrnoException | undefined)?.code;
}

/** A DataDirError carrying the OS reason and the original error. */
function failure(message: string, error: unknown): DataDirError {
  return new DataDirError(`${message}: ${reason(error)}`, { cause: error });
}

function reason(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
