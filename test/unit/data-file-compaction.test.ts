import assert from 'node:assert/strict';
import * as fs from 'node:fs/promises';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { COMPACTION_DIR } from '../../cluster/data-file-compaction.js';
import { type DurableStore, openDurableStore } from '../../cluster/durable-store.js';
import { type Entry, makeEntry } from '../../cluster/entry.js';
import { keyHash } from '../../cluster/wire.js';
import { looseKey as key, looseDataDir, looseValue as value } from '../support/loose-data-dir.js';
import { inTempDir } from '../support/temp-dir.js';

const PREFIX = 'compaction-';
const CLUSTER = 'test';
const hashKey = (k: string) => keyHash(CLUSTER, k);
/** Enough for a loose file several MiB larger than the same entries in key order. */
const ENTRIES = 30_000;

function entry(text: string, wall: number): Entry {
  return makeEntry(Buffer.from(text), 'text/plain', { wall, counter: 0, node: 'n1' });
}

async function assertHolds(store: DurableStore, expected: Map<string, Entry>): Promise<void> {
  assert.deepEqual(new Map(store.entries()), expected);
  assert.equal(store.count, expected.size);
  for (const k of [key(0), key(ENTRIES - 1), 'new-0']) {
    if (expected.has(k)) assert.equal(store.keyForHash(hashKey(k)), k);
  }
}

describe('data file compaction', () => {
  test('a loose data file is rewritten in key order, smaller, with every write made meanwhile', () =>
    inTempDir(PREFIX, async (dir) => {
      const expected = await looseDataDir(dir, CLUSTER, ENTRIES);
      const store = await openDurableStore(dir, hashKey);
      try {
        const looseBytes = store.disk.fileBytes;
        // A walk begun before the swap (a sync stream) goes on in the old file to its end.
        const walk = store.entries() as Generator<[string, Entry]>;
        const walked = [walk.next().value];
        const compaction = store.compact();
        let round = 0;
        let settled = false;
        compaction.finally(() => {
          settled = true;
        });
        // Writes, overwrites and removals all through the copy, each in a turn of its own;
        // bounded, should the compaction never end.
        const deadline = performance.now() + 60_000;
        while (!settled && performance.now() < deadline) {
          round++;
          const changes: Promise<void>[] = [];
          const added = entry(`added in round ${round}`, 100_000 + round);
          changes.push(store.put(`new-${round}`, added, store.get(`new-${round}`)));
          expected.set(`new-${round}`, added);
          const k = key(round * 7);
          const overwritten = entry(value(round * 7, round), 200_000 + round);
          changes.push(store.put(k, overwritten, store.get(k)));
          expected.set(k, overwritten);
          changes.push(store.remove(key(round * 7 + 1)));
          expected.delete(key(round * 7 + 1));
          await Promise.all(changes);
          await nextTurn();
        }
        assert.ok(settled, 'the compaction ended within 60 s');
        const result = await compaction;
        assert.ok(result.compacted, JSON.stringify(result));
        assert.ok(round > 1, 'writes were made during the copy');
        assert.equal(result.fromBytes, looseBytes);
        assert.ok(result.toBytes < 0.8 * looseBytes, `${result.toBytes} of ${looseBytes} bytes`);
        assert.equal(store.disk.fileBytes, result.toBytes);
        await assertHolds(store, expected);
        for (const item of walk) walked.push(item);
        assert.equal(walked.length, ENTRIES);
        console.log(
          `FIGURE compaction entries=${ENTRIES} from_bytes=${result.fromBytes} to_bytes=${result.toBytes} turns_with_writes=${round} walked=${walked.length}`,
        );
        assert.deepEqual(await store.compact(), { compacted: false, reason: 'not loose' });
      } finally {
        await store.close();
      }
      const names = await fs.readdir(dir);
      assert.ok(!names.includes(COMPACTION_DIR), `left: ${names}`);
      const { size, mode } = await fs.stat(join(dir, 'data.mdb'));
      assert.equal(mode & 0o777, 0o600);
      const reopened = await openDurableStore(dir, hashKey);
      try {
        assert.ok(size <= reopened.disk.fileBytes * 1.01, `file ${size}`);
        await assertHolds(reopened, expected);
      } finally {
        await reopened.close();
      }
    }));

  test('a file of values that take overflow pages of their own is not taken for loose', () =>
    inTempDir(PREFIX, async (dir) => {
      // 5,000 bytes: two pages each, in whatever order they were written.
      await looseDataDir(dir, CLUSTER, 2000, 5000);
      const store = await openDurableStore(dir, hashKey);
      try {
        assert.ok(store.disk.fileBytes > 2000 * 2 * 4096, `${store.disk.fileBytes} bytes`);
        assert.deepEqual(await store.compact(), { compacted: false, reason: 'not loose' });
      } finally {
        await store.close();
      }
    }));

  test('a store closed during a compaction keeps its data file; the copy is removed', () =>
    inTempDir(PREFIX, async (dir) => {
      const expected = await looseDataDir(dir, CLUSTER, ENTRIES);
      const store = await openDurableStore(dir, hashKey);
      const looseBytes = store.disk.fileBytes;
      const compaction = store.compact();
      await store.close();
      assert.deepEqual(await compaction, { compacted: false, reason: 'stopped' });
      assert.ok(!(await fs.readdir(dir)).includes(COMPACTION_DIR));
      const reopened = await openDurableStore(dir, hashKey);
      try {
        assert.equal(reopened.disk.fileBytes, looseBytes);
        await assertHolds(reopened, expected);
      } finally {
        await reopened.close();
      }
    }));

  test('a copy left by a crash during a compaction is removed at the next start', () =>
    inTempDir(PREFIX, async (dir) => {
      const store = await openDurableStore(dir, hashKey);
      await store.put('kept', entry('kept', 1), undefined);
      await store.close();
      await fs.mkdir(join(dir, COMPACTION_DIR));
      await fs.writeFile(join(dir, COMPACTION_DIR, 'data.mdb'), 'half a copy');
      const reopened = await openDurableStore(dir, hashKey);
      try {
        assert.ok(!(await fs.readdir(dir)).includes(COMPACTION_DIR));
        assert.equal(reopened.get('kept')?.value.toString(), 'kept');
        assert.deepEqual(await reopened.compact(), { compacted: false, reason: 'not loose' });
      } finally {
        await reopened.close();
      }
    }));
});
