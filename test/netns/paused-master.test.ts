import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { NodeStatus } from '../../cluster/node-status.js';
import { type NetnsNode, netnsSkipReason, readVersion, useNetnsFleet, write } from './harness.js';

const ANNOUNCE_MS = 200;

/** Writes `count` keys round-robin over `nodes`; returns key → value. */
async function writeKeys(nodes: NetnsNode[], prefix: string, count: number) {
  const written = new Map<string, string>();
  for (let i = 0; i < count; i++) {
    const key = `${prefix}-${i}`;
    await write(nodes[i % nodes.length] as NetnsNode, key, `${key}!`);
    written.set(key, `${key}!`);
  }
  return written;
}

const setOf = (s: NodeStatus) => `${s.masters.epoch}:${s.masters.ids.join(',')}`;

describe('paused master (network namespaces)', {
  skip: netnsSkipReason(),
  timeout: 120_000,
}, () => {
  const fleet = useNetnsFleet(3, 'paused', { announceMs: ANNOUNCE_MS });

  test('a paused master that was replaced rejoins as a member and does not split the masters', async () => {
    const f = fleet();
    const before = await f.settled();
    const victim = f.nodes.find((n) => before.ids.includes(n.id)) as NetnsNode;
    const others = f.nodes.filter((n) => n !== victim);
    const written = await writeKeys(f.nodes, 'before', 12);

    await f.pause(victim.index);
    // Written at once: the writer finds the master silent, confirms it dead and retries on
    // the new set before it answers.
    const failoverWrite = write(others[0] as NetnsNode, 'failover', 'kept');
    const replaced = await f.settled(others);
    assert.ok(!replaced.ids.includes(victim.id), 'the paused master is replaced');
    assert.ok(replaced.epoch > before.epoch);
    await failoverWrite;
    written.set('failover', 'kept');
    for (const [k, v] of await writeKeys(others, 'during', 12)) written.set(k, v);

    await f.resume(victim.index);
    const rejoined = await f.settled(f.nodes);
    const victimStatus = await victim.status();
    assert.equal(victimStatus.node.role, 'member', 'it rejoins as a non-master');
    assert.equal(victimStatus.masters.epoch, replaced.epoch, 'at the epoch of the others');
    assert.deepEqual(rejoined, replaced, 'the set elected while it was paused stays');

    // For several announce intervals after it rejoined, every node keeps that one set.
    const rejoinedAt = performance.now();
    let rounds = 0;
    while (performance.now() - rejoinedAt < 10 * ANNOUNCE_MS) {
      const statuses = await Promise.all(f.nodes.map((n) => n.status()));
      for (const s of statuses)
        assert.equal(setOf(s), setOf({ masters: replaced } as NodeStatus), `on ${s.node.id}`);
      rounds++;
    }
    assert.ok(rounds > 0);

    for (const [k, v] of await writeKeys(f.nodes, 'after', 12)) written.set(k, v);
    const masters = f.nodes.filter((n) => replaced.ids.includes(n.id));
    for (const [key, value] of written) {
      for (const master of masters)
        assert.equal(
          (await readVersion(master, '/get-local', key))?.value,
          value,
          `${key} on master ${master.id}`,
        );
      for (const node of f.nodes)
        assert.equal((await readVersion(node, '/get', key))?.value, value, `${key} on ${node.id}`);
    }
  });
});
