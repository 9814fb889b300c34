import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { type Entry, hashValue, makeEntry, makeTombstone } from '../../cluster/entry.js';
import { LookupIncompleteError } from '../../cluster/errors.js';
import {
  type HasAnswer,
  Lookup,
  type LookupOptions,
  type LookupOutcome,
} from '../../cluster/lookup.js';
import type { Version } from '../../cluster/version.js';

const KEY = 'some key';
const HASH = 'abcdefghijklmnopqrstuvwxyz';

/** A timer that only fires when the test says so, so "before the timeout" needs no clock. */
function manualTimer() {
  let pending: (() => void) | undefined;
  let cleared = false;
  return {
    setTimer: (fn: () => void) => {
      pending = fn;
      return {};
    },
    clearTimer: () => {
      cleared = true;
      pending = undefined;
    },
    fire: () => pending?.(),
    get cleared() {
      return cleared;
    },
  };
}

/** Lets every already-queued promise reaction run (no clock involved). */
function drainMicrotasks(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

function entryOf(text: string, version: Version): Entry {
  return makeEntry(Buffer.from(text), 'text/plain; charset=utf-8', version);
}

function answerFor(entry: Entry, node: string, master: boolean): HasAnswer {
  return {
    node,
    http: `${node}:8181`,
    version: entry.version,
    master,
    valueHash: hashValue(entry.value),
    deleted: entry.deleted === true,
  };
}

/**
 * A Lookup over injected functions: `held` is what each node would return when fetched from
 * (an Error to make the fetch fail), and every ask and fetch is recorded.
 */
function harness(
  options: Partial<LookupOptions> & { held?: Record<string, Entry | Error | undefined> } = {},
) {
  const asks: string[] = [];
  const fetches: string[] = [];
  const outcomes: LookupOutcome[] = [];
  const timer = manualTimer();
  const { held = {}, ...rest } = options;
  const lookup = new Lookup({
    timeoutMs: 60_000,
    ask: (hash) => asks.push(hash),
    mastersToHear: () => ['m1', 'm2'],
    fetch: async (answer) => {
      fetches.push(answer.node);
      const result = held[answer.node];
      if (result instanceof Error) throw result;
      return result;
    },
    onOutcome: (outcome) => outcomes.push(outcome),
    setTimer: timer.setTimer,
    clearTimer: timer.clearTimer,
    ...rest,
  });
  return { lookup, asks, fetches, outcomes, timer };
}

describe('Lookup', () => {
  test('concurrent finds of one key share one ask and one fetch', async () => {
    const entry = entryOf('v', { wall: 1, counter: 0, node: 'm1' });
    const { lookup, asks, fetches } = harness({ held: { m1: entry } });

    const finds = [lookup.find(KEY, HASH), lookup.find(KEY, HASH), lookup.find(KEY, HASH)];
    lookup.answer(HASH, answerFor(entry, 'm1', true));
    const results = await Promise.all(finds);

    assert.deepEqual(asks, [HASH]);
    assert.deepEqual(fetches, ['m1']);
    for (const result of results) assert.equal(result, entry);
  });

  test('a find after the previous one settled asks again', async () => {
    const entry = entryOf('v', { wall: 1, counter: 0, node: 'm1' });
    const { lookup, asks } = harness({ held: { m1: entry } });

    const first = lookup.find(KEY, HASH);
    lookup.answer(HASH, answerFor(entry, 'm1', true));
    await first;
    const second = lookup.find(KEY, HASH);
    lookup.answer(HASH, answerFor(entry, 'm1', true));
    await second;

    assert.deepEqual(asks, [HASH, HASH]);
  });

  test('the first master answer ends the wait before the timeout', async () => {
    const entry = entryOf('from master', { wall: 5, counter: 0, node: 'm1' });
    const { lookup, outcomes, timer } = harness({ held: { m1: entry } });

    const found = lookup.find(KEY, HASH);
    lookup.answer(HASH, answerFor(entry, 'm1', true));

    assert.equal(await found, entry);
    assert.deepEqual(outcomes, ['found']);
    assert.equal(timer.cleared, true, 'the timeout is cancelled');
  });

  test('a master that does not settle (still syncing) does not end the wait: the newest answer wins', async () => {
    const older = entryOf('older', { wall: 5, counter: 0, node: 'm2' });
    const newer = entryOf('newer', { wall: 6, counter: 0, node: 'n1' });
    const { lookup, fetches, timer } = harness({
      held: { m2: older, n1: newer },
      settles: (master) => master !== 'm2',
    });
    let settled = false;

    const found = lookup.find(KEY, HASH).finally(() => {
      settled = true;
    });
    lookup.answer(HASH, answerFor(older, 'm2', true));
    await drainMicrotasks();
    assert.equal(settled, false, 'the syncing master did not end it');
    lookup.answer(HASH, answerFor(newer, 'n1', false));
    timer.fire();
    assert.equal(await found, newer);
    assert.deepEqual(fetches, ['n1']);
  });

  test('an answer from a non-master alone does not end the wait', async () => {
    const entry = entryOf('cached', { wall: 5, counter: 0, node: 'n1' });
    const { lookup, fetches, timer } = harness({ held: { n1: entry } });
    let settled = false;

    const found = lookup.find(KEY, HASH).finally(() => {
      settled = true;
    });
    lookup.answer(HASH, answerFor(entry, 'n1', false));
    await drainMicrotasks();
    assert.equal(settled, false);
    assert.deepEqual(fetches, []);

    timer.fire();
    assert.equal(await found, entry, 'at the timeout the answers so far are used');
  });

  test("without a master's word, answers older than a version known to exist make it incomplete", async () => {
    const older = entryOf('older', { wall: 5, counter: 0, node: 'n1' });
    const known = { wall: 6, counter: 0, node: 'm1' };
    const { lookup, fetches, outcomes, timer } = harness({ held: { n1: older, m1: older } });

    const found = lookup.find(KEY, HASH, known);
    lookup.answer(HASH, answerFor(older, 'n1', false));
    timer.fire();
    await assert.rejects(found, LookupIncompleteError);
    assert.deepEqual(fetches, [], 'nothing older than what is known is fetched');
    assert.deepEqual(outcomes, ['timeout']);

    // A master's word settles it: the newer version is gone from the masters.
    const settled = lookup.find(KEY, HASH, known);
    lookup.answer(HASH, answerFor(older, 'm1', true));
    assert.equal(await settled, older);
  });

  test('every awaited master saying absent ends the wait with undefined', async () => {
    const { lookup, fetches, outcomes, timer } = harness();

    const found = lookup.find(KEY, HASH);
    lookup.answer(HASH, { absent: 'm1' });
    lookup.answer(HASH, { absent: 'm2' });

    assert.equal(await found, undefined);
    assert.deepEqual(outcomes, ['absent']);
    assert.deepEqual(fetches, []);
    assert.equal(timer.cleared, true);
  });

  test('one master saying absent is not enough while another is awaited', async () => {
    const { lookup, outcomes, timer } = harness();
    let settled = false;

    const found = lookup.find(KEY, HASH).finally(() => {
      settled = true;
    });
    lookup.answer(HASH, { absent: 'm1' });
    lookup.answer(HASH, { absent: 'not-a-master' });
    await drainMicrotasks();
    assert.equal(settled, false);

    timer.fire(); // no answer: asked once more
    await drainMicrotasks();
    timer.fire();
    await assert.rejects(found, LookupIncompleteError);
    assert.deepEqual(outcomes, ['timeout']);
  });

  test('a cached copy still wins when every master says absent', async () => {
    const entry = entryOf('cached', { wall: 5, counter: 0, node: 'n1' });
    const { lookup } = harness({ held: { n1: entry } });

    const found = lookup.find(KEY, HASH);
    lookup.answer(HASH, answerFor(entry, 'n1', false));
    lookup.answer(HASH, { absent: 'm1' });
    lookup.answer(HASH, { absent: 'm2' });

    assert.equal(await found, entry);
  });

  test('mastersToHear() returning [] settles at once, after asking', async () => {
    const { lookup, asks, outcomes } = harness({ mastersToHear: () => [] });

    assert.equal(await lookup.find(KEY, HASH), undefined);
    assert.deepEqual(asks, [HASH]);
    assert.deepEqual(outcomes, ['absent']);
  });

  test('absent answers do not settle anything when no master is awaited', async () => {
    const { lookup, outcomes, timer } = harness({ mastersToHear: () => undefined });
    let settled = false;

    const found = lookup.find(KEY, HASH).finally(() => {
      settled = true;
    });
    lookup.answer(HASH, { absent: 'm1' });
    lookup.answer(HASH, { absent: 'm2' });
    await drainMicrotasks();
    assert.equal(settled, false);

    timer.fire(); // no answer: asked once more
    await drainMicrotasks();
    timer.fire();
    await assert.rejects(found, LookupIncompleteError);
    assert.deepEqual(outcomes, ['timeout']);
  });

  test('the newest version wins, whatever order the answers came in', async () => {
    const old = entryOf('old', { wall: 10, counter: 0, node: 'n1' });
    const newest = entryOf('newest', { wall: 10, counter: 2, node: 'n2' });
    const middle = entryOf('middle', { wall: 10, counter: 1, node: 'm1' });
    const { lookup, fetches } = harness({ held: { n1: old, n2: newest, m1: middle } });

    const found = lookup.find(KEY, HASH);
    lookup.answer(HASH, answerFor(old, 'n1', false));
    lookup.answer(HASH, answerFor(newest, 'n2', false));
    lookup.answer(HASH, answerFor(middle, 'm1', true));

    assert.equal(await found, newest);
    assert.deepEqual(fetches, ['n2']);
  });

  test('a failed fetch falls back to the next newest answer', async () => {
    const newest = entryOf('newest', { wall: 3, counter: 0, node: 'n1' });
    const older = entryOf('older', { wall: 2, counter: 0, node: 'm1' });
    const { lookup, fetches, outcomes } = harness({
      held: { n1: new Error('connection refused'), m1: older },
    });

    const found = lookup.find(KEY, HASH);
    lookup.answer(HASH, answerFor(newest, 'n1', false));
    lookup.answer(HASH, answerFor(older, 'm1', true));

    assert.equal(await found, older);
    assert.deepEqual(fetches, ['n1', 'm1']);
    assert.deepEqual(outcomes, ['found']);
  });

  test('a node that no longer has the value is skipped', async () => {
    const newest = entryOf('newest', { wall: 3, counter: 0, node: 'n1' });
    const older = entryOf('older', { wall: 2, counter: 0, node: 'm1' });
    const { lookup } = harness({ held: { n1: undefined, m1: older } });

    const found = lookup.find(KEY, HASH);
    lookup.answer(HASH, answerFor(newest, 'n1', false));
    lookup.answer(HASH, answerFor(older, 'm1', true));

    assert.equal(await found, older);
  });

  test('a value that does not match the answered hash is refused', async () => {
    const claimed = entryOf('what was announced', { wall: 9, counter: 0, node: 'evil' });
    const forged = entryOf('something else', { wall: 9, counter: 0, node: 'evil' });
    const honest = entryOf('honest', { wall: 1, counter: 0, node: 'm1' });
    const { lookup, fetches } = harness({ held: { evil: forged, m1: honest } });

    const found = lookup.find(KEY, HASH);
    lookup.answer(HASH, {
      ...answerFor(claimed, 'evil', false),
      valueHash: hashValue(claimed.value),
    });
    lookup.answer(HASH, answerFor(honest, 'm1', true));

    assert.equal(await found, honest);
    assert.deepEqual(fetches, ['evil', 'm1']);
  });

  test('a holder that got a newer version between its answer and the fetch hands that one over', async () => {
    const answered = entryOf('answered', { wall: 5, counter: 0, node: 'n1' });
    const since = entryOf('written since', { wall: 6, counter: 0, node: 'n2' });
    const older = entryOf('older', { wall: 4, counter: 0, node: 'n3' });
    const { lookup, fetches } = harness({ held: { m1: since, n3: older } });

    const found = lookup.find(KEY, HASH);
    lookup.answer(HASH, answerFor(older, 'n3', false));
    lookup.answer(HASH, answerFor(answered, 'm1', true));

    assert.equal(await found, since, 'not the older copy of n3 (churn seeds 119, 120)');
    assert.deepEqual(fetches, ['m1']);
  });

  test("a copy older than a master's answer is not served when the master's value cannot be fetched", async () => {
    const mastered = entryOf('on the master', { wall: 5, counter: 0, node: 'n1' });
    const older = entryOf('older', { wall: 4, counter: 0, node: 'n3' });
    const { lookup, fetches, outcomes } = harness({
      held: { m1: new Error('connection reset'), n3: older },
    });

    const found = lookup.find(KEY, HASH);
    lookup.answer(HASH, answerFor(older, 'n3', false));
    lookup.answer(HASH, answerFor(mastered, 'm1', true));

    await assert.rejects(found, LookupIncompleteError);
    assert.deepEqual(fetches, ['m1']);
    assert.deepEqual(outcomes, ['fetch-failed']);
  });

  test('a deletion newer than every copy ends the lookup with its tombstone, fetching nothing', async () => {
    const stale = entryOf('stale copy', { wall: 4, counter: 0, node: 'n1' });
    const deletion = makeTombstone({ wall: 5, counter: 0, node: 'm1' });
    const { lookup, fetches, outcomes } = harness({ held: { n1: stale, m1: deletion } });

    const found = lookup.find(KEY, HASH);
    lookup.answer(HASH, answerFor(stale, 'n1', false));
    lookup.answer(HASH, answerFor(deletion, 'm1', true));

    assert.deepEqual(await found, deletion);
    assert.deepEqual(fetches, []);
    assert.deepEqual(outcomes, ['deleted']);
  });

  test('a value written after a deletion is found', async () => {
    const deletion = makeTombstone({ wall: 5, counter: 0, node: 'm1' });
    const rewritten = entryOf('written again', { wall: 6, counter: 0, node: 'n1' });
    const { lookup, fetches } = harness({ held: { n1: rewritten } });

    const found = lookup.find(KEY, HASH);
    lookup.answer(HASH, answerFor(rewritten, 'n1', false));
    lookup.answer(HASH, answerFor(deletion, 'm1', true));

    assert.equal(await found, rewritten);
    assert.deepEqual(fetches, ['n1']);
  });

  test('when the newest copy cannot be fetched, a deletion still hides every older copy (503, not an older value)', async () => {
    const newest = entryOf('written after the delete', { wall: 9, counter: 0, node: 'n1' });
    const deletion = makeTombstone({ wall: 8, counter: 0, node: 'm1' });
    const beforeDeletion = entryOf('deleted value', { wall: 7, counter: 0, node: 'n2' });
    const { lookup, fetches } = harness({
      held: { n1: new Error('connection refused'), m1: deletion, n2: beforeDeletion },
    });

    const found = lookup.find(KEY, HASH);
    lookup.answer(HASH, answerFor(newest, 'n1', false));
    lookup.answer(HASH, answerFor(beforeDeletion, 'n2', false));
    lookup.answer(HASH, answerFor(deletion, 'm1', true));

    await assert.rejects(found, LookupIncompleteError);
    assert.deepEqual(fetches, ['n1']);
  });

  test('when every fetch fails the lookup is incomplete, not a miss', async () => {
    const entry = entryOf('v', { wall: 1, counter: 0, node: 'm1' });
    const { lookup, outcomes } = harness({ held: { m1: new Error('timeout') } });

    const found = lookup.find(KEY, HASH);
    lookup.answer(HASH, answerFor(entry, 'm1', true));

    await assert.rejects(found, LookupIncompleteError);
    assert.deepEqual(outcomes, ['fetch-failed']);
  });

  test('with no answers at all, the (real) timeout ends the lookup after a second query', async () => {
    const outcomes: LookupOutcome[] = [];
    let asked = 0;
    const lookup = new Lookup({
      timeoutMs: 30,
      ask: () => {
        asked++;
      },
      mastersToHear: () => ['m1'],
      fetch: async () => assert.fail('nothing to fetch'),
      onOutcome: (outcome) => outcomes.push(outcome),
    });

    await assert.rejects(lookup.find(KEY, HASH), LookupIncompleteError);
    assert.deepEqual(outcomes, ['timeout']);
    assert.equal(asked, 2, 'asked again when nobody answered the first query');
  });

  test('answers for other keys, or after the lookup ended, are ignored', async () => {
    const entry = entryOf('v', { wall: 1, counter: 0, node: 'm1' });
    const { lookup, fetches } = harness({ held: { m1: entry } });

    lookup.answer(HASH, answerFor(entry, 'm1', true));
    const found = lookup.find(KEY, HASH);
    lookup.answer('zzzzzzzzzzzzzzzzzzzzzzzzzz', answerFor(entry, 'm1', true));
    lookup.answer(HASH, answerFor(entry, 'm1', true));
    assert.equal(await found, entry);
    lookup.answer(HASH, answerFor(entry, 'm1', true));

    assert.deepEqual(fetches, ['m1']);
  });
});

describe('Lookup with an early fetch from a master', () => {
  /** An early fetch whose result the test hands over when it likes. */
  function earlyFrom(from: string) {
    let settle: (entry: Entry | undefined) => void = () => {};
    const started: string[] = [];
    const entry = new Promise<Entry | undefined>((resolve) => {
      settle = resolve;
    });
    return {
      started,
      settle: (result: Entry | undefined) => settle(result),
      fetchEarly: (key: string) => {
        started.push(key);
        return { from, entry };
      },
    };
  }

  test("the master's value ends the lookup without waiting for answers", async () => {
    const entry = entryOf('v', { wall: 1, counter: 0, node: 'm1' });
    const early = earlyFrom('m1');
    const { lookup, asks, fetches, outcomes, timer } = harness({ fetchEarly: early.fetchEarly });

    const found = lookup.find(KEY, HASH);
    early.settle(entry);

    assert.equal(await found, entry);
    assert.deepEqual(early.started, [KEY]);
    assert.deepEqual(asks, [HASH], 'the who-has query still goes out');
    assert.deepEqual(fetches, [], 'no second fetch');
    assert.deepEqual(outcomes, ['found']);
    assert.equal(timer.cleared, true);
  });

  test("a master's tombstone means deleted", async () => {
    const early = earlyFrom('m1');
    const { lookup, outcomes } = harness({ fetchEarly: early.fetchEarly });
    const found = lookup.find(KEY, HASH);
    const deletion = makeTombstone({ wall: 2, counter: 0, node: 'm1' });
    early.settle(deletion);
    assert.equal(await found, deletion);
    assert.deepEqual(outcomes, ['deleted']);
  });

  test('when the master lacks the key, the answers decide', async () => {
    const entry = entryOf('local only', { wall: 1, counter: 0, node: 'n1' });
    const early = earlyFrom('m1');
    const { lookup, fetches } = harness({ held: { n1: entry }, fetchEarly: early.fetchEarly });
    const found = lookup.find(KEY, HASH);
    early.settle(undefined);
    lookup.answer(HASH, answerFor(entry, 'n1', false));
    lookup.answer(HASH, { absent: 'm1' });
    lookup.answer(HASH, { absent: 'm2' });
    assert.equal(await found, entry);
    assert.deepEqual(fetches, ['n1']);
  });

  test('a newer copy named in an answer beats the master value', async () => {
    const older = entryOf('old', { wall: 1, counter: 0, node: 'm1' });
    const newer = entryOf('new', { wall: 2, counter: 0, node: 'n1' });
    const early = earlyFrom('m1');
    const { lookup, fetches } = harness({ held: { n1: newer }, fetchEarly: early.fetchEarly });
    const found = lookup.find(KEY, HASH);
    lookup.answer(HASH, answerFor(newer, 'n1', false));
    early.settle(older);
    assert.equal(await found, newer);
    assert.deepEqual(fetches, ['n1']);
  });

  test('a master whose fetch hangs is waited for until the timeout, then the answers are used', async () => {
    const entry = entryOf('v', { wall: 1, counter: 0, node: 'm2' });
    const early = earlyFrom('m1');
    const { lookup, fetches, timer } = harness({
      held: { m2: entry },
      fetchEarly: early.fetchEarly,
    });
    let settled = false;
    const found = lookup.find(KEY, HASH).finally(() => {
      settled = true;
    });
    lookup.answer(HASH, answerFor(entry, 'm2', true));
    await drainMicrotasks();
    assert.equal(settled, false, 'the early fetch is still awaited');
    timer.fire();
    assert.equal(await found, entry);
    assert.deepEqual(fetches, ['m2']);
  });

  test("an early value whose hash differs from its master's own answer is not taken", async () => {
    const said = entryOf('the real value', { wall: 3, counter: 0, node: 'm1' });
    const forged = entryOf('something else', said.version);
    const early = earlyFrom('m1');
    const { lookup, fetches } = harness({ held: { m1: said }, fetchEarly: early.fetchEarly });
    const found = lookup.find(KEY, HASH);
    lookup.answer(HASH, answerFor(said, 'm1', true));
    early.settle(forged);
    assert.equal(await found, said, 'the value fetched for the answer, whose hash matches');
    assert.deepEqual(fetches, ['m1']);
  });
});
