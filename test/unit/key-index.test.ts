import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { KeyIndex, slotOf } from '../../cluster/key-index.js';
import { keyHash } from '../../cluster/wire.js';

const hashOf = (key: string) => keyHash('test', key);

/** Two keys whose hashes fall in the same slot (found by the birthday search the index allows). */
function collidingKeys(): [string, string] {
  const seen = new Map<number, string>();
  for (let i = 0; ; i++) {
    const key = `key-${i}`;
    const slot = slotOf(hashOf(key));
    const other = seen.get(slot);
    if (other !== undefined) return [other, key];
    seen.set(slot, key);
  }
}

describe('KeyIndex', () => {
  test('finds an added key by its hash, and forgets it when removed', () => {
    const index = new KeyIndex(hashOf);
    index.add('a');
    index.add('b');
    index.add('a');

    assert.equal(index.find(hashOf('a')), 'a');
    assert.equal(index.find(hashOf('b')), 'b');
    assert.equal(index.find(hashOf('c')), undefined);

    index.remove('a');
    index.remove('a');
    index.remove('never added');
    assert.equal(index.find(hashOf('a')), undefined);
    assert.equal(index.find(hashOf('b')), 'b');
  });

  test('keys sharing a slot are told apart by their full hash', () => {
    const [first, second] = collidingKeys();
    const index = new KeyIndex(hashOf);

    index.add(first);
    assert.equal(index.find(hashOf(second)), undefined, 'a slot hit is confirmed');
    index.add(second);
    index.add(second);
    assert.equal(index.find(hashOf(first)), first);
    assert.equal(index.find(hashOf(second)), second);

    index.remove(first);
    assert.equal(index.find(hashOf(first)), undefined);
    assert.equal(index.find(hashOf(second)), second);
    index.remove(second);
    assert.equal(index.find(hashOf(second)), undefined);
  });
});
