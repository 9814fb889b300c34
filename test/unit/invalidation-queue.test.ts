import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { InvalidationQueue } from '../../cluster/invalidation-queue.js';
import { type Change, packChanges } from '../../cluster/wire.js';

const version = (counter: number) => ({ wall: 5, counter, node: 'm1' });
const nextTurn = () => new Promise((resolve) => setImmediate(resolve));

describe('InvalidationQueue', () => {
  test('changes made in one turn leave together, as many to a packet as fit', async () => {
    const packets: Change[][] = [];
    const queue = new InvalidationQueue((changes) => packets.push(changes));
    const perPacket = packChanges(
      Array.from({ length: 100 }, (_, i) => ({ keyHash: `hash${i}`, version: version(0) })),
    )[0]?.length as number;
    const count = 2 * perPacket + 1;
    for (let i = 0; i < count; i++) queue.add(`hash${i}`, version(0));
    assert.equal(packets.length, 0, 'nothing leaves before the turn ends');
    await nextTurn();
    assert.deepEqual(
      packets.map((p) => p.length),
      [perPacket, perPacket, 1],
    );
    assert.deepEqual(
      packets.flat().map((c) => c.keyHash),
      Array.from({ length: count }, (_, i) => `hash${i}`),
    );
  });

  test('a key changed twice in a turn is named once, with its newest version', async () => {
    const packets: Change[][] = [];
    const queue = new InvalidationQueue((changes) => packets.push(changes));
    queue.add('k', version(2));
    queue.add('k', version(1));
    queue.add('k', version(3));
    await nextTurn();
    assert.deepEqual(packets, [[{ keyHash: 'k', version: version(3) }]]);
  });

  test('flush sends at once, and a later turn starts a new packet', async () => {
    const packets: Change[][] = [];
    const queue = new InvalidationQueue((changes) => packets.push(changes));
    queue.add('a', version(0));
    queue.flush();
    assert.equal(packets.length, 1);
    await nextTurn();
    assert.equal(packets.length, 1, 'the scheduled flush finds nothing to send');
    queue.add('b', version(0));
    await nextTurn();
    assert.deepEqual(
      packets.map((p) => p.map((c) => c.keyHash)),
      [['a'], ['b']],
    );
  });
});
