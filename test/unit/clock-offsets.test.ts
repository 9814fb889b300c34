import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ClockOffsets } from '../../cluster/clock-offsets.js';

const HOUR = 3_600_000;

test("our offset is our clock minus the median of everyone's, ours included", () => {
  assert.equal(ClockOffsets.ours([]), undefined, 'nobody else heard yet');
  assert.equal(ClockOffsets.ours([HOUR, HOUR]), -HOUR, 'the two others an hour ahead');
  assert.equal(ClockOffsets.ours([0, -HOUR]), 0, 'one other right, one behind: we are right');
  assert.equal(ClockOffsets.ours([10, 20, 30]), -15, 'an even count: the middle two averaged');
});

test('a node is ahead of the cluster only when a majority is behind it', () => {
  assert.equal(ClockOffsets.aheadOfMajority([-HOUR, -HOUR, -HOUR], 60_000), true);
  assert.equal(ClockOffsets.aheadOfMajority([-HOUR, -HOUR], 60_000), true, '2 of 3 behind us');
  assert.equal(ClockOffsets.aheadOfMajority([-HOUR], 60_000), false, 'two nodes: who can tell');
  assert.equal(ClockOffsets.aheadOfMajority([-HOUR, 0, 0], 60_000), false, 'one node behind');
  assert.equal(ClockOffsets.aheadOfMajority([-30_000, -30_000], 60_000), false, 'within bound');
});
