import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  electMasters,
  isBetterSet,
  type MasterSet,
  NO_MASTERS,
  needsElection,
} from '../../cluster/election.js';
import type { Member } from '../../cluster/membership.js';

/** A live member as membership reports it; only the id and key count matter to elections. */
function member(id: string, keys = 0): Member {
  return {
    id,
    http: `${id}:8181`,
    keys,
    epoch: 1,
    masters: [],
    state: 'ready',
    boot: 'boot-1',
    lastSeen: 0,
  };
}

const set = (epoch: number, ids: string[], quorum = true): MasterSet => ({ epoch, ids, quorum });

describe('isBetterSet', () => {
  test('a higher epoch wins, whatever the ids', () => {
    assert.equal(isBetterSet(set(3, ['y', 'z']), set(2, ['a', 'b'])), true);
    assert.equal(isBetterSet(set(2, ['a', 'b']), set(3, ['y', 'z'])), false);
  });

  test('any elected set beats having no masters', () => {
    assert.equal(isBetterSet(set(1, ['a', 'b']), NO_MASTERS), true);
    assert.equal(isBetterSet(NO_MASTERS, set(1, ['a', 'b'])), false);
  });

  test('at the same epoch, the smaller sorted id list wins', () => {
    assert.equal(isBetterSet(set(4, ['a', 'c']), set(4, ['b', 'c'])), true);
    assert.equal(isBetterSet(set(4, ['b', 'c']), set(4, ['a', 'c'])), false);
    assert.equal(isBetterSet(set(4, ['a', 'b']), set(4, ['a', 'c'])), true);
    assert.equal(isBetterSet(set(4, ['a', 'c']), set(4, ['a', 'b'])), false);
  });

  test("a majority's set beats a minority's, even at a lower epoch", () => {
    assert.equal(isBetterSet(set(3, ['a', 'b']), set(9, ['a', 'e'], false)), true);
    assert.equal(isBetterSet(set(9, ['a', 'e'], false), set(3, ['a', 'b'])), false);
  });

  test("a minority's set still beats having no masters", () => {
    assert.equal(isBetterSet(set(1, ['e'], false), NO_MASTERS), true);
  });

  test('an identical set is not better, so nodes do not flap between copies', () => {
    assert.equal(isBetterSet(set(4, ['a', 'b']), set(4, ['a', 'b'])), false);
  });

  test('two nodes that elected at once converge on the same set', () => {
    const mine = set(5, ['10.0.0.2:8181', '10.0.0.3:8181']);
    const theirs = set(5, ['10.0.0.1:8181', '10.0.0.3:8181']);
    const adopted = [mine, theirs].reduce((best, s) => (isBetterSet(s, best) ? s : best));
    const adoptedOtherWay = [theirs, mine].reduce((best, s) => (isBetterSet(s, best) ? s : best));
    assert.deepEqual(adopted, theirs);
    assert.deepEqual(adoptedOtherWay, theirs);
  });
});

describe('needsElection', () => {
  test('is true when there are no masters yet', () => {
    assert.equal(needsElection(NO_MASTERS, [member('a')]), true);
    assert.equal(needsElection(NO_MASTERS, [member('a'), member('b')]), true);
  });

  test('is true when a master is not among the live members', () => {
    assert.equal(needsElection(set(1, ['a', 'b']), [member('a'), member('c')]), true);
    assert.equal(needsElection(set(1, ['a', 'b']), [member('c'), member('d')]), true);
  });

  test('is true with one master while two nodes are live', () => {
    assert.equal(needsElection(set(1, ['a']), [member('a'), member('b')]), true);
  });

  test('is false with one master when it is the only live node', () => {
    assert.equal(needsElection(set(1, ['a']), [member('a')]), false);
  });

  test('is false when both masters are live', () => {
    assert.equal(needsElection(set(1, ['a', 'b']), [member('a'), member('b')]), false);
    assert.equal(
      needsElection(set(1, ['a', 'b']), [member('a'), member('b'), member('c'), member('d')]),
      false,
    );
  });

  test("is true for a minority's set once a majority of the members known is alive", () => {
    const alive = [member('a'), member('b'), member('c')];
    assert.equal(needsElection(set(4, ['a', 'b'], false), alive, 5), true);
    assert.equal(needsElection(set(4, ['a', 'b'], false), alive.slice(0, 2), 5), false);
    assert.equal(needsElection(set(4, ['a', 'b']), alive, 5), false);
  });

  test('key counts changing never calls for an election (masters are sticky)', () => {
    const masters = set(1, ['a', 'b']);
    const counts: Array<[number, number, number]> = [
      [10, 10, 0],
      [0, 0, 1_000_000],
      [1, 0, 50],
    ];
    for (const [a, b, c] of counts) {
      assert.equal(needsElection(masters, [member('a', a), member('b', b), member('c', c)]), false);
    }
  });
});

describe('electMasters', () => {
  test('with no masters, picks the two nodes holding the most keys', () => {
    const live = [member('a', 5), member('b', 50), member('c', 20), member('d', 1)];
    assert.deepEqual(electMasters(NO_MASTERS, live), { epoch: 1, ids: ['b', 'c'], quorum: true });
  });

  test('breaks key-count ties by id', () => {
    const live = [member('d', 7), member('b', 7), member('c', 7), member('a', 3)];
    assert.deepEqual(electMasters(NO_MASTERS, live), { epoch: 1, ids: ['b', 'c'], quorum: true });
  });

  test('keeps the surviving master even when others hold more keys', () => {
    const live = [member('a', 1), member('c', 100), member('d', 90)];
    assert.deepEqual(electMasters(set(3, ['a', 'b']), live), {
      epoch: 4,
      ids: ['a', 'c'],
      quorum: true,
    });
  });

  test('returns the ids sorted, whatever the order they were chosen in', () => {
    const live = [member('z', 0), member('b', 100)];
    assert.deepEqual(electMasters(set(7, ['z', 'gone']), live), {
      epoch: 8,
      ids: ['b', 'z'],
      quorum: true,
    });
  });

  test('replaces both masters when both are gone', () => {
    const live = [member('c', 3), member('d', 4), member('e', 5)];
    assert.deepEqual(electMasters(set(2, ['a', 'b']), live), {
      epoch: 3,
      ids: ['d', 'e'],
      quorum: true,
    });
  });

  test('elects a single master when only one node is live', () => {
    assert.deepEqual(electMasters(NO_MASTERS, [member('a', 9)]), {
      epoch: 1,
      ids: ['a'],
      quorum: true,
    });
  });

  test('fills a one-master set when a second node is live', () => {
    const live = [member('a', 0), member('b', 2)];
    assert.deepEqual(electMasters(set(1, ['a']), live), {
      epoch: 2,
      ids: ['a', 'b'],
      quorum: true,
    });
  });

  test('has a quorum only when more than half of the members known are alive', () => {
    const alive = [member('a'), member('b'), member('c')];
    assert.equal(electMasters(NO_MASTERS, alive, 5).quorum, true);
    assert.equal(electMasters(NO_MASTERS, alive.slice(0, 2), 4).quorum, false);
    assert.equal(electMasters(NO_MASTERS, [member('e')], 5).quorum, false);
  });

  test('the elected set is better than the one it replaces and needs no further election', () => {
    const live = [member('a', 1), member('c', 2), member('d', 3)];
    const before = set(6, ['a', 'b']);
    const after = electMasters(before, live);
    assert.equal(isBetterSet(after, before), true);
    assert.equal(needsElection(after, live), false);
  });
});
