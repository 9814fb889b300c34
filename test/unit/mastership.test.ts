import assert from 'node:assert/strict';
import { type TestContext, test } from 'node:test';
import type { DistNode } from '../../cluster/node.js';
import { InProcessCluster } from '../support/in-process-cluster.js';

/**
 * Mastership under failure, a whole cluster in one process (in-memory packets and peers,
 * simulated time): what a user checks is that no acknowledged write is lost and that the
 * masters end up holding every key.
 */

const value = (key: string) => Buffer.from(`value of ${key}`);

/** Writes `count` keys through each named node; resolves when all are acknowledged. */
async function writeThrough(cluster: InProcessCluster, ids: string[], count: number) {
  const keys: string[] = [];
  for (const id of ids) {
    for (let i = 0; i < count; i++) {
      const key = `${id}-key-${i}`;
      keys.push(key);
      await cluster.run(cluster.node(id).write(key, value(key), 'text/plain'), `write ${key}`);
    }
  }
  return keys;
}

/** The keys a node lacks as primary entries. */
const missing = (node: DistNode, keys: string[]) =>
  keys.filter((key) => node.store.get(key)?.value.toString() !== `value of ${key}`);

const masters = (cluster: InProcessCluster) =>
  cluster.running.filter((n) => n.isMaster && n.nodeState === 'ready');

/** Every running node agrees on two ready masters, and each holds every key. */
function mastersHoldAll(cluster: InProcessCluster, keys: string[]): boolean {
  const ready = masters(cluster);
  return (
    cluster.agreed() && ready.length === 2 && ready.every((m) => missing(m, keys).length === 0)
  );
}

/** The five nodes of the partition tests. */
const FIVE = ['a', 'b', 'c', 'd', 'e'];

/** Five nodes agreed on one master set: the cluster, that set, its masters and the others. */
async function fiveAgreed(t: TestContext) {
  const cluster = new InProcessCluster();
  t.after(() => cluster.close());
  await cluster.start(...FIVE);
  await cluster.until(() => cluster.agreed(), 'one master set');
  const before = cluster.node('a').masterSet;
  const [m1, m2] = before.ids as [string, string];
  const others = FIVE.filter((id) => !before.ids.includes(id)) as [string, string, string];
  return { cluster, before, m1, m2, others };
}

async function assertReadableEverywhere(cluster: InProcessCluster, keys: string[]) {
  for (const node of cluster.running) {
    for (const key of keys) {
      const entry = await cluster.run(node.read(key), `read ${key} on ${node.id}`);
      assert.equal(entry?.value.toString(), `value of ${key}`, `${key} on ${node.id}`);
    }
  }
}

test('a master failing mid-sync: the new masters still end with every key', async (t) => {
  const cluster = new InProcessCluster();
  t.after(() => cluster.close());
  await cluster.start('a', 'b', 'c', 'd');
  await cluster.until(() => cluster.agreed(), 'one master set');
  assert.deepEqual(cluster.node('c').masterSet.ids, ['a', 'b']);
  const keys = await writeThrough(cluster, ['c', 'd'], 25);

  // b dies; c (tied with d on keys, first by id) replaces it and syncs from a, which stops
  // answering after ten entries and then dies too.
  const release = cluster.network.holdSync('a.invalid:1', 10);
  t.after(release);
  await cluster.kill('b');
  await cluster.until(() => cluster.node('c').nodeState === 'syncing', 'c syncing from a');
  await cluster.kill('a');
  await cluster.until(() => mastersHoldAll(cluster, keys), 'c and d masters with every key');
  assert.deepEqual(cluster.node('d').masterSet.ids, ['c', 'd']);
  await assertReadableEverywhere(cluster, keys);
});

test('both masters failing one after the other lose no write', async (t) => {
  const cluster = new InProcessCluster();
  t.after(() => cluster.close());
  await cluster.start('a', 'b', 'c', 'd', 'e');
  await cluster.until(() => cluster.agreed(), 'one master set');
  const keys = await writeThrough(cluster, ['c', 'd', 'e'], 10);

  await cluster.kill('a');
  await cluster.until(() => mastersHoldAll(cluster, keys), 'a replaced, its successor synced');
  assert.ok(!cluster.node('c').masterSet.ids.includes('a'));
  await cluster.kill('b');
  await cluster.until(() => mastersHoldAll(cluster, keys), 'b replaced, its successor synced');
  assert.ok(!cluster.node('c').masterSet.ids.includes('b'));
  await assertReadableEverywhere(cluster, keys);
});

