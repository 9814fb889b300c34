import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import * as fs from 'node:fs/promises';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { open } from 'lmdb';
import { DataDirError, openDurableStore } from '../../cluster/durable-store.js';
import { type Entry, makeEntry } from '../../cluster/entry.js';
import {
  decodeEntries,
  encodeEntry,
  encodeRecord,
  frameOf,
  type ReceivedEntry,
} from '../../cluster/entry-codec.js';
import { StorageError } from '../../cluster/errors.js';
import { keyHash } from '../../cluster/wire.js';
import { inTempDir } from '../support/temp-dir.js';

const PREFIX = 'durable-store-';
const REPO = fileURLToPath(new URL('../..', import.meta.url));
const hashKey = (key: string) => keyHash('test', key);
/** Where layout 3 stores a key's entry: its hash's first 16 characters. */
const place = (key: string) => hashKey(key).slice(0, 16);

function entry(value: Buffer | string, wall = 1, extra: Partial<Entry> = {}): Entry {
  const bytes = typeof value === 'string' ? Buffer.from(value) : value;
  return { ...makeEntry(bytes, 'text/plain', { wall, counter: 0, node: 'n1' }), ...extra };
}

async function readAll(dir: string): Promise<Map<string, Entry>> {
  const store = await openDurableStore(dir, hashKey);
  const entries = new Map(store.entries());
  await store.close();
  return entries;
}

/**
 * Opens a data dir moved to this layout and checks it holds `entries`, each found by its hash,
 * counted, and that nothing but META is stored before them (no index, nothing mid-move) and
 * they are stored under their hashes.
 */
async function assertMoved(dir: string, entries: Array<[string, Entry]>): Promise<void> {
  const store = await openDurableStore(dir, hashKey);
  try {
    assert.deepEqual(new Map(store.entries()), new Map(entries));
    for (const [key] of entries) assert.equal(store.keyForHash(hashKey(key)), key);
    assert.equal(store.count, entries.length);
    assert.equal(
      store.bytes,
      entries.reduce((sum, [, e]) => sum + e.value.length, 0),
    );
  } finally {
    await store.close();
  }
  const db = open({ path: dir, encoding: 'binary' });
  try {
    assert.deepEqual([...db.getKeys({ end: '' })], [0]);
    assert.deepEqual([...db.getKeys({ start: '' })], entries.map(([key]) => place(key)).sort());
  } finally {
    await db.close();
  }
}

/** Every file in the dir and its bytes, to prove a failed open changed nothing. */
async function snapshot(dir: string): Promise<Map<string, Buffer>> {
  const names = (await fs.readdir(dir)).sort();
  return new Map(
    await Promise.all(names.map(async (n) => [n, await fs.readFile(join(dir, n))] as const)),
  );
}

/** Starts a node child process; `exited` resolves once it is gone. */
function spawnNode(args: string[]): { child: ChildProcess; exited: Promise<unknown> } {
  const child = spawn(process.execPath, args, { cwd: REPO, stdio: ['ignore', 'pipe', 'inherit'] });
  return { child, exited: once(child, 'exit') };
}

