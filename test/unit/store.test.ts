import assert from 'node:assert/strict';
import * as fs from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { before, describe, type TestContext, test } from 'node:test';
import { openDurableStore } from '../../cluster/durable-store.js';
import { type Entry, makeEntry, makeTombstone } from '../../cluster/entry.js';
import { decodeRecord, frameKey, frameRecord } from '../../cluster/entry-codec.js';
import type { PrimaryTier } from '../../cluster/primary-tier.js';
import { Store, type StoreOptions } from '../../cluster/store.js';
import type { Version } from '../../cluster/version.js';
import { waitFor } from '../support/wait-for.js';

const START = 1_700_000_000_000;

function v(wall: number, counter = 0, node = 'n1'): Version {
  return { wall, counter, node };
}

function entryOf(text: string, version: Version, expiresAt?: number): Entry {
  return makeEntry(Buffer.from(text), 'text/plain', version, { expiresAt });
}

const hashOf = (key: string) => `hash:${key}`;

/**
 * A Store whose wall clock is `clock.now`, moved by the test; closed when the test ends.
 * Cached copies still expire on the real clock (node-cache's TTL).
 */
/** The primary tier the tests run against: every test runs on both. */
let tier: 'memory' | 'lmdb' = 'memory';

async function storeFor(
  t: TestContext,
  options: Partial<Omit<StoreOptions, 'now' | 'hashKey'>> = {},
) {
  const clock = { now: START };
  let primary: PrimaryTier | undefined;
  if (tier === 'lmdb') {
    const dir = await fs.mkdtemp(join(tmpdir(), 'store-'));
    const durable = await openDurableStore(dir, hashOf);
    t.after(async () => {
      await durable.close();
      await fs.rm(dir, { recursive: true, force: true });
    });
    primary = durable;
  }
  const store = new Store(
    {
      cacheTtlSeconds: 60,
      cacheMaxKeys: 0,
      cacheMaxBytes: 0,
      tombstoneTtlSeconds: 10,
      hashKey: hashOf,
      now: () => clock.now,
      ...options,
    },
    primary,
  );
  t.after(() => store.close());
  return { store, clock };
}

/** putPrimary's answer: the entry now held as primary, if it changed. */
function keep(store: Store, key: string, entry: Entry): Entry | undefined {
  return store.putPrimary(key, entry)?.kept;
}

/** The keys a sweep removed. */
function swept(store: Store): string[] {
  return store.sweep().map(([key]) => key);
}

