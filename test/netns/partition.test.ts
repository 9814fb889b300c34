import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { compareVersions, parseVersion } from '../../cluster/version.js';
import { waitFor } from '../support/wait-for.js';
import {
  type NetnsFleet,
  type NetnsNode,
  netnsSkipReason,
  readVersion,
  useNetnsFleet,
  write,
} from './harness.js';

/**
 * A bound on converging at all, not a speed target: the time is printed (FIGURE) and judged
 * by the churn runs (docs/reliability.md). 2 s measured 953–1901 ms on an idle 2-core machine
 * and 2458 ms under other tests' load, too close for an assertion that must not flake.
 */
const CONVERGE_WITHIN_MS = 10_000;

/** The newest of two version strings. */
function newest(a: string | undefined, b: string): string {
  if (a === undefined) return b;
  const [va, vb] = [parseVersion(a), parseVersion(b)];
  assert.ok(va && vb, `versions ${a} and ${b}`);
  return compareVersions(va, vb) >= 0 ? a : b;
}

/**
 * What still disagrees with `expected` (key → highest version written): every node must read
 * it through /get, and every master of the one master set all nodes agree on must hold it
 * (/get-local). Empty when the fleet has converged.
 */
async function disagreements(fleet: NetnsFleet, expected: Map<string, string>): Promise<string[]> {
  const statuses = await Promise.all(fleet.nodes.map((n) => n.status()));
  const sets = new Set(statuses.map((s) => `${s.masters.epoch}:${s.masters.ids.join(',')}`));
  if (sets.size !== 1) return [`master sets differ: ${[...sets].join(' | ')}`];
  const masterIds = statuses[0]?.masters.ids ?? [];
  const masters = fleet.nodes.filter((n) => masterIds.includes(n.id));
  const checks: [NetnsNode, '/get' | '/get-local'][] = [
    ...fleet.nodes.map((n) => [n, '/get'] as [NetnsNode, '/get']),
    ...masters.map((n) => [n, '/get-local'] as [NetnsNode, '/get-local']),
  ];
  const found = await Promise.all(
    checks.flatMap(([node, route]) =>
      [...expected].map(async ([key, version]) => {
        const got = await readVersion(node, route, key);
        return got?.version === version
          ? []
          : [`${route} ${key} on node ${node.index}: ${got?.version} != ${version}`];
      }),
    ),
  );
  return found.flat();
}

describe('partition and heal (network namespaces)', {
  skip: netnsSkipReason(),
  timeout: 120_000,
}, () => {
  const fleet = useNetnsFleet(4, 'partition');

  test('after a heal every node converges to the highest version of every key', async () => {
    const f = fleet();
    const [a0, a1, b0, b1] = f.nodes as [NetnsNode, NetnsNode, NetnsNode, NetnsNode];
    const expected = new Map<string, string>();
    const wrote = (key: string, version: string) =>
      expected.set(key, newest(expected.get(key), version));

    for (let i = 0; i < 6; i++)
      wrote(`before-${i}`, await write(f.nodes[i % 4] as NetnsNode, `before-${i}`, 'x'));

    await f.partition([2, 3]);
    // Each side ends up with a master set of its own (the side that lost its masters elects).
    await f.settled([a0, a1]);
    await f.settled([b0, b1]);

    for (let i = 0; i < 8; i++) {
      wrote(`a-${i}`, await write(i % 2 ? a1 : a0, `a-${i}`, `a${i}`));
      wrote(`b-${i}`, await write(i % 2 ? b1 : b0, `b-${i}`, `b${i}`));
    }
    // Keys written on both sides: the later write wins, on one side for half of them and on
    // the other for the rest; and keys from before the partition rewritten on one side.
    for (let i = 0; i < 8; i++) {
      const [first, second] = i % 2 ? [a0, b1] : [b0, a1];
      wrote(`both-${i}`, await write(first, `both-${i}`, `first${i}`));
      wrote(`both-${i}`, await write(second, `both-${i}`, `second${i}`));
    }
    for (let i = 0; i < 6; i++)
      wrote(`before-${i}`, await write(i % 2 ? a0 : b1, `before-${i}`, `rewritten${i}`));

    // A real outage outlasts the membership horizon (30 announce intervals): hold the
    // partition until each side has forgotten the other, then heal.
    await waitFor(
      async () => {
        const statuses = await Promise.all(f.nodes.map((n) => n.status()));
        return statuses.every((s, i) => {
          const otherSide = i < 2 ? [b0, b1] : [a0, a1];
          return otherSide.every((n) => !s.members.some((m) => m.id === n.id));
        });
      },
      'each side to forget the other',
      20_000,
    );
    await f.heal();
    const healed = performance.now();
    let left: string[] = [];
    let convergeMs = Number.NaN;
    // Bounded: give up well after the limit, to report how long it took or what never came.
    while (performance.now() - healed < 2 * CONVERGE_WITHIN_MS) {
      left = await disagreements(f, expected);
      if (left.length === 0) {
        convergeMs = Math.round(performance.now() - healed);
        break;
      }
    }
    console.log(
      `FIGURE partition-heal converge_ms=${Number.isNaN(convergeMs) ? 'never' : convergeMs} keys=${expected.size} nodes=4`,
    );
    assert.deepEqual(left, [], 'every node reads the highest version of every key');
    assert.ok(
      convergeMs <= CONVERGE_WITHIN_MS,
      `converged in ${convergeMs} ms, over ${CONVERGE_WITHIN_MS}`,
    );
  });
});
