import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ConflictError, checkCondition, decider } from '../../cluster/conditional.js';
import { type Entry, makeEntry, makeTombstone } from '../../cluster/entry.js';
import { formatVersion, type Version } from '../../cluster/version.js';

const V = { wall: 1_000, counter: 2, node: 'n1' } satisfies Version;

function entryAt(version: Version): Entry {
  return makeEntry(Buffer.from('value'), 'text/plain', version);
}

/** Asserts that `fn` throws a ConflictError naming `current` as the key's version. */
function assertConflict(fn: () => void, current: Version | undefined): void {
  assert.throws(fn, (error: unknown) => {
    assert.ok(error instanceof ConflictError, `expected a ConflictError, got ${error}`);
    assert.equal(error.name, 'ConflictError');
    assert.deepEqual(error.current, current);
    assert.match(
      error.message,
      current ? new RegExp(formatVersion(current).replaceAll('.', '\\.')) : /does not exist/,
    );
    return true;
  });
}

describe('checkCondition: ifAbsent', () => {
  test('passes when the key is absent', () => {
    checkCondition(undefined, { ifAbsent: true });
  });

  test('passes when the key is deleted (a tombstone)', () => {
    checkCondition(makeTombstone(V), { ifAbsent: true });
  });

  test('throws with the current version when the key holds a value', () => {
    assertConflict(() => checkCondition(entryAt(V), { ifAbsent: true }), V);
  });
});

describe('checkCondition: ifVersion', () => {
  test('passes on an exact version match', () => {
    checkCondition(entryAt(V), { ifVersion: { ...V } });
  });

  test('throws with the current version on any other version', () => {
    const others: Version[] = [
      { ...V, wall: V.wall - 1 },
      { ...V, wall: V.wall + 1 },
      { ...V, counter: V.counter + 1 },
      { ...V, counter: V.counter - 1 },
      { ...V, node: 'n2' },
    ];
    for (const ifVersion of others) {
      assertConflict(() => checkCondition(entryAt(V), { ifVersion }), V);
    }
  });

  test('throws with current undefined when the key is absent', () => {
    assertConflict(() => checkCondition(undefined, { ifVersion: V }), undefined);
  });

  test("throws with current undefined when the key is deleted, even at the tombstone's version", () => {
    assertConflict(() => checkCondition(makeTombstone(V), { ifVersion: V }), undefined);
  });
});

describe('decider', () => {
  test('returns the first ready id, in the order given', () => {
    const ready = new Set(['b', 'c']);
    assert.equal(
      decider(['a', 'b', 'c'], (id) => ready.has(id)),
      'b',
    );
    assert.equal(
      decider(['c', 'b', 'a'], (id) => ready.has(id)),
      'c',
    );
    assert.equal(
      decider(['a', 'b', 'c'], () => true),
      'a',
    );
  });

  test('returns undefined when none is ready, or there are no masters', () => {
    assert.equal(
      decider(['a', 'b'], () => false),
      undefined,
    );
    assert.equal(
      decider([], () => true),
      undefined,
    );
  });
});
