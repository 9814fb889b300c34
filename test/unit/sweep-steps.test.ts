import assert from 'node:assert/strict';
import * as fs from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { openDurableStore } from '../../cluster/durable-store.js';
import { type Entry, makeEntry } from '../../cluster/entry.js';
import { MemoryPrimary, type PrimaryTier } from '../../cluster/primary-tier.js';
import { CHECK_EVERY } from '../../cluster/walk-budget.js';
import { keyHash } from '../../cluster/wire.js';

/**
 * An expiry sweep runs a step a tick in the event loop, so a step stops once its time budget
 * is spent; the next goes on from there, and a pass over every key finds each due one.
 */

const hashKey = (key: string) => keyHash('test', key);
const DUE = 'k04321';

function entry(expiresAt?: number): Entry {
  const made = makeEntry(Buffer.from('v'), 'text/plain', { wall: 1, counter: 0, node: 'n' });
  return expiresAt === undefined ? made : { ...made, expiresAt };
}

/** `count` keys, of them DUE expired at 5. */
async function fill(tier: PrimaryTier, count: number): Promise<void> {
  await Promise.all(
    Array.from({ length: count }, (_, i) => {
      const key = `k${String(i).padStart(5, '0')}`;
      return tier.put(key, entry(key === DUE ? 5 : undefined), undefined);
    }),
  );
}

/** Steps from one finding of DUE to the next: the length of a pass. */
function stepsPerPass(tier: PrimaryTier, budgetMs: number): number {
  const rule = { now: 10, tombstoneCutoff: 0, budgetMs };
  const found: number[] = [];
  for (let step = 0; found.length < 2; step++) {
    assert.ok(step < 2_000, 'DUE found twice within 2,000 steps');
    const due = tier.dueKeys(rule);
    assert.ok(
      due.every((key) => key === DUE),
      `only ${DUE} is due: ${due}`,
    );
    if (due.includes(DUE)) found.push(step);
  }
  return (found[1] as number) - (found[0] as number);
}

test('heap tier: a step with no time to spare walks one stretch; a pass finds the due key', async () => {
  const tier = new MemoryPrimary(hashKey);
  await fill(tier, 5_000);

  assert.equal(stepsPerPass(tier, 0), Math.ceil(5_000 / CHECK_EVERY));
  assert.equal(stepsPerPass(tier, 60_000), 1, 'with time enough, one step walks them all');
});

test('lmdb tier: steps stop at the budget, or at 20,000 keys; a pass finds the due key', async () => {
  const dir = await fs.mkdtemp(join(tmpdir(), 'sweep-steps-'));
  const store = await openDurableStore(dir, hashKey);
  try {
    await fill(store, 45_000);

    // A step after the first reads the key the one before stopped at again.
    const passOfStretches = stepsPerPass(store, 0);
    assert.ok(
      passOfStretches >= 45_000 / CHECK_EVERY && passOfStretches <= 45_000 / 200,
      `a pass of 45,000 keys took ${passOfStretches} steps`,
    );
    assert.equal(stepsPerPass(store, 60_000), 3, 'with time enough, 20,000 keys a step');
  } finally {
    await store.close();
    await fs.rm(dir, { recursive: true, force: true });
  }
});
