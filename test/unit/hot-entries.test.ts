import assert from 'node:assert/strict';
import { test } from 'node:test';
import { makeEntry } from '../../cluster/entry.js';
import { HotEntries } from '../../cluster/hot-entries.js';

const entryOf = (bytes: number) =>
  makeEntry(Buffer.alloc(bytes, 1), 'application/octet-stream', { wall: 1, counter: 0, node: 'n' });

/** Keeps `entry` for `key` as a second read does (the first is only noted). */
function keepRead(hot: HotEntries, key: string, entry = entryOf(1)) {
  hot.keep(key, entry);
  hot.keep(key, entry);
  return entry;
}

test('keeps an entry from the second read of its key, not the first', () => {
  const hot = new HotEntries(2, 100);
  const entry = entryOf(1);
  hot.keep('k', entry);
  assert.equal(hot.get('k'), undefined);
  hot.keep('k', entry);
  assert.equal(hot.get('k'), entry);
});

test('keys read once each keep nothing', () => {
  const hot = new HotEntries(16, 100);
  for (let i = 0; i < 10_000; i++) hot.keep(`once-${i}`, entryOf(1));
  const kept = Array.from({ length: 10_000 }, (_, i) => hot.get(`once-${i}`)).filter(Boolean);
  // A key whose slot holds another key's fingerprint by chance: a 32-bit collision.
  assert.ok(kept.length <= 1, `${kept.length} kept`);
});

test('keeps at most maxEntries, the oldest kept leaving first', () => {
  const hot = new HotEntries(2, 100);
  keepRead(hot, 'a');
  const b = keepRead(hot, 'b');
  const c = keepRead(hot, 'c');
  assert.equal(hot.get('a'), undefined);
  assert.equal(hot.get('b'), b);
  assert.equal(hot.get('c'), c);
});

test('does not keep a value over maxValueBytes', () => {
  const hot = new HotEntries(2, 100);
  keepRead(hot, 'small', entryOf(100));
  keepRead(hot, 'large', entryOf(101));
  assert.ok(hot.get('small'));
  assert.equal(hot.get('large'), undefined);
});

test('forgets a key whose entry changed', () => {
  const hot = new HotEntries(2, 100);
  keepRead(hot, 'k');
  hot.forget('k');
  assert.equal(hot.get('k'), undefined);
});