describe('durable store', () => {
  test('entries read back equal what was put, after close and reopen', async () => {
    await inTempDir(PREFIX, async (base) => {
      const dir = join(base, 'node.1'); // a dot must not make lmdb treat the dir as a file
      const bytes = Buffer.from(Array.from({ length: 256 }, (_, i) => i));
      const put: Array<[string, Entry]> = [
        ['plain', entry('value')],
        ['empty', entry(Buffer.alloc(0), 2)],
        ['binary', { ...entry(bytes, 3), type: 'application/octet-stream' }],
        ['ключ/🙂 nul\u0000inside', entry('значение ✓', 4)],
        ['k'.repeat(1024), entry('long key', 5)],
        ['gone', entry(Buffer.alloc(0), 6, { deleted: true })],
        ['ttl', entry('soon', 7, { expiresAt: 1_700_000_000_123.5 })],
        ['dead ttl', entry(Buffer.alloc(0), 8, { deleted: true, expiresAt: 0 })],
      ];
      const store = await openDurableStore(dir, hashKey);
      for (const [key, e] of put) await store.put(key, e, store.get(key));
      assert.equal(store.count, put.length);
      await store.close();
      await store.close(); // a second close is harmless
      assert.ok((await fs.readdir(dir)).includes('data.mdb'));
      assert.deepEqual(await readAll(dir), new Map(put));
      const reopened = await openDurableStore(dir, hashKey);
      try {
        for (const [key, e] of put) assert.deepEqual(reopened.versionOf(key), e.version, key);
        assert.equal(reopened.versionOf('never there'), undefined);
      } finally {
        await reopened.close();
      }
    });
  });

  test('the dir is made 0700 and its files 0600, even in an existing 0755 dir', async () => {
    await inTempDir(PREFIX, async (dir) => {
      const mode = async (path: string) => ((await fs.stat(path)).mode & 0o777).toString(8);
      const fresh = join(dir, 'fresh');
      const made = await openDurableStore(fresh, hashKey);
      await made.put('k', entry('v'), made.get('k'));
      assert.equal(await mode(fresh), '700');
      await made.close();

      const existing = join(dir, 'existing');
      await fs.mkdir(existing, { mode: 0o755 });
      await fs.chmod(existing, 0o755);
      const store = await openDurableStore(existing, hashKey);
      await store.put('k', entry('v'), store.get('k'));
      await store.close();
      // A file left readable by an older version is tightened at the next open.
      await fs.chmod(join(existing, 'data.mdb'), 0o644);
      await fs.chmod(existing, 0o755);
      const again = await openDurableStore(existing, hashKey);
      try {
        assert.equal(await mode(existing), '700');
        const names = (await fs.readdir(existing)).sort();
        assert.ok(names.includes('data.mdb') && names.includes('lock.mdb'), names.join());
        for (const name of names) assert.equal(await mode(join(existing, name)), '600', name);
      } finally {
        await again.close();
      }
    });
  });

  test('put replaces a key and remove deletes it', async () => {
    await inTempDir(PREFIX, async (dir) => {
      const store = await openDurableStore(dir, hashKey);
      await store.put('a', entry('old', 1), store.get('a'));
      await store.put('a', entry('new', 2), store.get('a'));
      await store.put('b', entry('b'), store.get('b'));
      await store.remove('b');
      await store.remove('never there');
      assert.equal(store.count, 1);
      await store.close();
      assert.deepEqual(await readAll(dir), new Map([['a', entry('new', 2)]]));
    });
  });

  test('an entry received as a frame is stored as that frame and sent on as it came', async () => {
    await inTempDir(PREFIX, async (dir) => {
      const sent = entry('from another node', 7);
      const decoded: ReceivedEntry[] = [];
      for await (const item of decodeEntries([encodeEntry('k', sent)])) decoded.push(item);
      const [key, received, frame] = decoded[0] as ReceivedEntry;
      const store = await openDurableStore(dir, hashKey);
      try {
        await store.put(key, received, undefined, frame);
        assert.deepEqual(store.get('k'), sent);
        assert.equal(store.keyForHash(hashKey('k')), 'k');
        assert.deepEqual([...store.frames()], [encodeEntry('k', sent)]);
      } finally {
        await store.close();
      }
      assert.deepEqual(await readAll(dir), new Map([['k', sent]]));
    });
  });
  test('10 000 entries survive close and reopen', async () => {
    await inTempDir(PREFIX, async (dir) => {
      const store = await openDurableStore(dir, hashKey);
      const put = Array.from({ length: 10_000 }, (_, i) => [`k${i}`, entry(`v${i}`, i)] as const);
      await Promise.all(put.map(([key, e]) => store.put(key, e, store.get(key))));
      await store.close();
      const read = await readAll(dir);
      assert.equal(read.size, 10_000);
      for (const [key, e] of put) assert.deepEqual(read.get(key), e, key);
    });
  });

  test('the data file is mapped once however much it grows, so RSS counts its pages once', async () => {
    await inTempDir(PREFIX, async (dir) => {
      const store = await openDurableStore(dir, hashKey);
      const value = Buffer.alloc(1000, 'v');
      // 4 MB in batches: with lmdb-js's default map of 128 KiB it was mapped again 5 times.
      for (let batch = 0; batch < 4; batch++) {
        await Promise.all(
          Array.from({ length: 1000 }, (_, i) =>
            store.put(`k${batch}-${i}`, entry(value, i + 1), undefined),
          ),
        );
      }
      assert.ok(store.disk.fileBytes > 4_000_000, `file of ${store.disk.fileBytes} bytes`);
      const maps = (await fs.readFile('/proc/self/maps', 'utf8'))
        .split('\n')
        .filter((line) => line.endsWith(join(dir, 'data.mdb')));
      assert.equal(maps.length, 1, maps.join('\n'));
      await store.close();
    });
  });

  test('a write is read back at once, before its commit, and settles with its batch', async () => {
    await inTempDir(PREFIX, async (dir) => {
      const store = await openDurableStore(dir, hashKey);
      try {
        const stored = store.put('k', entry('new'), undefined);
        assert.deepEqual(store.get('k'), entry('new'), 'seen before the commit');
        assert.deepEqual(store.versionOf('k'), entry('new').version);
        assert.equal(store.keyForHash(hashKey('k')), 'k');
        assert.equal(store.count, 1);
        await stored;
        const removed = store.remove('k');
        assert.equal(store.get('k'), undefined, 'gone before the commit');
        assert.equal(store.versionOf('k'), undefined);
        assert.equal(store.keyForHash(hashKey('k')), undefined);
        await removed;
        assert.equal(store.get('k'), undefined);
        assert.equal(store.count, 0);
      } finally {
        await store.close();
      }
    });
  });

  test('the who-has index is built again for a data dir of a cluster with another name', async () => {
    await inTempDir(PREFIX, async (dir) => {
      const first = await openDurableStore(dir, hashKey);
      await first.put('k', entry('v'), undefined);
      await first.close();
      const renamed = (key: string) => keyHash('renamed', key);
      const again = await openDurableStore(dir, renamed);
      try {
        assert.equal(again.keyForHash(renamed('k')), 'k');
        assert.equal(again.keyForHash(hashKey('k')), undefined, "the old name's hash is gone");
        assert.equal(again.count, 1);
      } finally {
        await again.close();
      }
    });
  });

  test('a key found by its hash reads back as it is now, after a change and a removal', async () => {
    await inTempDir(PREFIX, async (dir) => {
      const store = await openDurableStore(dir, hashKey);
      try {
        await store.put('k', entry('one', 1), undefined);
        assert.equal(store.keyForHash(hashKey('k')), 'k');
        const changed = store.put('k', entry('two', 2), store.get('k'));
        assert.deepEqual(store.get('k'), entry('two', 2));
        await changed;
        assert.deepEqual(store.get('k'), entry('two', 2), 'settled');
        assert.deepEqual(store.versionOf('k'), entry('two', 2).version);
        assert.equal(store.keyForHash(hashKey('k')), 'k');
        await store.remove('k');
        assert.equal(store.get('k'), undefined);
        assert.equal(store.keyForHash(hashKey('k')), undefined);
      } finally {
        await store.close();
      }
    });
  });

  test('a second open while the first is open fails on the lock and changes no file', async () => {
    await inTempDir(PREFIX, async (dir) => {
      const first = await openDurableStore(dir, hashKey);
      await first.put('a', entry('a'), first.get('a'));
      const before = await snapshot(dir);
      await assert.rejects(openDurableStore(dir, hashKey), (error: Error) => {
        assert.ok(error instanceof DataDirError);
        const heldByUs = new RegExp(`in use by process ${process.pid}.*diststore\\.lock`);
        assert.match(error.message, heldByUs);
        assert.ok(error.message.includes(dir));
        return true;
      });
      assert.deepEqual(await snapshot(dir), before);
      await first.close();
      assert.ok(!(await fs.readdir(dir)).includes('diststore.lock'), 'close releases the lock');
    });
  });

  test('a lock held by another live process is respected', async () => {
    await inTempDir(PREFIX, async (dir) => {
      const { child, exited } = spawnNode(['-e', 'setInterval(() => {}, 1000)']);
      try {
        await fs.writeFile(join(dir, 'diststore.lock'), `${child.pid}\n`);
        const before = await snapshot(dir);
        await assert.rejects(
          openDurableStore(dir, hashKey),
          new RegExp(`in use by process ${child.pid}`),
        );
        assert.deepEqual(await snapshot(dir), before);
      } finally {
        child.kill('SIGKILL');
        await exited;
      }
    });
  });

  test('a stale lock of a dead process is taken over', async () => {
    await inTempDir(PREFIX, async (dir) => {
      const { child, exited } = spawnNode(['-e', '']);
      await exited;
      await fs.writeFile(join(dir, 'diststore.lock'), `${child.pid}\n`);
      const store = await openDurableStore(dir, hashKey);
      const lock = await fs.readFile(join(dir, 'diststore.lock'), 'utf8');
      assert.equal(lock.split('\n')[0], String(process.pid));
      await store.close();
      assert.deepEqual(await fs.readdir(dir), ['data.mdb', 'lock.mdb']);
    });
  });

  test('a lock naming our pid from an earlier start (a restarted container) is taken over', async () => {
    await inTempDir(PREFIX, async (dir) => {
      await fs.writeFile(join(dir, 'diststore.lock'), `${process.pid}\n12345\n`);
      await (await openDurableStore(dir, hashKey)).close();
    });
  });

  test('a lock file that names no process is left for the operator', async () => {
    await inTempDir(PREFIX, async (dir) => {
      await fs.writeFile(join(dir, 'diststore.lock'), 'garbage');
      await assert.rejects(openDurableStore(dir, hashKey), (error: Error) => {
        assert.ok(error instanceof DataDirError);
        assert.match(error.message, /does not name a process/);
        return true;
      });
      assert.equal(await fs.readFile(join(dir, 'diststore.lock'), 'utf8'), 'garbage');
    });
  });

  test('garbage or a truncated data.mdb is reported as corrupt and left byte for byte', async () => {
    await inTempDir(PREFIX, async (dir) => {
      const store = await openDurableStore(join(dir, 'real'), hashKey);
      await store.put('a', entry('a'), store.get('a'));
      await store.close();
      const real = await fs.readFile(join(dir, 'real', 'data.mdb'));
      const garbage = Buffer.from(Array.from({ length: 65_536 }, (_, i) => (i * 7919) % 251));
      const truncated = real.subarray(0, 100);
      for (const [name, bytes] of Object.entries({ garbage, truncated })) {
        await fs.mkdir(join(dir, name));
        await fs.writeFile(join(dir, name, 'data.mdb'), bytes);
        await assert.rejects(openDurableStore(join(dir, name), hashKey), (error: Error) => {
          assert.ok(error instanceof DataDirError, name);
          assert.match(error.message, /corrupt.*left untouched/);
          assert.ok(error.message.includes(join(dir, name)));
          return true;
        });
        assert.deepEqual(await snapshot(join(dir, name)), new Map([['data.mdb', bytes]]));
      }
    });
  });

  test('a data dir under a regular file is reported with the path and the reason', async () => {
    await inTempDir(PREFIX, async (dir) => {
      await fs.writeFile(join(dir, 'file'), 'x');
      const path = join(dir, 'file', 'data');
      await assert.rejects(openDurableStore(path, hashKey), (error: Error) => {
        assert.ok(error instanceof DataDirError);
        assert.ok(error.message.includes(path));
        assert.match(error.message, /ENOTDIR|EEXIST/);
        return true;
      });
    });
  });

  test('a data dir of an earlier release, records built by hand, is read and indexed', async () => {
    await inTempDir(PREFIX, async (dir) => {
      // u8 format 1, u8 flags (1 deleted, 2 expires), u16 LE version length, version, u16 LE
      // type length, type, f64 LE expiry when flagged, the value to the end.
      const expiry = Buffer.alloc(8);
      expiry.writeDoubleLE(1_700_000_060_000);
      const record = (flags: number, version: string, type: string, tail: Buffer[]) =>
        Buffer.concat([
          Buffer.from([1, flags, version.length, 0]),
          Buffer.from(version),
          Buffer.from([type.length, 0]),
          Buffer.from(type),
          ...tail,
        ]);
      const db = open<Buffer, string>({ path: dir, encoding: 'binary' });
      await db.put('plain', record(0, '1700000000000.2.n1', 'text/plain', [Buffer.from('old')]));
      await db.put(
        'ttl',
        record(2, '1700000000001.0.n1', 'text/csv', [expiry, Buffer.from('a,b')]),
      );
      await db.put('gone', record(1, '1700000000002.0.n2', '', []));
      await db.close();
      const node = (wall: number, counter: number, id: string) => ({ wall, counter, node: id });
      assert.deepEqual(
        await readAll(dir),
        new Map([
          [
            'gone',
            makeEntry(Buffer.alloc(0), '', node(1_700_000_000_002, 0, 'n2'), { deleted: true }),
          ],
          ['plain', makeEntry(Buffer.from('old'), 'text/plain', node(1_700_000_000_000, 2, 'n1'))],
          [
            'ttl',
            makeEntry(Buffer.from('a,b'), 'text/csv', node(1_700_000_000_001, 0, 'n1'), {
              expiresAt: 1_700_000_060_000,
            }),
          ],
        ]),
      );
      // Counted and indexed once, at the first open.
      const store = await openDurableStore(dir, hashKey);
      try {
        assert.equal(store.count, 3);
        assert.equal(store.bytes, 6);
        assert.equal(store.keyForHash(hashKey('plain')), 'plain');
        assert.deepEqual(store.newest, node(1_700_000_000_002, 0, 'n2'));
      } finally {
        await store.close();
      }
    });
  });

  test('a data dir of layout 1 (stored by key, indexed by hash) moves under hashes, nothing written over', async () => {
    await inTempDir(PREFIX, async (dir) => {
      // Layout 1 as the release before wrote it: each record under its key, [1, hash] → key,
      // META without a layout. '0' sorts before every stored key of layout 2, and the second
      // key is exactly where layout 2 stores '0': moving '0' first must not write over it.
      const crafted = `${hashKey('0').slice(0, 8)}0`;
      const db = open<Buffer, string | number | [number, string]>({
        path: dir,
        encoding: 'binary',
      });
      await db.put('0', encodeRecord(entry('zero', 1)));
      await db.put(crafted, encodeRecord(entry('crafted', 2)));
      for (const key of ['0', crafted]) await db.put([1, hashKey(key)], Buffer.from(key));
      await db.put(0, Buffer.from(JSON.stringify({ count: 2, bytes: 11, index: hashKey('') })));
      await db.close();
      await assertMoved(dir, [
        ['0', entry('zero', 1)],
        [crafted, entry('crafted', 2)],
      ]);
    });
  });

  test('a data dir of layout 2 (under hash prefix and key) moves under whole hashes', async () => {
    await inTempDir(PREFIX, async (dir) => {
      const db = open<Buffer, string | number>({ path: dir, encoding: 'binary' });
      const entries: Array<[string, Entry]> = [
        ['a', entry('first', 1)],
        ['b', { ...entry('', 2), deleted: true }],
        ['c', entry('third', 3, { expiresAt: 4_000_000_000_000 })],
      ];
      for (const [key, e] of entries) await db.put(hashKey(key).slice(0, 8) + key, encodeRecord(e));
      const meta = { count: 3, tombstones: 1, bytes: 10, index: hashKey('') };
      await db.put(0, Buffer.from(`layout 2\n${JSON.stringify(meta)}`));
      await db.close();
      await assertMoved(dir, entries);
      const store = await openDurableStore(dir, hashKey);
      try {
        assert.equal(store.tombstones, 1);
        assert.deepEqual(store.get('c'), entries[2]?.[1]);
      } finally {
        await store.close();
      }
    });
  });

  test('a move to layout 3 stopped in its second step goes on at the next start', async () => {
    await inTempDir(PREFIX, async (dir) => {
      const db = open<Buffer, string | number | [number, string]>({
        path: dir,
        encoding: 'binary',
      });
      await db.put(place('a'), frameOf('a', encodeRecord(entry('first', 1))));
      await db.put([2, 'b'], encodeRecord(entry('second', 2)));
      const meta = { count: 0, bytes: 0, index: hashKey(''), moving: true };
      await db.put(0, Buffer.from(`layout 3\n${JSON.stringify(meta)}`));
      await db.close();
      await assertMoved(dir, [
        ['a', entry('first', 1)],
        ['b', entry('second', 2)],
      ]);
    });
  });

  test('a data dir of a later layout is refused, its data file left byte for byte', async () => {
    await inTempDir(PREFIX, async (dir) => {
      await (await openDurableStore(dir, hashKey)).close();
      // The store's map size, or lmdb would record the store's in the file at its open.
      const db = open<Buffer, number>({ path: dir, encoding: 'binary', mapSize: 2 ** 40 });
      await db.put(0, Buffer.from('layout 4\n{}'));
      await db.close();
      // data.mdb: lock.mdb is lmdb's table of readers, written at every open.
      const before = await fs.readFile(join(dir, 'data.mdb'));
      await assert.rejects(
        openDurableStore(dir, hashKey),
        (error: Error) =>
          error instanceof DataDirError &&
          /is of layout 4, written by a newer release/.test(error.message),
      );
      assert.deepEqual(await fs.readFile(join(dir, 'data.mdb')), before);
    });
  });

  test('a key whose place another key holds is refused, the other kept', async () => {
    await inTempDir(PREFIX, async (dir) => {
      // Hashes that all begin alike (16 characters, the place): what 80 bits of SHA-256 make
      // all but impossible, made certain.
      const hashOf = (key: string) => `${'p'.repeat(16)}${key}`;
      const store = await openDurableStore(dir, hashOf);
      try {
        const refused = (error: Error) =>
          error instanceof StorageError &&
          error.reason === 'collision' &&
          /"second" has the place of the key "first"/.test(error.message);
        // Not committed yet: the place is empty in lmdb, and taken all the same.
        const first = store.put('first', entry('kept'), undefined);
        assert.equal(store.get('second'), undefined);
        await assert.rejects(store.put('second', entry('refused'), undefined), refused);
        await first;
        assert.equal(store.get('second'), undefined, 'the place holds another key');
        await assert.rejects(store.put('second', entry('refused'), undefined), refused);
        assert.deepEqual(store.get('first'), entry('kept'));
        assert.equal(store.keyForHash(hashOf('first')), 'first');
        assert.equal(store.keyForHash(hashOf('second')), undefined, 'another hash, one place');
        assert.equal(store.count, 1);
        await store.remove('first');
        await store.put('second', entry('now'), undefined);
        assert.deepEqual(store.get('second'), entry('now'));
      } finally {
        await store.close();
      }
    });
  });

  test('a move to layout 2 stopped in either step goes on at the next start', async () => {
    for (const step of [1, 2]) {
      await inTempDir(PREFIX, async (dir) => {
        // One entry moved as far as that step takes it, one not moved yet.
        const db = open<Buffer, string | number | [number, string]>({
          path: dir,
          encoding: 'binary',
        });
        await db.put([2, 'a'], encodeRecord(entry('first', 1)));
        if (step === 1) {
          await db.put('b', encodeRecord(entry('second', 2))); // layout 1, no META
        } else {
          await db.put([2, 'b'], encodeRecord(entry('second', 2)));
          const meta = { count: 0, bytes: 0, index: hashKey(''), moving: true };
          await db.put(0, Buffer.from(`layout 2\n${JSON.stringify(meta)}`));
        }
        await db.close();
        await assertMoved(dir, [
          ['a', entry('first', 1)],
          ['b', entry('second', 2)],
        ]);
      });
    }
  });

  test('tombstones are counted across restarts, and once at the first open of a META without their count', async () => {
    await inTempDir(PREFIX, async (dir) => {
      const store = await openDurableStore(dir, hashKey);
      await store.put('live', entry('v'), undefined);
      await store.put('gone', { ...entry('', 2), deleted: true }, undefined);
      await store.put('was', entry('v', 1), undefined);
      await store.put('was', { ...entry('', 3), deleted: true }, store.get('was'));
      await store.put('back', { ...entry('', 4), deleted: true }, undefined);
      await store.put('back', entry('again', 5), store.get('back'));
      await store.remove('gone');
      assert.deepEqual([store.count, store.tombstones], [3, 1]);
      await store.close();

      const reopened = await openDurableStore(dir, hashKey);
      assert.deepEqual([reopened.count, reopened.tombstones], [3, 1]);
      await reopened.close();

      // As the release before wrote META: no tombstone count.
      const db = open<Buffer, number>({ path: dir, encoding: 'binary' });
      const text = db.getBinary(0)?.toString() ?? '';
      const layout = text.slice(0, text.indexOf('\n') + 1);
      const { tombstones, ...older } = JSON.parse(text.slice(layout.length));
      assert.equal(tombstones, 1);
      await db.put(0, Buffer.from(`${layout}${JSON.stringify(older)}`));
      await db.close();
      const counted = await openDurableStore(dir, hashKey);
      try {
        assert.deepEqual([counted.count, counted.tombstones], [3, 1]);
      } finally {
        await counted.close();
      }
    });
  });

  test('a release of layout 1 cannot take a data dir of a later layout for its own', async () => {
    await inTempDir(PREFIX, async (dir) => {
      const store = await openDurableStore(dir, hashKey);
      await store.put('k', entry('v'), undefined);
      await store.close();
      // Layout 1 parsed META as JSON and, on a match, read stored keys as client keys; failing
      // the parse, it stops with "cannot open the data in …" and writes nothing (checked by
      // hand with the release before: data.mdb byte for byte the same).
      const db = open<Buffer, number>({ path: dir, encoding: 'binary' });
      try {
        const meta = db.getBinary(0)?.toString() ?? '';
        assert.throws(() => JSON.parse(meta), SyntaxError);
      } finally {
        await db.close();
      }
      const again = await openDurableStore(dir, hashKey);
      try {
        assert.equal(again.count, 1, 'this release reads it');
      } finally {
        await again.close();
      }
    });
  });

  test('a record that cannot be decoded is reported with its key, not skipped', async () => {
    await inTempDir(PREFIX, async (dir) => {
      await (await openDurableStore(dir, hashKey)).close();
      const db = open<Buffer, string>({ path: dir, encoding: 'binary' });
      await db.put(place('from the future'), frameOf('from the future', Buffer.from([99, 0, 0])));
      await db.close();
      const store = await openDurableStore(dir, hashKey);
      try {
        assert.throws(() => [...store.entries()], /key "from the future".*format 99/);
        assert.throws(() => store.versionOf('from the future'), /key "from the future".*format 99/);
      } finally {
        await store.close();
      }
    });
  });

  test('every awaited put survives the node being killed with SIGKILL', async () => {
    await inTempDir(PREFIX, async (dir) => {
      const modules = ['cluster/durable-store.ts', 'cluster/entry.ts', 'cluster/wire.ts'].map((p) =>
        join(REPO, p),
      );
      const script = `
        import { openDurableStore } from ${JSON.stringify(modules[0])};
        import { makeEntry } from ${JSON.stringify(modules[1])};
        import { keyHash } from ${JSON.stringify(modules[2])};
        const store = await openDurableStore(${JSON.stringify(dir)}, (key) => keyHash('test', key));
        for (let i = 0; i < 1000; i++) {
          await store.put('k' + i, makeEntry(Buffer.from('v' + i), 'text/plain', { wall: i, counter: 0, node: 'n1' }), store.get('k' + i));
        }
        console.log('done');
        setInterval(() => {}, 1000);`;
      const { child, exited } = spawnNode(['--import', 'tsx', '--input-type=module', '-e', script]);
      // A deadline, so a child that never gets there fails the test instead of hanging it.
      const deadline = setTimeout(() => child.kill('SIGKILL'), 30_000);
      let output = '';
      child.stdout?.on('data', (chunk: Buffer) => {
        output += chunk.toString();
        if (output.includes('done')) child.kill('SIGKILL');
      });
      const [exitCode, signal] = (await exited) as [number | null, string | null];
      clearTimeout(deadline);
      assert.ok(output.includes('done'), `child ended (${exitCode ?? signal}) before "done"`);
      assert.equal(signal, 'SIGKILL');
      // The killed node left its lock behind; the reopen below has to take it over.
      const lock = await fs.readFile(join(dir, 'diststore.lock'), 'utf8');
      assert.equal(lock.split('\n')[0], String(child.pid));
      // Counts, newest version and who-has lookups are right after the kill (opened with the
      // child's hash; another would store every entry again).
      const reopened = await openDurableStore(dir, hashKey);
      try {
        assert.equal(reopened.count, 1000);
        assert.equal(reopened.bytes, 3890); // 'v0'…'v999'
        assert.deepEqual(reopened.newest, { wall: 999, counter: 0, node: 'n1' });
        assert.equal(reopened.keyForHash(hashKey('k999')), 'k999');
      } finally {
        await reopened.close();
      }
      const read = await readAll(dir);
      assert.equal(read.size, 1000);
      for (let i = 0; i < 1000; i++) assert.deepEqual(read.get(`k${i}`), entry(`v${i}`, i));
    });
  });
});