for (const each of ['memory', 'lmdb'] as const) {
  describe(`primary tier in ${each}`, () => {
    before(() => {
      tier = each;
    });

    describe('Store: last writer wins', () => {
      test('putPrimary keeps only a strictly newer version', async (t) => {
        const { store } = await storeFor(t);
        const second = entryOf('second', v(2));

        assert.deepEqual(keep(store, 'k', second), second);
        assert.equal(keep(store, 'k', entryOf('first', v(1))), undefined);
        assert.equal(keep(store, 'k', entryOf('same version', v(2))), undefined);
        assert.deepEqual(store.get('k'), second);

        const third = entryOf('third', v(2, 1));
        assert.deepEqual(keep(store, 'k', third), third);
        assert.deepEqual(store.get('k'), third);
        assert.equal(store.primaryCount, 1);
        assert.deepEqual(store.bytes, { primary: 5, cached: 0 });
      });

      test('putCached keeps only a strictly newer version', async (t) => {
        const { store } = await storeFor(t);
        const second = entryOf('second', v(2));

        assert.equal(store.putCached('k', second), true);
        assert.equal(store.putCached('k', entryOf('first', v(1))), false);
        assert.equal(store.putCached('k', entryOf('same version', v(2))), false);
        assert.deepEqual(store.get('k'), second);

        const third = entryOf('third', v(2, 0, 'n2'));
        assert.equal(store.putCached('k', third), true);
        assert.deepEqual(store.get('k'), third);
        assert.equal(store.cachedCount, 1);
        assert.equal(store.primaryCount, 0);
        assert.deepEqual(store.bytes, { primary: 0, cached: 5 });
      });

      test('putCached refuses when a primary is held, even an older one or a tombstone', async (t) => {
        const { store } = await storeFor(t);
        const primary = entryOf('primary', v(1));
        const tombstone = makeTombstone(v(1));

        keep(store, 'p', primary);
        keep(store, 'gone', tombstone);

        assert.equal(store.putCached('p', entryOf('newer copy', v(9))), false);
        assert.equal(store.putCached('gone', entryOf('newer copy', v(9))), false);
        assert.deepEqual(store.get('p'), primary);
        assert.deepEqual(store.get('gone'), tombstone);
        assert.equal(store.cachedCount, 0);
        assert.deepEqual(store.bytes, { primary: 7, cached: 0 });
      });

      test('a newer primary replaces a cached copy', async (t) => {
        const { store } = await storeFor(t);
        const primary = entryOf('primary', v(2));

        store.putCached('k', entryOf('cached', v(1)));
        assert.deepEqual(keep(store, 'k', primary), primary);

        assert.deepEqual(store.get('k'), primary);
        assert.equal(store.cachedCount, 0);
        assert.equal(store.primaryCount, 1);
        assert.deepEqual(store.bytes, { primary: 7, cached: 0 });
        assert.equal(store.keyForHash(hashOf('k')), 'k');
      });

      test('a cached copy of the same version is promoted to primary', async (t) => {
        const { store } = await storeFor(t);
        const entry = entryOf('same', v(5));

        store.putCached('k', entry);
        assert.deepEqual(keep(store, 'k', entry), entry);

        assert.deepEqual(store.get('k'), entry);
        assert.deepEqual([store.primaryCount, store.cachedCount], [1, 0]);
        assert.deepEqual([...store.primaryEntries()], [['k', entry]], 'in syncs and re-sends');
        assert.equal(store.keyForHash(hashOf('k')), 'k');
      });

      test('a newer cached copy is promoted in place of an older primary', async (t) => {
        const { store } = await storeFor(t);
        const cached = entryOf('cached', v(5));

        store.putCached('k', cached);
        assert.deepEqual(keep(store, 'k', entryOf('older', v(4))), cached);

        assert.deepEqual(store.get('k'), cached);
        assert.deepEqual([store.primaryCount, store.cachedCount], [1, 0]);
        assert.deepEqual(store.bytes, { primary: 6, cached: 0 });
        assert.equal(keep(store, 'k', entryOf('equal', v(5))), undefined, 'then held: no change');
      });
    });

    describe('Store: keyForHash', () => {
      test('finds the keys of both tiers', async (t) => {
        const { store } = await storeFor(t);

        keep(store, 'p', entryOf('p', v(1)));
        store.putCached('c', entryOf('c', v(1)));

        assert.equal(store.keyForHash(hashOf('p')), 'p');
        assert.equal(store.keyForHash(hashOf('c')), 'c');
        assert.equal(store.keyForHash(hashOf('other')), undefined);
      });

      test('cachedKeyForHash finds cached copies only', async (t) => {
        const { store } = await storeFor(t);

        keep(store, 'p', entryOf('p', v(1)));
        store.putCached('c', entryOf('c', v(1)));

        assert.equal(store.cachedKeyForHash(hashOf('c')), 'c');
        assert.equal(store.cachedKeyForHash(hashOf('p')), undefined);
      });

      test('keeps a key whose cached copy is replaced by a newer copy', async (t) => {
        const { store } = await storeFor(t);

        store.putCached('c', entryOf('old', v(1)));
        store.putCached('c', entryOf('new', v(2)));

        assert.equal(store.keyForHash(hashOf('c')), 'c');
      });

      test('forgets a key evicted from the cache', async (t) => {
        const { store } = await storeFor(t, { cacheMaxKeys: 1 });

        store.putCached('a', entryOf('a', v(1)));
        store.putCached('b', entryOf('b', v(1)));

        assert.equal(store.keyForHash(hashOf('a')), undefined);
        assert.equal(store.keyForHash(hashOf('b')), 'b');
      });

      test('forgets a cached key invalidated, keeps a superseded primary findable', async (t) => {
        const { store } = await storeFor(t);

        store.putCached('c', entryOf('c', v(1)));
        keep(store, 'p', entryOf('p', v(1)));
        store.invalidate('c', v(2), false);
        store.invalidate('p', v(2), true);

        assert.equal(store.keyForHash(hashOf('c')), undefined);
        assert.equal(store.keyForHash(hashOf('p')), 'p');
      });

      test('forgets a key swept away, expired or an old tombstone', async (t) => {
        const { store, clock } = await storeFor(t, { tombstoneTtlSeconds: 10 });

        keep(store, 'expiring', entryOf('x', v(START), START + 1_000));
        keep(store, 'deleted', makeTombstone(v(START)));
        clock.now = START + 11_000;
        swept(store);

        assert.equal(store.keyForHash(hashOf('expiring')), undefined);
        assert.equal(store.keyForHash(hashOf('deleted')), undefined);
      });
    });

    describe('Store: tombstones and expiry', () => {
      test('get returns a tombstone; live() and keys() do not', async (t) => {
        const { store } = await storeFor(t);
        const primaryTombstone = makeTombstone(v(2));
        const cachedTombstone = makeTombstone(v(2));

        keep(store, 'p', entryOf('p', v(1)));
        keep(store, 'p', primaryTombstone);
        store.putCached('c', cachedTombstone);
        keep(store, 'alive', entryOf('alive', v(1)));

        assert.deepEqual(store.get('p'), primaryTombstone);
        assert.deepEqual(store.get('c'), cachedTombstone);
        assert.equal(store.live('p'), undefined);
        assert.equal(store.live('c'), undefined);
        assert.deepEqual(store.keys(), ['alive']);
        assert.equal(store.primaryCount, 2, 'a tombstone is still a primary entry');
        assert.equal(store.cachedCount, 1);
      });

      test('an expired primary is hidden as soon as now passes expiresAt, and swept', async (t) => {
        const { store, clock } = await storeFor(t);
        const expiresAt = START + 1_000;
        const entry = entryOf('soon gone', v(START), expiresAt);

        keep(store, 'k', entry);
        keep(store, 'stays', entryOf('stays', v(START)));
        clock.now = expiresAt - 1;
        assert.deepEqual(store.get('k'), entry);
        assert.deepEqual(store.live('k'), entry);
        assert.deepEqual(store.keys(), ['k', 'stays']);
        assert.deepEqual(swept(store), []);

        clock.now = expiresAt + 1;
        assert.equal(store.get('k'), undefined);
        assert.equal(store.live('k'), undefined);
        assert.deepEqual(store.keys(), ['stays']);
        assert.equal(store.primaryCount, 2, 'hidden, but held until swept');

        assert.deepEqual(swept(store), ['k']);
        assert.equal(store.primaryCount, 1);
        assert.deepEqual(store.bytes, { primary: 5, cached: 0 });
        assert.deepEqual(swept(store), []);
      });

      test('an expired cached copy is hidden as soon as now passes expiresAt', async (t) => {
        const { store, clock } = await storeFor(t);
        const expiresAt = START + 30_000; // within the cache TTL on the real clock too
        const entry = entryOf('cached', v(START), expiresAt);

        store.putCached('k', entry);
        assert.deepEqual(store.get('k'), entry);
        assert.deepEqual(store.keys(), ['k']);

        clock.now = expiresAt + 1;
        assert.equal(store.get('k'), undefined);
        assert.equal(store.live('k'), undefined);
        assert.deepEqual(store.keys(), []);
      });

      test('sweep removes tombstones older than tombstoneTtlSeconds and keeps younger ones', async (t) => {
        const { store, clock } = await storeFor(t, { tombstoneTtlSeconds: 10 });

        keep(store, 'old', makeTombstone(v(START - 10_001)));
        keep(store, 'young', makeTombstone(v(START - 5_000)));
        keep(store, 'ancient value', entryOf('kept', v(START - 1_000_000)));

        assert.deepEqual(swept(store), ['old']);
        assert.equal(store.get('old'), undefined);
        assert.equal(store.get('young')?.deleted, true);
        assert.equal(store.primaryCount, 2);

        clock.now = START + 5_001;
        assert.deepEqual(swept(store), ['young']);
        assert.deepEqual(store.keys(), ['ancient value'], 'a value without a TTL is never swept');
      });
    });

    describe('Store: invalidate', () => {
      test('drops an older cached copy and says so', async (t) => {
        const { store } = await storeFor(t);

        store.putCached('k', entryOf('cached', v(1)));

        assert.equal(store.invalidate('k', v(2), false), 'cached');
        assert.equal(store.get('k'), undefined);
        assert.equal(store.cachedCount, 0);
        assert.deepEqual(store.bytes, { primary: 0, cached: 0 });
      });

      test('marks an older primary superseded only with primaryToo, and never removes it', async (t) => {
        const { store } = await storeFor(t);
        const primary = entryOf('primary', v(1));

        keep(store, 'k', primary);
        assert.equal(store.invalidate('k', v(2), false), undefined);
        assert.deepEqual(store.live('k'), primary);

        assert.equal(store.invalidate('k', v(2), true), 'primary');
        assert.ok(store.supersededBy('k'));
        assert.equal(store.live('k'), undefined, 'not served as current');
        assert.deepEqual(store.get('k'), primary, 'still held');
        assert.deepEqual([...store.primaryEntries()], [['k', primary]], 'still re-sent');
        assert.deepEqual(store.bytes, { primary: 7, cached: 0 });

        const older = entryOf('still older', v(1, 5));
        keep(store, 'k', older);
        assert.ok(store.supersededBy('k'), 'a version older than the mark keeps it');
        const newer = entryOf('newer', v(2));
        assert.deepEqual(keep(store, 'k', newer), newer);
        assert.equal(store.supersededBy('k'), undefined);
        assert.deepEqual(store.live('k'), newer);
      });

      test('never drops an equal or newer version, from either tier', async (t) => {
        const { store } = await storeFor(t);
        const cached = entryOf('cached', v(5, 1));
        const primary = entryOf('primary', v(5, 1));

        store.putCached('c', cached);
        keep(store, 'p', primary);

        for (const version of [v(5, 1), v(5, 0), v(4, 9), v(5, 1, 'a')]) {
          assert.equal(store.invalidate('c', version, true), undefined);
          assert.equal(store.invalidate('p', version, true), undefined);
        }
        assert.deepEqual(store.get('c'), cached);
        assert.deepEqual(store.get('p'), primary);
      });

      test('returns undefined for a key not held', async (t) => {
        const { store } = await storeFor(t);
        assert.equal(store.invalidate('k', v(1), true), undefined);
      });
    });

    describe('Store: cached-copy TTL', () => {
      test('a copy whose expiresAt is sooner than the cache TTL does not outlive it', async (t) => {
        // `now` stands still: the copy must leave the cache tier itself, not just be hidden.
        const { store } = await storeFor(t, { cacheTtlSeconds: 60 });

        store.putCached('k', entryOf('short', v(START), START + 50));
        assert.equal(store.get('k')?.value.toString(), 'short');

        await waitFor(() => store.get('k') === undefined, 'the copy to leave the cache');
        assert.equal(store.cachedCount, 0);
        assert.deepEqual(store.bytes, { primary: 0, cached: 0 });
        assert.equal(store.keyForHash(hashOf('k')), undefined);
      });

      test('a copy whose expiresAt is later than the cache TTL still goes at the cache TTL', async (t) => {
        const { store } = await storeFor(t, { cacheTtlSeconds: 0.05 });

        store.putCached('k', entryOf('long', v(START), START + 3_600_000));
        await waitFor(() => store.get('k') === undefined, 'the copy to leave the cache');

        assert.equal(store.cachedCount, 0);
        assert.equal(store.keyForHash(hashOf('k')), undefined);
      });
    });

    describe('Store: walks', () => {
      test('primaryFrames and readableKeys see every primary entry, written a moment ago too', async (t) => {
        const { store, clock } = await storeFor(t);
        const live = entryOf('live', v(1));
        const expiring = entryOf('soon', v(2), START + 1_000);
        keep(store, 'live', live);
        keep(store, 'expiring', expiring);
        keep(store, 'gone', makeTombstone(v(3)));
        store.putCached('copy', entryOf('copy', v(4)));
        const records = new Map(
          [...store.primaryFrames()].map((frame) => [
            frameKey(frame),
            decodeRecord(frameRecord(frame)),
          ]),
        );
        assert.deepEqual(records, new Map([...store.primaryEntries()]));
        assert.deepEqual(records.get('live'), live);
        assert.equal(records.size, 3, 'tombstones too; cached copies are not primary');
        assert.deepEqual([...store.readableKeys()].sort(), ['copy', 'expiring', 'live']);
        clock.now = START + 1_000;
        assert.deepEqual([...store.readableKeys()].sort(), ['copy', 'live']);
        assert.equal(store.keyCount, 3, 'the tombstone not counted; the expired entry until swept');
        await Promise.all(store.sweep().map(([, removed]) => removed));
        assert.equal(store.keyCount, 2);
      });
    });

    describe('Store: scanKeys', () => {
      test('pages through the primary keys in order, then the cached ones, each held key once', async (t) => {
        const { store, clock } = await storeFor(t, { cacheMaxKeys: 100 });
        const primaries = Array.from({ length: 25 }, (_, i) => `p${String(i).padStart(2, '0')}`);
        for (const key of primaries) await store.putPrimary(key, entryOf(key, v(1)))?.stored;
        await store.putPrimary('p-deleted', makeTombstone(v(2)))?.stored;
        await store.putPrimary('p-expired', entryOf('x', v(2), START + 500))?.stored;
        for (const key of ['c2', 'c1']) store.putCached(key, entryOf(key, v(3)));
        clock.now = START + 500;

        const seen: string[] = [];
        let page = store.scanKeys(undefined, 10);
        seen.push(...page.keys);
        // Between pages: a key before the position is removed, one after it is added.
        await store.putPrimary('p00', makeTombstone(v(5)))?.stored;
        await store.putPrimary('p99', entryOf('new', v(5)))?.stored;
        while (page.next) {
          assert.ok(page.keys.length <= 10);
          page = store.scanKeys(page.next, 10);
          seen.push(...page.keys);
        }
        // A key written during the walk may come or not; every key held throughout comes once.
        assert.deepEqual(
          seen.filter((key) => key !== 'p99'),
          [...primaries, 'c1', 'c2'],
          'in order, once each',
        );
        // A walk started after a write meets it, however soon after (no time has passed).
        store.putCached('c0', entryOf('c0', v(6)));
        assert.deepEqual(store.scanKeys(undefined, 100).keys, [
          ...primaries.slice(1),
          'p99',
          'c0',
          'c1',
          'c2',
        ]);
      });
    });

    describe('Store: sizes and bounds', () => {
      test('bytes and counts of both tiers stay exact', async (t) => {
        const { store, clock } = await storeFor(t);
        const expect = (
          primaryCount: number,
          cachedCount: number,
          primary: number,
          cached: number,
        ) => {
          assert.equal(store.primaryCount, primaryCount);
          assert.equal(store.cachedCount, cachedCount);
          assert.deepEqual(store.bytes, { primary, cached });
        };

        keep(store, 'a', entryOf('12345', v(1)));
        expect(1, 0, 5, 0);
        keep(store, 'a', entryOf('123', v(2)));
        expect(1, 0, 3, 0);
        keep(store, 'a', entryOf('refused', v(1)));
        expect(1, 0, 3, 0);
        keep(store, 'b', makeTombstone(v(1)));
        expect(2, 0, 3, 0);
        store.putCached('c', entryOf('1234', v(1)));
        expect(2, 1, 3, 4);
        store.putCached('c', entryOf('123456', v(2)));
        expect(2, 1, 3, 6);
        keep(store, 'c', entryOf('12', v(3)));
        expect(3, 0, 5, 0);
        store.putCached('d', entryOf('1234567', v(1)));
        expect(3, 1, 5, 7);
        store.invalidate('d', v(2), false);
        expect(3, 0, 5, 0);
        store.invalidate('c', v(4), true);
        expect(3, 0, 5, 0);
        keep(store, 'e', entryOf('1234', v(1), START + 1));
        expect(4, 0, 9, 0);
        clock.now = START + 100_000;
        assert.deepEqual(swept(store).sort(), ['b', 'e']);
        expect(2, 0, 5, 0);
      });

      test('cacheMaxKeys bounds cached copies only, never primary entries', async (t) => {
        const { store } = await storeFor(t, { cacheMaxKeys: 2 });

        for (let i = 0; i < 5; i++) keep(store, `p${i}`, entryOf(`p${i}`, v(1)));
        for (const key of ['c1', 'c2', 'c3']) store.putCached(key, entryOf(key, v(1)));

        assert.equal(store.primaryCount, 5);
        assert.equal(store.cachedCount, 2);
        assert.equal(store.get('c1'), undefined);
        for (let i = 0; i < 5; i++) assert.equal(store.live(`p${i}`)?.value.toString(), `p${i}`);
        assert.deepEqual(store.keys(), ['p0', 'p1', 'p2', 'p3', 'p4', 'c2', 'c3']);
      });

      test('cacheMaxBytes counts cached bytes only', async (t) => {
        const { store } = await storeFor(t, { cacheMaxBytes: 10 });

        keep(store, 'big', entryOf('x'.repeat(100), v(1)));
        store.putCached('a', entryOf('1234', v(1)));
        store.putCached('b', entryOf('1234', v(1)));
        store.putCached('c', entryOf('1234', v(1)));

        assert.deepEqual(store.bytes, { primary: 100, cached: 8 });
        assert.equal(store.get('a'), undefined);
        assert.equal(store.get('big')?.value.length, 100);
      });

      test('a primary replacing a cached copy frees its slot', async (t) => {
        const { store } = await storeFor(t, { cacheMaxKeys: 2 });

        store.putCached('b', entryOf('b', v(1)));
        store.putCached('a', entryOf('a', v(1)));
        keep(store, 'a', entryOf('a2', v(2)));
        store.putCached('c', entryOf('c', v(1))); // fits without evicting 'b'

        assert.equal(store.cachedCount, 2);
        assert.equal(store.get('b')?.value.toString(), 'b');
        assert.equal(store.get('c')?.value.toString(), 'c');
      });

      test('a read through get() or live() is a use of a cached copy; a refused put is not', async (t) => {
        const { store } = await storeFor(t, { cacheMaxKeys: 2 });

        store.putCached('a', entryOf('a', v(2)));
        store.putCached('b', entryOf('b', v(1)));
        store.get('a');
        store.putCached('c', entryOf('c', v(1))); // 'b' was read least recently
        assert.equal(store.get('b'), undefined);

        assert.equal(store.putCached('a', entryOf('older a', v(1))), false);
        store.putCached('d', entryOf('d', v(1))); // 'a' was read least recently
        assert.equal(store.get('a'), undefined);

        store.live('c');
        store.putCached('e', entryOf('e', v(1)));
        assert.equal(store.get('d'), undefined);
        assert.deepEqual(store.keys(), ['c', 'e']);
      });
    });
  });
}