test('a partition and its heal: one master set, the newest write everywhere', async (t) => {
  const cluster = new InProcessCluster();
  t.after(() => cluster.close());
  await cluster.start('a', 'b', 'c', 'd');
  await cluster.until(() => cluster.agreed(), 'one master set');

  cluster.partition(['a', 'c'], ['b', 'd']);
  await cluster.until(
    () => cluster.agreed(2, ['a', 'c']) && cluster.agreed(2, ['b', 'd']),
    'each side electing its own masters',
  );
  const left = await writeThrough(cluster, ['c'], 5);
  const right = await writeThrough(cluster, ['d'], 5);
  await cluster.run(cluster.node('c').write('shared', Buffer.from('older'), 'text/plain'));
  await cluster.advance(5);
  await cluster.run(cluster.node('d').write('shared', Buffer.from('newer'), 'text/plain'));

  cluster.heal();
  const keys = [...left, ...right];
  await cluster.until(() => mastersHoldAll(cluster, keys), 'one set holding both sides');
  await assertReadableEverywhere(cluster, keys);
  for (const node of cluster.running) {
    const shared = await cluster.run(node.read('shared'), `read shared on ${node.id}`);
    assert.equal(shared?.value.toString(), 'newer', `the newest write on ${node.id}`);
  }
});

test('a re-send to a new master that fails is retried', async (t) => {
  const cluster = new InProcessCluster();
  t.after(() => cluster.close());
  await cluster.start('a', 'b', 'c', 'd');
  await cluster.until(() => cluster.agreed(), 'one master set');
  const keys = await writeThrough(cluster, ['c', 'd'], 10);

  // Both masters at once: no survivor, so c and d re-send what they hold to each other;
  // c's first re-send to d fails.
  cluster.network.failNext('d.invalid:1', 'send entries');
  await cluster.kill('a');
  await cluster.kill('b');
  await cluster.until(() => mastersHoldAll(cluster, keys), 'c and d holding every key');
  assert.equal(cluster.network.failuresLeft('d.invalid:1', 'send entries'), 0, 'it did fail');
  assert.deepEqual(cluster.node('c').masterSet.ids, ['c', 'd']);
});

test("a node cut off alone elects itself, and on its return the majority's masters stay", async (t) => {
  const cluster = new InProcessCluster();
  t.after(() => cluster.close());
  await cluster.start('a', 'b', 'c', 'd', 'e');
  await cluster.until(() => cluster.agreed(), 'one master set');
  const majority = ['a', 'b', 'c', 'd'];
  const before = cluster.node('a').masterSet;
  const changes = () => majority.map((id) => cluster.node(id).metrics.masterChanges.get());
  const changesBefore = await Promise.all(changes());

  cluster.partition(['e'], majority);
  await cluster.until(() => cluster.node('e').masterSet.ids.join() === 'e', 'e electing itself');
  assert.equal(cluster.node('e').masterSet.quorum, false, 'one of five is no majority');
  assert.ok(cluster.node('e').masterSet.epoch > before.epoch);
  await cluster.run(cluster.node('e').write('written-alone', Buffer.from('e'), 'text/plain'));

  cluster.heal();
  await cluster.until(() => cluster.agreed(), 'e back under the majority set');
  assert.deepEqual(cluster.node('e').masterSet, before, "the majority's set, unchanged");
  assert.deepEqual(await Promise.all(changes()), changesBefore, 'no master change on the majority');
  await cluster.until(
    () => masters(cluster).every((m) => m.store.get('written-alone') !== undefined),
    "the masters holding e's write from its time alone",
  );
});

