import assert from 'node:assert/strict';
import { test } from 'node:test';
import { InProcessCluster } from '../support/in-process-cluster.js';

/** Nodes in one process (in-memory packets, simulated time): election and membership. */

test('nodes starting together agree on two masters', async (t) => {
  const cluster = new InProcessCluster();
  t.after(() => cluster.close());
  await cluster.start('c', 'a', 'b', 'd');
  await cluster.until(() => cluster.agreed(), 'one master set');
  assert.equal(cluster.running.filter((n) => n.isMaster).length, 2);
});

test('a master that leaves is replaced; the other master stays', async (t) => {
  const cluster = new InProcessCluster();
  t.after(() => cluster.close());
  await cluster.start('a', 'b', 'c');
  await cluster.until(() => cluster.agreed(), 'one master set');
  const before = cluster.node('a').masterSet;
  const [leaving, staying] = before.ids as [string, string];
  cluster.node(leaving).leave();
  await cluster.kill(leaving);
  const rest = cluster.running;
  await cluster.until(
    () => cluster.agreed() && !rest[0]?.masterSet.ids.includes(leaving),
    'a new set without the node that left',
  );
  assert.ok(rest[0]?.masterSet.ids.includes(staying), 'masters are sticky');
  assert.ok((rest[0]?.masterSet.epoch ?? 0) > before.epoch);
});

test('a silent master is declared dead after missed announcements', async (t) => {
  const cluster = new InProcessCluster();
  t.after(() => cluster.close());
  await cluster.start('a', 'b', 'c');
  await cluster.until(() => cluster.agreed(), 'one master set');
  const [silent] = cluster.node('a').masterSet.ids as [string];
  await cluster.kill(silent); // no goodbye: the others must notice the silence
  await cluster.until(
    () => cluster.agreed() && !cluster.running[0]?.masterSet.ids.includes(silent),
    'a new set without the silent master',
  );
});
