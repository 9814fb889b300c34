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
