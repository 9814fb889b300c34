import assert from 'node:assert/strict';
import { describe, type TestContext, test } from 'node:test';
import { CacheTier, type CacheTierOptions } from '../../cluster/cache-tier.js';
import { type Entry, makeEntry } from '../../cluster/entry.js';
import { waitFor } from '../support/wait-for.js';

/** An entry whose value is `size` bytes (the tier bounds count value bytes only). */
function sized(size: number, wall = 1): Entry {
  return makeEntry(Buffer.alloc(size, 'x'), 'text/plain', { wall, counter: 0, node: 'n1' });
}

function entryOf(text: string, wall = 1): Entry {
  return makeEntry(Buffer.from(text), 'text/plain', { wall, counter: 0, node: 'n1' });
}

/** A tier that records every key it reports as removed, closed when the test ends. */
function tierFor(t: TestContext, options: Partial<Omit<CacheTierOptions, 'onRemove'>> = {}) {
  const removed: string[] = [];
  const tier = new CacheTier({
    ttlSeconds: 60,
    maxKeys: 0,
    maxBytes: 0,
    onRemove: (key) => removed.push(key),
    ...options,
  });
  t.after(() => tier.close());
  return { tier, removed };
}

describe('CacheTier', () => {
  test('get and peek return the copy that was set; delete removes it', (t) => {
    const { tier, removed } = tierFor(t);
    const entry = entryOf('hello');

    tier.set('k', entry);
    assert.deepEqual(tier.get('k'), entry);
    assert.deepEqual(tier.peek('k'), entry);
    assert.equal(tier.has('k'), true);
    assert.deepEqual([...tier.keys()], ['k']);
    assert.equal(tier.count, 1);
    assert.equal(tier.bytes, 5);

    tier.delete('k');
    assert.equal(tier.get('k'), undefined);
    assert.equal(tier.peek('k'), undefined);
    assert.equal(tier.has('k'), false);
    assert.deepEqual([...tier.keys()], []);
    assert.equal(tier.count, 0);
    assert.equal(tier.bytes, 0);
    assert.deepEqual(removed, ['k']);
  });

  test('a missing key reads as undefined, and deleting it reports nothing', (t) => {
    const { tier, removed } = tierFor(t);

    assert.equal(tier.get('nope'), undefined);
    assert.equal(tier.peek('nope'), undefined);
    tier.delete('nope');
    assert.deepEqual(removed, []);
  });

  test('with maxKeys N, inserting N+1 evicts the oldest copy', (t) => {
    const { tier, removed } = tierFor(t, { maxKeys: 3 });

    for (const key of ['a', 'b', 'c']) tier.set(key, entryOf(key));
    assert.deepEqual(removed, []);
    tier.set('d', entryOf('d'));

    assert.deepEqual(removed, ['a']);
    assert.equal(tier.peek('a'), undefined);
    assert.deepEqual([...tier.keys()], ['b', 'c', 'd']);
    assert.equal(tier.count, 3);
  });

  test('a get moves the key to the back: the least recently read copy goes first', (t) => {
    const { tier, removed } = tierFor(t, { maxKeys: 3 });

    for (const key of ['a', 'b', 'c']) tier.set(key, entryOf(key));
    tier.get('a');
    tier.set('d', entryOf('d'));

    assert.deepEqual(removed, ['b']);
    assert.deepEqual([...tier.keys()], ['c', 'a', 'd']);
  });

  test('a peek does not count as a read', (t) => {
    const { tier, removed } = tierFor(t, { maxKeys: 3 });

    for (const key of ['a', 'b', 'c']) tier.set(key, entryOf(key));
    tier.peek('a');
    tier.has('a');
    tier.set('d', entryOf('d'));

    assert.deepEqual(removed, ['a']);
    assert.deepEqual([...tier.keys()], ['b', 'c', 'd']);
  });

  test('with maxBytes, inserting evicts the oldest copies only until the new value fits', (t) => {
    const { tier, removed } = tierFor(t, { maxBytes: 10 });

    for (const key of ['a', 'b', 'c']) tier.set(key, sized(3));
    assert.equal(tier.bytes, 9);

    tier.set('d', sized(4)); // 13 > 10: dropping 'a' leaves exactly 10
    assert.deepEqual(removed, ['a']);
    assert.deepEqual([...tier.keys()], ['b', 'c', 'd']);
    assert.equal(tier.bytes, 10);

    tier.set('e', sized(8)); // needs 'b', 'c' and 'd' gone
    assert.deepEqual(removed, ['a', 'b', 'c', 'd']);
    assert.deepEqual([...tier.keys()], ['e']);
    assert.equal(tier.bytes, 8);
    assert.equal(tier.count, 1);
  });

  test('a value of exactly maxBytes is stored, evicting everything else', (t) => {
    const { tier, removed } = tierFor(t, { maxBytes: 10 });

    tier.set('a', sized(4));
    tier.set('b', sized(10));

    assert.deepEqual(removed, ['a']);
    assert.deepEqual([...tier.keys()], ['b']);
    assert.equal(tier.bytes, 10);
  });

  test('a value larger than maxBytes is not stored and evicts nothing', (t) => {
    const { tier, removed } = tierFor(t, { maxBytes: 10 });

    tier.set('a', sized(4));
    tier.set('b', sized(4));
    tier.set('big', sized(11));

    assert.equal(tier.get('big'), undefined);
    assert.equal(tier.has('big'), false);
    assert.deepEqual(removed, []);
    assert.deepEqual([...tier.keys()], ['a', 'b']);
    assert.equal(tier.bytes, 8);
    assert.equal(tier.count, 2);
  });

  test('an oversized new version of a held key drops the old copy and stores nothing', (t) => {
    const { tier, removed } = tierFor(t, { maxBytes: 10 });

    tier.set('a', sized(4, 1));
    tier.set('b', sized(4, 1));
    tier.set('a', sized(11, 2));

    assert.equal(tier.peek('a'), undefined);
    assert.deepEqual(removed, ['a']);
    assert.deepEqual([...tier.keys()], ['b']);
    assert.equal(tier.bytes, 4);
    assert.equal(tier.count, 1);
  });

  test('bytes and count stay exact through set, replace, delete and evict', (t) => {
    const { tier } = tierFor(t, { maxKeys: 3, maxBytes: 20 });
    const expect = (count: number, bytes: number) => {
      assert.equal(tier.count, count);
      assert.equal(tier.bytes, bytes);
    };

    tier.set('a', sized(5));
    expect(1, 5);
    tier.set('b', sized(7));
    expect(2, 12);
    tier.set('a', sized(2, 2)); // replace: smaller
    expect(2, 9);
    tier.set('b', sized(9, 2)); // replace: larger
    expect(2, 11);
    tier.set('c', sized(4));
    expect(3, 15);
    tier.set('d', sized(1)); // maxKeys: 'a' (2 bytes) goes
    expect(3, 14);
    tier.set('e', sized(16)); // maxBytes: 30, then 'b' (9) goes, 21, then 'c' (4) goes
    expect(2, 17);
    tier.delete('d');
    expect(1, 16);
    tier.delete('d');
    expect(1, 16);
    tier.delete('e');
    expect(0, 0);
  });

  test('onRemove is called once per key that leaves, evicted or deleted', (t) => {
    const { tier, removed } = tierFor(t, { maxKeys: 2 });

    tier.set('a', entryOf('a'));
    tier.set('b', entryOf('b'));
    tier.set('c', entryOf('c')); // evicts 'a'
    tier.delete('b');
    tier.delete('b');
    tier.delete('a'); // already evicted

    assert.deepEqual(removed, ['a', 'b']);
  });

  test('replacing a copy reports the old one as removed, and the key is held again at once', (t) => {
    // The tier replaces by delete-then-insert, so onRemove fires for the replaced copy; the
    // Store copes by indexing the key again after set().
    const { tier, removed } = tierFor(t);
    const newer = entryOf('new', 2);

    tier.set('a', entryOf('old', 1));
    tier.set('a', newer);

    assert.deepEqual(removed, ['a']);
    assert.deepEqual(tier.peek('a'), newer);
    assert.equal(tier.has('a'), true);
    assert.equal(tier.count, 1);
    assert.equal(tier.bytes, 3);
  });

  test('0 means no limit on keys or bytes', (t) => {
    const { tier, removed } = tierFor(t, { maxKeys: 0, maxBytes: 0 });

    for (let i = 0; i < 1_000; i++) tier.set(`k${i}`, sized(1_024));

    assert.deepEqual(removed, []);
    assert.equal(tier.count, 1_000);
    assert.equal(tier.bytes, 1_024_000);
  });

  test('a per-entry TTL makes the copy disappear, reported once', async (t) => {
    const { tier, removed } = tierFor(t, { ttlSeconds: 60 });
    const kept = entryOf('kept');

    tier.set('short', entryOf('short'), 0.05);
    tier.set('kept', kept);
    assert.equal(tier.peek('short')?.value.toString(), 'short');

    await waitFor(() => tier.get('short') === undefined, 'the short-lived copy to expire');
    assert.equal(tier.has('short'), false);
    assert.deepEqual(removed, ['short']);
    assert.deepEqual([...tier.keys()], ['kept']);
    assert.equal(tier.count, 1);
    assert.equal(tier.bytes, 4);
    assert.deepEqual(tier.get('kept'), kept);
  });

  test("without a per-entry TTL the tier's own TTL applies", async (t) => {
    const { tier, removed } = tierFor(t, { ttlSeconds: 0.05 });

    tier.set('k', entryOf('v'));
    await waitFor(() => tier.peek('k') === undefined, 'the copy to expire');

    assert.deepEqual(removed, ['k']);
    assert.equal(tier.count, 0);
    assert.equal(tier.bytes, 0);
  });

  test('an expired copy nobody reads is collected by the periodic check', async (t) => {
    // ttlSeconds 1 makes the check period 1 s; count and bytes never touch the copy.
    const { tier, removed } = tierFor(t, { ttlSeconds: 1 });

    tier.set('k', sized(5), 0.05);
    await waitFor(() => tier.count === 0, 'the periodic check to collect the copy', 5_000);

    assert.equal(tier.bytes, 0);
    assert.deepEqual(removed, ['k']);
  });

  test('an expired copy nobody read does not hold a slot that a live copy loses', async (t) => {
    const { tier } = tierFor(t, { ttlSeconds: 60, maxKeys: 2 });
    // A second tier only tells when 0.05 s have passed without reading 'short' here.
    const { tier: witness } = tierFor(t, { ttlSeconds: 60 });

    tier.set('live', entryOf('live'));
    tier.set('short', entryOf('short'), 0.05);
    witness.set('w', entryOf('w'), 0.05);
    await waitFor(() => witness.peek('w') === undefined, "the short TTL's end");

    tier.set('new', entryOf('new'));
    assert.equal(tier.peek('live')?.value.toString(), 'live', 'the live copy is kept');
    assert.deepEqual([...tier.keys()], ['live', 'new']);
    assert.equal(tier.count, 2);
  });

  test('close() is safe to call twice', (t) => {
    const { tier } = tierFor(t);
    tier.close();
    tier.close();
  });
});
