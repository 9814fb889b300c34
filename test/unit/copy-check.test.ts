import assert from 'node:assert/strict';
import { test } from 'node:test';
import pino from 'pino';
import { CopyCheck } from '../../cluster/copy-check.js';
import { makeEntry } from '../../cluster/entry.js';
import { Freshness } from '../../cluster/freshness.js';
import { Metrics } from '../../cluster/metrics.js';
import type { HeldVersion, Peers } from '../../cluster/protocol.js';
import { Refusals } from '../../cluster/refusals.js';
import { HybridClock, type Version } from '../../cluster/version.js';
import { heapStore } from '../support/heap-store.js';

const NOW = 1_800_000_000_000;
const version = (wall: number): Version => ({ wall, counter: 0, node: 'w' });

/** A check answered by hand: each request waits until the test answers it. */
function harness(failing = false) {
  const store = heapStore(() => NOW, { cache: 300, tombstone: 86_400 });
  const freshness = new Freshness({ now: () => NOW, leaseMs: 1000 });
  const asked: { held: readonly HeldVersion[]; answer: (newer: HeldVersion[]) => void }[] = [];
  let failures = 0;
  const peers = {
    newerThan: (_peer: string, held: readonly HeldVersion[]) => {
      if (!failing) return new Promise<HeldVersion[]>((answer) => asked.push({ held, answer }));
      failures++;
      return Promise.reject(new Error('connection refused'));
    },
  } as Peers;
  const metrics = new Metrics();
  const log = pino({ level: 'silent' });
  const clock = new HybridClock('self', () => NOW);
  const check = new CopyCheck({
    store,
    freshness,
    peers,
    masters: () => ['m1'],
    refusals: new Refusals(clock, () => NOW, metrics, log),
    metrics,
    log,
    now: () => NOW,
  });
  const settle = () => new Promise((resolve) => setImmediate(resolve));
  return { store, freshness, asked, check, settle, failures: () => failures };
}

test('one check marks the copies a master holds newer and trusts the rest again', async () => {
  const { store, freshness, asked, check, settle } = harness();
  store.putPrimary('old', makeEntry(Buffer.from('1'), 'text/plain', version(NOW - 10)));
  store.putPrimary('same', makeEntry(Buffer.from('2'), 'text/plain', version(NOW - 10)));
  freshness.heard('m1', 'boot', 0, 'announce');
  freshness.revalidate('gap');
  assert.equal(freshness.servable('same', ['m1']), false, 'nothing servable until checked');

  check.run();
  check.run(); // one check at a time
  assert.equal(asked.length, 1);
  assert.deepEqual(asked[0]?.held.map(([key]) => key).sort(), ['old', 'same']);
  asked[0]?.answer([['old', version(NOW - 5)]]);
  await settle();

  assert.ok(store.supersededBy('old'), 'the older copy is no longer served as current');
  assert.equal(freshness.servable('same', ['m1']), true, 'the others are, without a lookup');
});

test('a lapse while a check is out voids it, and another check follows', async () => {
  const { store, freshness, asked, check, settle } = harness();
  store.putPrimary('k', makeEntry(Buffer.from('1'), 'text/plain', version(NOW - 10)));
  freshness.heard('m1', 'boot', 0, 'announce');
  freshness.revalidate('gap');
  check.run();
  freshness.revalidate('masters-changed'); // its invalidations may be lost after the snapshot
  check.run(); // turned away: a check is out
  asked[0]?.answer([]);
  await settle();
  assert.equal(freshness.servable('k', ['m1']), false, 'the first check vouches for nothing');

  assert.equal(asked.length, 2, 'a second check was sent for the later lapse');
  asked[1]?.answer([]);
  await settle();
  assert.equal(freshness.servable('k', ['m1']), true);
});

test('a failed check changes nothing and is tried again on the next run', async () => {
  const { store, freshness, check, settle, failures } = harness(true);
  store.putPrimary('k', makeEntry(Buffer.from('1'), 'text/plain', version(NOW - 10)));
  freshness.heard('m1', 'boot', 0, 'announce');
  freshness.revalidate('stalled');
  check.run();
  await settle();
  assert.equal(freshness.servable('k', ['m1']), false);
  check.run();
  await settle();
  assert.equal(failures(), 2);
});
