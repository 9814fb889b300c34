import assert from 'node:assert/strict';
import { test } from 'node:test';
import { SortedKeys } from '../../cluster/sorted-keys.js';

/** A Map's keys walked in order, as the heap tier and the cached copies are. */
function tier(...keys: string[]) {
  const held = new Map(keys.map((key) => [key, 1]));
  const sorted = new SortedKeys(() => held.keys());
  const add = (key: string) => {
    if (held.has(key)) return;
    held.set(key, 1);
    sorted.add(key);
  };
  const walk = (after?: string) => [...sorted.after(after)].filter((key) => held.has(key));
  return { held, add, walk };
}

test('a walk meets the keys added since the sorted copy was made, in order', () => {
  const { add, walk } = tier('b', 'd');
  assert.deepEqual(walk(), ['b', 'd'], 'the copy is made');

  add('c');
  add('a');
  add('e');

  assert.deepEqual(walk(), ['a', 'b', 'c', 'd', 'e']);
  assert.deepEqual(walk('b'), ['c', 'd', 'e'], 'from after a key, in both lists');
  assert.deepEqual(walk('bb'), ['c', 'd', 'e'], 'after a key held by neither');
});

test('a key removed and added again since the copy is listed once', () => {
  const { held, add, walk } = tier('a', 'b');
  walk();
  held.delete('a');
  add('a');

  assert.deepEqual(walk(), ['a', 'b']);
});

test('many keys added since the copy make a new one, and none is lost', () => {
  const { add, walk } = tier('k0000');
  walk();
  for (let i = 1; i < 5_000; i++) add(`k${String(i).padStart(4, '0')}`);

  const walked = walk();
  assert.equal(walked.length, 5_000);
  assert.deepEqual(walked, [...walked].sort());
});
