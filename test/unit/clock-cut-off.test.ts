import assert from 'node:assert/strict';
import { type TestContext, test } from 'node:test';
import { ClockCutOffError } from '../../cluster/errors.js';
import type { DistNode } from '../../cluster/node.js';
import { InProcessCluster } from '../support/in-process-cluster.js';

/**
 * With a cluster secret a packet stamped more than 10 s from the receiver's clock is refused,
 * so nodes whose clocks are that far apart cannot hear each other. Who is then cut off, and
 * takes no writes, is decided by the median of every clock a node knows of, those it cannot
 * hear included. In one process, in simulated time; the node clocks are moved, not the timers.
 */

const HOUR = 3_600_000;

/** Starts `onTime` nodes, then `skewed` ones with their clocks moved, all signing packets. */
async function clusterOf(
  t: TestContext,
  onTime: string[],
  skewed: Record<string, number>,
): Promise<InProcessCluster> {
  const cluster = new InProcessCluster();
  t.after(() => cluster.close());
  cluster.signPackets();
  await cluster.start(...onTime);
  await cluster.startWith({ skewMs: (id) => skewed[id] ?? 0 }, ...Object.keys(skewed));
  // A few announce intervals: every node has heard (or refused) every other's announcement.
  await cluster.clock.advance(200);
  return cluster;
}

/**
 * What a write on `node` came to: 'stored', or the error's code. Simulated time passes until it
 * is done, unless `pass` is false (the test lets it pass).
 */
async function writeOn(cluster: InProcessCluster, node: DistNode, pass = true): Promise<string> {
  try {
    const write = node.write('k', Buffer.from('v'), 'text/plain');
    await (pass ? cluster.run(write, `write on ${node.id}`) : write);
    return 'stored';
  } catch (error) {
    if (error instanceof ClockCutOffError) return error.code;
    throw error;
  }
}

test('a node an hour off the other two is the one cut off; they go on', async (t) => {
  const cluster = await clusterOf(t, ['a', 'c'], { d: HOUR });
  const [a, d] = [cluster.node('a'), cluster.node('d')];
  assert.deepEqual(d.status().clock.unheard, ['a', 'c']);
  assert.equal(d.status().clock.off, true);
  assert.deepEqual(a.status().clock.unheard, ['d']);
  assert.equal(a.status().clock.off, false);
  assert.equal(await writeOn(cluster, d), 'clock_off');
  assert.equal(await writeOn(cluster, a), 'stored');
  assert.equal(d.masterSet.quorum, false, "d's own set is a minority's");
  assert.deepEqual(a.masterSet, { ...a.masterSet, ids: ['a', 'c'], quorum: true });
});

test('with two nodes an hour apart, neither can tell whose clock is wrong: both refuse', async (t) => {
  const cluster = await clusterOf(t, ['a'], { d: HOUR });
  for (const id of ['a', 'd']) {
    const node = cluster.node(id);
    assert.equal(node.status().clock.off, true, id);
    assert.equal(await writeOn(cluster, node), 'clock_off', id);
  }
});

test('two equal halves an hour apart: every node refuses writes', async (t) => {
  const cluster = await clusterOf(t, ['a', 'c'], { d: HOUR, e: HOUR });
  for (const id of ['a', 'c', 'd', 'e']) {
    assert.equal(await writeOn(cluster, cluster.node(id)), 'clock_off', id);
  }
});

test('a majority on time outvotes two nodes off in opposite ways', async (t) => {
  const cluster = await clusterOf(t, ['a', 'c'], { b: -HOUR, d: HOUR });
  assert.equal(await writeOn(cluster, cluster.node('a')), 'stored');
  assert.equal(await writeOn(cluster, cluster.node('b')), 'clock_off');
  assert.equal(await writeOn(cluster, cluster.node('d')), 'clock_off');
  assert.equal(cluster.node('a').status().clock.off, false);
});

test('members refused a moment ago are forgotten when they fall silent', async (t) => {
  const cluster = await clusterOf(t, ['a', 'c'], { d: HOUR });
  assert.deepEqual(cluster.node('a').status().clock.unheard, ['d']);
  await cluster.kill('d');
  await cluster.until(() => cluster.node('a').status().clock.unheard.length === 0, 'd forgotten');
});

test('a write under way when its node finds itself cut off is refused, not acknowledged by its own set', async (t) => {
  const cluster = await clusterOf(t, ['a', 'b', 'x'], {});
  await cluster.until(() => cluster.agreed(), 'one master set');
  const masters = cluster.node('a').masterSet.ids;
  const member = cluster.node(['a', 'b', 'x'].find((id) => !masters.includes(id)) as string);
  // The write reaches the masters only after the member's clock has jumped an hour, and
  // they refuse it (as they refuse a request signed an hour off).
  const releases = masters.map((id) => cluster.network.hold(cluster.node(id).http, 'replicate'));
  const write = writeOn(cluster, member, false);
  cluster.stepClock(member.id, HOUR);
  await cluster.until(
    () => member.masterSet.ids.join() === member.id,
    `${member.id}, hearing nobody, to elect itself`,
  );
  assert.equal(member.masterSet.quorum, false, "the set it elected is a minority's");
  for (const id of masters) cluster.network.failNext(cluster.node(id).http, 'replicate', 2);
  for (const release of releases) release();
  assert.equal(await cluster.run(write), 'clock_off');
  assert.equal(member.store.get('k'), undefined, 'not kept on the member either');
  assert.equal((await member.metrics.withdrawn.get()).values[0]?.value, 1, 'counted');
});
