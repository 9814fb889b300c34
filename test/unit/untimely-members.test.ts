import assert from 'node:assert/strict';
import { test } from 'node:test';
import { UntimelyMembers } from '../../cluster/untimely-members.js';

/** Members heard only by announcements refused for their stamps, in simulated time. */
function untimelyAt(max = 8) {
  let now = 1_000_000;
  const members = new UntimelyMembers({ now: () => now, forgetAfterMs: 300, max });
  return { members, pass: (ms: number) => (now += ms) };
}

test('each member is kept with its latest offset, sorted by id', () => {
  const { members } = untimelyAt();
  members.heard('d', 3_600_000);
  members.heard('b', -3_600_000);
  members.heard('d', 3_600_400);
  assert.deepEqual(members.recent(), [
    { id: 'b', offsetMs: -3_600_000 },
    { id: 'd', offsetMs: 3_600_400 },
  ]);
});

test('a member not heard for the dead-member limit is forgotten', () => {
  const { members, pass } = untimelyAt();
  members.heard('a', 10_000);
  pass(200);
  members.heard('b', 10_000);
  pass(200);
  assert.deepEqual(
    members.recent().map((m) => m.id),
    ['b'],
  );
  pass(101);
  assert.deepEqual(members.recent(), []);
});

test('replayed announcements of many ids cannot grow it past its bound', () => {
  const { members, pass } = untimelyAt(3);
  for (let i = 0; i < 100; i++) members.heard(`old-${i}`, -86_400_000);
  assert.deepEqual(
    members.recent().map((m) => m.id),
    ['old-0', 'old-1', 'old-2'],
  );
  // Room is made only as the kept ones are forgotten.
  pass(301);
  members.heard('new', 20_000);
  assert.deepEqual(members.recent(), [{ id: 'new', offsetMs: 20_000 }]);
});
