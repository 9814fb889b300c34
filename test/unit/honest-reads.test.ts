import assert from 'node:assert/strict';
import { test } from 'node:test';
import { LookupIncompleteError } from '../../cluster/errors.js';
import type { DistNode } from '../../cluster/node.js';
import { InProcessCluster } from '../support/in-process-cluster.js';

/**
 * A read answers "not found" only when the masters said the key is absent; when they could not
 * be heard it is incomplete (HTTP 503 lookup_incomplete), never a miss. In one process, in
 * simulated time.
 */

test('a miss is settled by the masters', async (t) => {
  const cluster = new InProcessCluster();
  t.after(() => cluster.close());
  await cluster.start('a', 'b', 'c');
  await cluster.until(() => cluster.agreed(), 'one master set');
  assert.equal(await cluster.run(cluster.node('c').read('never-written')), undefined);
});

test('a node cut off from the masters answers incomplete, not a miss, alone or not', async (t) => {
  const cluster = new InProcessCluster();
  t.after(() => cluster.close());
  await cluster.start('a', 'b', 'c');
  await cluster.until(() => cluster.agreed(), 'one master set');
  await cluster.run(cluster.node('a').write('written-before', Buffer.from('v'), 'text/plain'));

  cluster.partition(['a', 'b'], ['c']);
  // At once, while c still counts a and b as its masters: nobody answers.
  await assert.rejects(
    cluster.run(cluster.node('c').read('written-before')),
    LookupIncompleteError,
  );
  await assert.rejects(cluster.run(cluster.node('c').read('never-written')), LookupIncompleteError);
  // Later, when c has elected itself: a minority's master cannot settle a miss either.
  await cluster.until(() => cluster.node('c').masterSet.ids.join() === 'c', 'c electing itself');
  await assert.rejects(
    cluster.run(cluster.node('c').read('written-before')),
    LookupIncompleteError,
  );

  cluster.heal();
  await cluster.until(() => cluster.agreed(), 'c back under the majority set');
  const entry = await cluster.run(cluster.node('c').read('written-before'));
  assert.equal(entry?.value.toString(), 'v');
});

test('a write acknowledged on a minority side is never a miss after the heal', async (t) => {
  const cluster = new InProcessCluster();
  t.after(() => cluster.close());
  await cluster.start('a', 'b', 'c', 'd');
  await cluster.until(() => cluster.agreed(), 'one master set');
  const [d] = ['d'].map((id) => cluster.node(id)) as [DistNode];
  const masters = d.masterSet.ids;
  // The one non-master cut off alone elects itself and takes a write there.
  const alone = ['a', 'b', 'c', 'd'].find((id) => !masters.includes(id)) as string;
  const reader = ['a', 'b', 'c', 'd'].find((id) => !masters.includes(id) && id !== alone) as string;
  const others = ['a', 'b', 'c', 'd'].filter((id) => id !== alone);
  cluster.partition(others, [alone]);
  await cluster.until(
    () => cluster.node(alone).masterSet.ids.join() === alone,
    `${alone} electing itself`,
  );
  await cluster.run(cluster.node(alone).write('minority-write', Buffer.from('v'), 'text/plain'));

  // Its re-send to each master fails twice: it arrives two ticks later, not at once. And its
  // answers to who-has queries come too late to count (lost here), as from a slower host.
  for (const id of masters) cluster.network.failNext(cluster.node(id).http, 'send entries', 2);
  cluster.lose = (message, from) => message.kind === 'has' && from === alone;
  cluster.heal();
  // Until a packet has crossed the healed link, nobody on the majority's side can know of the
  // write. Once the masters have heard the returning node, read every 5 ms until the value
  // shows: 503 meanwhile, never 404.
  const since = cluster.clock.now();
  await cluster.until(
    () =>
      masters.every((id) =>
        cluster
          .node(id)
          .status()
          .members.some((m) => m.id === alone && m.alive),
      ),
    `the masters hearing ${alone}`,
  );
  for (;;) {
    const read = await cluster
      .run(cluster.node(reader).read('minority-write'), `read on ${reader}`)
      .catch((error: unknown) => error);
    if (!(read instanceof LookupIncompleteError)) {
      assert.ok(read !== undefined, `a 404 ${cluster.clock.now() - since} ms after the heal`);
      assert.equal((read as { value: Buffer }).value.toString(), 'v');
      break;
    }
    assert.ok(cluster.clock.now() - since < 1000, 'the value shows within a second');
    await cluster.advance(5);
  }
  assert.deepEqual(cluster.node(reader).masterSet.ids, masters, 'the masters stayed put');
});
