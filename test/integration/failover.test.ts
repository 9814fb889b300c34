import assert from 'node:assert/strict';
import { afterEach, describe, test } from 'node:test';
import { Fleet, type NodeProcess, waitFor } from './fleet.js';

async function writeKeys(nodes: NodeProcess[], prefix: string, count: number): Promise<string[]> {
  const keys = Array.from({ length: count }, (_, i) => `${prefix}-${i}`);
  for (const [i, key] of keys.entries()) {
    const writer = nodes[i % nodes.length] as NodeProcess;
    const response = await writer.post('/post', { key, value: `${key}!` });
    assert.equal(response.status, 200, `write of ${key}: ${await response.text()}`);
  }
  return keys;
}

async function assertReadable(nodes: NodeProcess[], keys: string[]): Promise<void> {
  for (const node of nodes) {
    for (const key of keys) {
      const response = await node.get(`/get/${key}`);
      assert.equal(response.status, 200, `${key} on ${node.id}`);
      assert.equal(await response.text(), `${key}!`);
    }
  }
}

describe('master failure', () => {
  let fleet: Fleet | undefined;
  afterEach(() => fleet?.close());

  test('a killed master is replaced, the new one syncs, and no key is lost', async () => {
    fleet = await Fleet.start(4);
    const before = await writeKeys(fleet.nodes, 'before', 40);
    const masters = await fleet.settled();
    const victim = fleet.masterNodes(masters)[0] as NodeProcess;
    await victim.stop('SIGKILL');
    const survivors = fleet.alive;
    // Written at once: the writers find the dead master, confirm it, re-elect and retry.
    const during = await writeKeys(survivors, 'during', 20);
    const next = await fleet.settled();
    assert.ok(!next.ids.includes(victim.id));
    assert.ok(next.epoch > masters.epoch);
    assert.ok(
      next.ids.includes(masters.ids.find((id) => id !== victim.id) as string),
      'the survivor stays',
    );
    const after = await writeKeys(survivors, 'after', 20);
    for (const master of fleet.masterNodes(next)) {
      const held = (await master.status()).store.primary;
      assert.ok(held >= 80, `${master.id} holds every key (${held})`);
    }
    await assertReadable(survivors, [...before, ...during, ...after]);
  });

  test('both masters killed: every key a survivor holds stays readable', async () => {
    fleet = await Fleet.start(5);
    const masters = await fleet.settled();
    const members = fleet.nodes.filter((n) => !masters.ids.includes(n.id));
    // Written on the non-masters, so each survivor holds its own writes.
    const keys = await writeKeys(members, 'kept', 30);
    await Promise.all(fleet.masterNodes(masters).map((m) => m.stop('SIGKILL')));
    const killedAt = Date.now();
    const next = await fleet.settled(15_000);
    const electedMs = Date.now() - killedAt;
    assert.ok(next.ids.every((id) => !masters.ids.includes(id)));
    // The survivors re-send their primary entries to the new masters.
    for (const master of fleet.masterNodes(next)) {
      await waitFor(
        async () => (await master.status()).store.primary >= keys.length,
        `${master.id} to hold all keys`,
      );
    }
    const heldMs = Date.now() - killedAt;
    await assertReadable(fleet.alive, keys);
    console.log(
      `FIGURE both-masters-killed keys=${keys.length} survivors=${fleet.alive.length} readable_everywhere=${keys.length} new_masters_after_ms=${electedMs} new_masters_hold_all_after_ms=${heldMs} announce_ms=200`,
    );
  });

  test('a master that stops gracefully is replaced at once, not after missed announcements', async () => {
    // Announces every 4 s: a silent death would take 12 s to notice.
    fleet = await Fleet.start(3, { announceMs: 4000 });
    const masters = await fleet.settled(15_000);
    const leaving = fleet.masterNodes(masters)[0] as NodeProcess;
    assert.equal(await leaving.stop('SIGTERM'), 0, 'exit code 0 on SIGTERM');
    const next = await fleet.settled(3000);
    assert.ok(!next.ids.includes(leaving.id));
  });
});
