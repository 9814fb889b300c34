import assert from 'node:assert/strict';
import { test } from 'node:test';
import { OwnDatagrams } from '../../cluster/own-datagrams.js';

test('knows each datagram it sent once, by its exact bytes', () => {
  const own = new OwnDatagrams(4);
  own.remember(Buffer.from('first'));
  own.remember(Buffer.from('second'));

  assert.equal(own.take(Buffer.from('secone')), false, 'same length, other bytes');
  assert.equal(own.take(Buffer.from('second')), true);
  assert.equal(own.take(Buffer.from('second')), false, 'taken already');
  assert.equal(own.take(Buffer.from('first')), true);
});

test('keeps only the last `capacity` datagrams', () => {
  const own = new OwnDatagrams(2);
  for (const text of ['a', 'b', 'c']) own.remember(Buffer.from(text));

  assert.equal(own.take(Buffer.from('a')), false);
  assert.equal(own.take(Buffer.from('b')), true);
  assert.equal(own.take(Buffer.from('c')), true);
});
