import assert from 'node:assert/strict';
import { test } from 'node:test';
import { LookupIncompleteError } from '../../cluster/errors.js';
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