test('a minority still hearing a member of the other side when the masters fall silent elects no quorum', async (t) => {
  const { cluster, before, m1, m2, others } = await fiveAgreed(t);
  const [third, ...minority] = others;
  const changes = () => [m1, m2, third].map((id) => cluster.node(id).metrics.masterChanges.get());
  const changesBefore = await Promise.all(changes());

  // The masters fall silent for the minority one announce interval (40 ms) before the third
  // member of the majority does: when the masters are found dead, that member has been silent
  // for two intervals only, still alive, but not heard lately.
  cluster.lose = (_message, from, to) => before.ids.includes(from) && minority.includes(to);
  await cluster.advance(40);
  cluster.partition([m1, m2, third], minority);
  cluster.lose = () => false;
  const [first] = minority;
  await cluster.until(
    () => !cluster.node(first).masterSet.ids.includes(m1),
    `${first} replacing the silent masters`,
  );
  assert.equal(cluster.node(first).masterSet.quorum, false, 'two of five hold no majority');

  cluster.heal();
  await cluster.until(() => cluster.agreed(), 'the minority back under the majority set');
  assert.deepEqual(cluster.node(first).masterSet, before, "the majority's set, unchanged");
  assert.deepEqual(await Promise.all(changes()), changesBefore, 'no master change on the majority');
});

test('a re-send begun before a write made on a minority side does not stand for it', async (t) => {
  const { cluster, before, m1, m2, others } = await fiveAgreed(t);
  const [alone] = others;
  const rest = FIVE.filter((id) => id !== alone);
  const node = cluster.node(alone);

  // Cut off, it hears m1 a little longer than m2: it elects m1 and itself (no quorum) and
  // starts re-sending its entries to m1, a request that hangs until the heal.
  const release = cluster.network.hold(`${m1}.invalid:1`, 'send entries');
  cluster.lose = (_message, from, to) => from === m2 && to === alone;
  await cluster.advance(40);
  cluster.partition([alone], rest);
  cluster.lose = () => false;
  await cluster.until(() => node.masterSet.ids.includes(alone), `${alone} electing itself`);
  await cluster.until(() => node.masterSet.ids.join() === alone, `${alone} alone as master`);
  await cluster.run(node.write('written-alone', Buffer.from('alone'), 'text/plain'));

  // The heal: it takes the majority's set back while its old re-send is still on its way.
  cluster.heal();
  await cluster.until(() => node.masterSet.epoch === before.epoch, `${alone} back in the set`);
  release();
  await cluster.until(
    () =>
      cluster.agreed() &&
      [m1, m2].every((id) => cluster.node(id).store.get('written-alone') !== undefined),
    'both masters holding the write made alone',
  );
});

test('a node back from a minority does not elect on failures of its requests from before', async (t) => {
  const { cluster, before, others: nonMasters } = await fiveAgreed(t);
  const [returning] = nonMasters;
  const others = FIVE.filter((id) => id !== returning);
  cluster.partition([returning], others);
  await cluster.until(
    () => cluster.node(returning).masterSet.ids.join() === returning,
    `${returning} electing itself`,
  );
  cluster.heal();
  await cluster.until(() => cluster.agreed(), `${returning} back under the majority set`);

  // Its first write after the heal fails on a master, and so does the probe, as a request and a
  // probe started across the partition would: that is no news of the master's death.
  const [master] = before.ids as [string];
  cluster.network.failNext(cluster.node(master).http, 'replicate');
  cluster.network.failNext(cluster.node(master).http, 'probe');
  await cluster.run(cluster.node(returning).write('k', Buffer.from('v'), 'text/plain'));
  await cluster.advance(200);
  assert.deepEqual(cluster.node(returning).masterSet, before, 'no election of its own');
  assert.deepEqual(cluster.node(master).masterSet, before);
});

test('a master cut off alone is replaced, and does not take its place back on return', async (t) => {
  const cluster = new InProcessCluster();
  t.after(() => cluster.close());
  await cluster.start('a', 'b', 'c', 'd', 'e');
  await cluster.until(() => cluster.agreed(), 'one master set');
  cluster.partition(['a'], ['b', 'c', 'd', 'e']);
  await cluster.until(
    () => cluster.agreed(2, ['b', 'c', 'd', 'e']) && !cluster.node('b').masterSet.ids.includes('a'),
    'the majority replacing a',
  );
  const majoritySet = cluster.node('b').masterSet;
  assert.equal(majoritySet.quorum, true);
  cluster.heal();
  await cluster.until(() => cluster.agreed(), 'a back under the majority set');
  assert.deepEqual(cluster.node('a').masterSet, majoritySet);
});
