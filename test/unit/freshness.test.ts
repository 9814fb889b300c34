import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Freshness, type RevalidationReason } from '../../cluster/freshness.js';

function harness() {
  let now = 1_000;
  const lapses: RevalidationReason[] = [];
  const freshness = new Freshness({
    now: () => now,
    leaseMs: 300,
    onRevalidate: (reason) => lapses.push(reason),
  });
  return { freshness, lapses, advance: (ms: number) => (now += ms) };
}

test('copies are servable while every master was heard from within the lease', () => {
  const { freshness, advance } = harness();
  assert.equal(freshness.servable('k', ['m1']), false, 'never heard from m1');
  freshness.heard('m1', 'boot', 0, 'announce');
  assert.equal(freshness.servable('k', ['m1']), true);
  advance(301);
  assert.equal(freshness.servable('k', ['m1']), false, 'the lease ran out');
  freshness.heard('m1', 'boot', 0, 'announce');
  assert.equal(freshness.servable('k', ['m1']), true, 'nothing was sent meanwhile');
  assert.equal(freshness.servable('k', []), true, 'no other master to hear');
});

test('invalidations numbered in order keep copies servable', () => {
  const { freshness, lapses } = harness();
  freshness.heard('m1', 'boot', 3, 'announce');
  freshness.heard('m1', 'boot', 4, 'invalidation');
  freshness.heard('m1', 'boot', 5, 'invalidation');
  freshness.heard('m1', 'boot', 5, 'announce');
  assert.deepEqual(lapses, []);
  assert.equal(freshness.servable('k', ['m1']), true);
});

test('a missing invalidation number makes every copy checked again before it is served', () => {
  const { freshness, lapses } = harness();
  freshness.heard('m1', 'boot', 3, 'invalidation');
  freshness.heard('m1', 'boot', 5, 'invalidation');
  assert.deepEqual(lapses, ['gap']);
  assert.equal(freshness.servable('k', ['m1']), false);
  freshness.verified('k');
  assert.equal(freshness.servable('k', ['m1']), true, 'checked since');
  assert.equal(freshness.servable('other', ['m1']), false);
});

test('an announcement naming an invalidation we never received is a gap', () => {
  const { freshness, lapses } = harness();
  freshness.heard('m1', 'boot', 7, 'announce');
  freshness.heard('m1', 'boot', 8, 'announce');
  assert.deepEqual(lapses, ['gap']);
});

test('a restarted master, a master set change and a stall each start the checks over', () => {
  const { freshness, lapses } = harness();
  freshness.heard('m1', 'boot-1', 9, 'announce');
  freshness.heard('m1', 'boot-2', 0, 'announce');
  freshness.verified('k');
  freshness.mastersChanged(['m1', 'm2']);
  assert.equal(freshness.servable('k', ['m1']), false, 'checked before the change only');
  freshness.revalidate('stalled');
  assert.deepEqual(lapses, ['master-restart', 'masters-changed', 'stalled']);
});
