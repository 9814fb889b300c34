import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { type Entry, makeEntry } from '../../cluster/entry.js';
import { ReplicaBatcher } from '../../cluster/replica-batcher.js';

const entryOf = (text: string): Entry =>
  makeEntry(Buffer.from(text), 'text/plain', { wall: 1, counter: 0, node: 'n' });

/** A peer whose requests finish only when the test says so. */
function slowPeer() {
  const requests: { peer: string; keys: string[]; finish: (error?: Error) => void }[] = [];
  const send = (peer: string, entries: [string, Entry][]) =>
    new Promise<string>((resolve, reject) => {
      const keys = entries.map(([key]) => key);
      requests.push({
        peer,
        keys,
        finish: (error) => (error ? reject(error) : resolve(`ack of ${keys.join(',')}`)),
      });
    });
  return { requests, send };
}

const settle = () => new Promise((resolve) => setImmediate(resolve));

describe('ReplicaBatcher', () => {
  test('a write to an idle peer leaves at once, alone', async () => {
    const { requests, send } = slowPeer();
    const batcher = new ReplicaBatcher({ send, maxInFlight: 1 });
    const acked = batcher.add('m1', 'a', entryOf('1'));
    assert.deepEqual(
      requests.map((r) => r.keys),
      [['a']],
    );
    requests[0]?.finish();
    assert.equal(await acked, 'ack of a');
  });

  test('writes arriving while a request is under way leave together in the next', async () => {
    const { requests, send } = slowPeer();
    const batcher = new ReplicaBatcher({ send, maxInFlight: 1 });
    const first = batcher.add('m1', 'a', entryOf('1'));
    const later = ['b', 'c', 'd'].map((key) => batcher.add('m1', key, entryOf(key)));
    assert.equal(requests.length, 1, 'the others wait for the first request');
    requests[0]?.finish();
    assert.equal(await first, 'ack of a');
    await settle();
    assert.deepEqual(requests[1]?.keys, ['b', 'c', 'd']);
    requests[1]?.finish();
    assert.deepEqual(await Promise.all(later), Array(3).fill('ack of b,c,d'));
  });

  test('each peer has its own queue', async () => {
    const { requests, send } = slowPeer();
    const batcher = new ReplicaBatcher({ send, maxInFlight: 1 });
    void batcher.add('m1', 'a', entryOf('1'));
    void batcher.add('m2', 'a', entryOf('1'));
    assert.deepEqual(
      requests.map((r) => r.peer),
      ['m1', 'm2'],
    );
  });

  test('up to maxInFlight requests leave before writes start to wait', () => {
    const { requests, send } = slowPeer();
    const batcher = new ReplicaBatcher({ send, maxInFlight: 2 });
    for (const key of ['a', 'b', 'c', 'd']) void batcher.add('m1', key, entryOf(key));
    assert.deepEqual(
      requests.map((r) => r.keys),
      [['a'], ['b']],
    );
  });

  test('a failed request fails every write it carried, and the queue goes on', async () => {
    const { requests, send } = slowPeer();
    const batcher = new ReplicaBatcher({ send, maxInFlight: 1 });
    const first = batcher.add('m1', 'a', entryOf('1'));
    const second = batcher.add('m1', 'b', entryOf('2'));
    const third = batcher.add('m1', 'c', entryOf('3'));
    requests[0]?.finish();
    await first;
    await settle();
    requests[1]?.finish(new Error('peer gone'));
    await assert.rejects(second, /peer gone/);
    await assert.rejects(third, /peer gone/);
    const fourth = batcher.add('m1', 'd', entryOf('4'));
    requests[2]?.finish();
    assert.equal(await fourth, 'ack of d');
  });

  test('a batch stops at the byte limit, but a larger write still leaves alone', async () => {
    const { requests, send } = slowPeer();
    const batcher = new ReplicaBatcher({ send, maxInFlight: 1, maxBatchBytes: 10 });
    void batcher.add('m1', 'first', entryOf('x'));
    for (const key of ['a', 'b', 'c']) void batcher.add('m1', key, entryOf('12345'));
    void batcher.add('m1', 'big', entryOf('x'.repeat(50)));
    for (let i = 0; i < 3; i++) {
      requests[i]?.finish();
      await settle();
    }
    assert.deepEqual(
      requests.map((r) => r.keys),
      [['first'], ['a', 'b'], ['c'], ['big']],
    );
  });

  test('maxInFlight below 1 is refused', () => {
    assert.throws(() => new ReplicaBatcher({ send: async () => 0, maxInFlight: 0 }), /maxInFlight/);
  });
});
