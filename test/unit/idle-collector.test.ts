import assert from 'node:assert/strict';
import { test } from 'node:test';
import { fullCollection, IdleCollector } from '../../server/idle-collector.js';

const MiB = 1024 * 1024;

/** A heap and a loop the test sets; collections bring the heap back to `live`. */
function process(start: number) {
  const state = { used: start * MiB, live: start * MiB, busy: 0, collections: 0 };
  const collector = new IdleCollector({
    heapUsed: () => state.used,
    busyFraction: () => state.busy,
    collect: () => {
      state.collections++;
      state.used = state.live;
    },
  });
  return { state, collector };
}

test('collects once idle after a burst, not while busy, and not for a little garbage', () => {
  const { state, collector } = process(20);

  state.used = 40 * MiB;
  assert.equal(collector.check(), false, '20 MiB of garbage is left to V8');
  state.used = 220 * MiB;
  state.busy = 0.6;
  assert.equal(collector.check(), false, 'busy: V8 collects as it allocates');
  state.busy = 0.01;
  assert.equal(collector.check(), true);
  assert.equal(state.used, 20 * MiB);
  assert.equal(collector.check(), false, 'nothing more to give back');
  assert.equal(state.collections, 1);
});

test("measures growth from what V8's own collections left, and from the live heap after one", () => {
  const { state, collector } = process(100);

  state.used = 30 * MiB; // V8 collected by itself
  state.live = 30 * MiB;
  assert.equal(collector.check(), false);
  state.used = 70 * MiB;
  assert.equal(collector.check(), true, '40 MiB over what V8 left');

  state.live = 60 * MiB; // more is live now: the cache filled
  state.used = 100 * MiB;
  assert.equal(collector.check(), true);
  state.used = 80 * MiB;
  assert.equal(collector.check(), false, '20 MiB over the 60 the last collection left');
  assert.equal(state.collections, 2);
});

test('fullCollection gives V8 a full collection to run', async () => {
  const collect = fullCollection();
  let garbage: unknown[] | undefined = Array.from({ length: 100_000 }, (_, i) => ({ i }));
  const ref = new WeakRef(garbage);
  garbage = undefined;
  // A WeakRef holds its target until the current job ends.
  await new Promise((resolve) => setImmediate(resolve));
  collect();
  assert.equal(ref.deref(), undefined);
});
