import assert from 'node:assert/strict';
import { test } from 'node:test';
import { pino } from 'pino';
import { MemoryBus } from '../../cluster/memory-transport.js';
import { DistNode } from '../../cluster/node.js';

/** Nodes on an in-memory bus: the election and membership logic without sockets. */
function startNodes(bus: MemoryBus, ids: string[]): DistNode[] {
  return ids.map(
    (id) =>
      new DistNode(
        {
          id,
          http: `${id}.invalid:1`,
          cluster: 'unit',
          lookupTimeoutMs: 20,
          announceMs: 40,
          cacheTtlSeconds: 60,
          cacheMaxKeys: 0,
          cacheMaxBytes: 0,
          tombstoneTtlSeconds: 60,
          writeAcks: 'all',
          joinWindowMs: 20,
          peerTimeoutMs: 50,
        },
        { transport: bus.transport(), logger: pino({ level: 'silent' }) },
      ),
  );
}

async function waitFor(check: () => boolean, what: string, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

const agreed = (nodes: DistNode[]) =>
  nodes.every(
    (n) =>
      n.masterSet.ids.length === Math.min(2, nodes.length) &&
      n.masterSet.epoch === nodes[0]?.masterSet.epoch &&
      n.masterSet.ids.join() === nodes[0]?.masterSet.ids.join(),
  );

test('nodes starting together agree on two masters', async (t) => {
  const nodes = startNodes(new MemoryBus(), ['c', 'a', 'b', 'd']);
  t.after(() => Promise.all(nodes.map((n) => n.close())));
  await Promise.all(nodes.map((n) => n.start()));
  await waitFor(() => agreed(nodes), 'one master set');
  assert.equal(nodes.filter((n) => n.isMaster).length, 2);
});

test('a master that leaves is replaced; the other master stays', async (t) => {
  const nodes = startNodes(new MemoryBus(), ['a', 'b', 'c']);
  t.after(() => Promise.all(nodes.map((n) => n.close())));
  await Promise.all(nodes.map((n) => n.start()));
  await waitFor(() => agreed(nodes), 'one master set');
  const before = nodes[0]?.masterSet as { epoch: number; ids: readonly string[] };
  const leaving = nodes.find((n) => n.isMaster) as DistNode;
  const staying = before.ids.find((id) => id !== leaving.id) as string;
  leaving.leave();
  await leaving.close();
  const rest = nodes.filter((n) => n !== leaving);
  await waitFor(() => agreed(rest) && !rest[0]?.masterSet.ids.includes(leaving.id), 'a new set');
  assert.ok(rest[0]?.masterSet.ids.includes(staying), 'masters are sticky');
  assert.ok((rest[0]?.masterSet.epoch ?? 0) > before.epoch);
});

test('a silent master is declared dead after missed announcements', async (t) => {
  const bus = new MemoryBus();
  const nodes = startNodes(bus, ['a', 'b', 'c']);
  t.after(() => Promise.all(nodes.map((n) => n.close())));
  await Promise.all(nodes.map((n) => n.start()));
  await waitFor(() => agreed(nodes), 'one master set');
  const silent = nodes.find((n) => n.isMaster) as DistNode;
  await silent.close(); // no goodbye: the others must notice the silence
  const rest = nodes.filter((n) => n !== silent);
  await waitFor(() => agreed(rest) && !rest[0]?.masterSet.ids.includes(silent.id), 'a new set');
});
