import assert from 'node:assert/strict';
import { test } from 'node:test';
import { makeEntry } from '../../cluster/entry.js';
import { HotEntries } from '../../cluster/hot-entries.js';

const entryOf = (bytes: number) =>
  makeEntry(Buffer.alloc(bytes, 1), 'application/octet-stream', { wall: 1, counter: 0, node: 'n' });

test('keeps at most maxEntries, the oldest kept leaving first', () => {
  const hot = new HotEntries(2, 100);
  const [a, b, c] = [entryOf(1), entryOf(2), entryOf(3)];
  hot.keep('a', a);
  hot.keep('b', b);
  hot.keep('c', c);
  assert.equal(hot.get('a'), undefined);
  assert.equal(hot.get('b'), b);
  assert.equal(hot.get('c'), c);
});

test('does not keep a value over maxValueBytes', () => {
  const hot = new HotEntries(2, 100);
  hot.keep('small', entryOf(100));
  hot.keep('large', entryOf(101));
  assert.ok(hot.get('small'));
  assert.equal(hot.get('large'), undefined);
});

test('forgets a key whose entry changed', () => {
  const hot = new HotEntries(2, 100);
  hot.keep('k', entryOf(1));
  hot.forget('k');
  assert.equal(hot.get('k'), undefined);
});
