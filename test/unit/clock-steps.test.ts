import assert from 'node:assert/strict';
import { type TestContext, test } from 'node:test';
import { InProcessCluster } from '../support/in-process-cluster.js';

/**
 * A node's wall clock stepped by an hour (NTP, an operator) while it runs: how long its members
 * have been silent is measured on a clock that does not jump, so none of them dies at once,
 * and a master that does die is seen dead in time. In one process, in simulated time.
 */

const HOUR = 3_600_000;

async function fourAgreed(t: TestContext) {
  const cluster = new InProcessCluster();
  t.after(() => cluster.close());
  await cluster.start('a', 'b', 'c', 'd');
  await cluster.until(() => cluster.agreed(), 'one master set');
  const masters = cluster.node('a').masterSet.ids;
  const member = ['a', 'b', 'c', 'd'].find((id) => !masters.includes(id)) as string;
  return { cluster, masters, member };
}

/** Whether `id` counts `other` alive, as its /status says. */
function seesAlive(cluster: InProcessCluster, id: string, other: string): boolean {
  return (
    cluster
      .node(id)
      .status()
      .members.find((m) => m.id === other)?.alive === true
  );
}

test('a clock stepped an hour forward does not make every member look dead', async (t) => {
  const { cluster, member } = await fourAgreed(t);
  cluster.stepClock(member, HOUR);
  for (const other of ['a', 'b', 'c', 'd']) {
    assert.ok(seesAlive(cluster, member, other), `${member} sees ${other} alive`);
  }
});

test('a clock stepped an hour back still sees a dead master die in time', async (t) => {
  const { cluster, masters, member } = await fourAgreed(t);
  cluster.stepClock(member, -HOUR);
  const [dead] = masters as [string];
  await cluster.kill(dead);
  // Three announce intervals (the dead limit), and a few more for the election.
  await cluster.until(
    () => !seesAlive(cluster, member, dead),
    `${member} to see ${dead} dead`,
    1_000,
  );
  await cluster.until(
    () => cluster.agreed() && !cluster.node(member).masterSet.ids.includes(dead),
    'a new master set',
  );
});

/** A write on `id`'s node; its error's code if it fails. */
async function written(cluster: InProcessCluster, id: string, key: string): Promise<string> {
  try {
    await cluster.run(
      cluster.node(id).write(key, Buffer.from('v'), 'text/plain'),
      `write on ${id}`,
    );
    return 'stored';
  } catch (error) {
    return (error as { code?: string }).code ?? String(error);
  }
}

/** How many re-sent entries `ids` refused as stamped too far ahead of their clocks. */
async function refusedEntries(cluster: InProcessCluster, ids: readonly string[]): Promise<number> {
  let total = 0;
  for (const id of ids) {
    const { values } = await cluster.node(id).metrics.versionsRefused.get();
    for (const { labels, value } of values) if (labels.path === 'entries') total += value;
  }
  return total;
}

test('a failed write stamped by a clock an hour ahead is withdrawn once the clock is put right', async (t) => {
  const { cluster, masters, member } = await fourAgreed(t);
  const node = cluster.node(member);
  // The write leaves before the member has heard how far off its clock now is; the masters
  // fail it (as they refuse a request signed an hour off).
  cluster.stepClock(member, HOUR);
  for (const id of masters) cluster.network.failNext(cluster.node(id).http, 'replicate', 2);
  assert.equal(await written(cluster, member, 'k'), 'replication_failed');
  assert.ok(node.store.get('k'), 'kept on the writer, as a failed write is');
  cluster.stepClock(member, -HOUR);
  await cluster.until(() => node.store.get('k') === undefined, 'k withdrawn');
  assert.equal((await node.metrics.withdrawn.get()).values[0]?.value, 1, 'counted');
  // Its next write of the key is taken, stamped by the clock put right, and is what it holds.
  assert.equal(await written(cluster, member, 'k'), 'stored');
  const version = node.store.get('k')?.version;
  assert.ok(version && Math.abs(version.wall - cluster.clock.now()) < 60_000, 'a version of now');
  for (const id of masters) assert.deepEqual(cluster.node(id).store.get('k')?.version, version, id);
});

test('a write its own minority set acknowledged an hour ahead is kept, refused or not', async (t) => {
  const { cluster, masters, member } = await fourAgreed(t);
  const others = ['a', 'b', 'c', 'd'].filter((id) => id !== member);
  cluster.partition([member], others);
  await cluster.until(
    () => cluster.node(member).masterSet.ids.join() === member,
    `${member} on its own`,
  );
  cluster.stepClock(member, HOUR);
  assert.equal(await written(cluster, member, 'k'), 'stored');
  cluster.stepClock(member, -HOUR);
  cluster.heal();
  await cluster.until(() => cluster.agreed(), 'one master set again');
  await cluster.until(
    async () => (await refusedEntries(cluster, masters)) > 0,
    'the masters to refuse its re-send of k',
  );
  assert.ok(cluster.node(member).store.get('k'), 'acknowledged: never withdrawn');
  for (const id of masters) assert.equal(cluster.node(id).store.get('k'), undefined, id);
});
