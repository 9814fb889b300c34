import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import type { NodeProcess } from '../support/fleet.js';
import { useFleet } from '../support/use-fleet.js';
import { waitFor } from '../support/wait-for.js';

const read = async (node: NodeProcess, key: string) => {
  const response = await node.get(`/get/${encodeURIComponent(key)}`);
  return response.status === 200 ? response.text() : response.status;
};

describe('deletes, invalidation and expiry', () => {
  const fleet = useFleet(3, { args: ['--cache-ttl', '2'] });
  let reader: NodeProcess;
  let deaf: NodeProcess;
  before(async () => {
    // One more node that ignores invalidations: only the numbering tells it that it missed one.
    deaf = await fleet.add([], { DISTSTORE_TEST_DROP_INVALIDATIONS: '1' });
    await fleet.settled();
    const masters = (await fleet.node(0).status()).masters.ids;
    reader = fleet.nodes.find((n) => n !== deaf && !masters.includes(n.id)) as NodeProcess;
  });

  test('a delete is a 404 on every node, cached copies included, within a second', async () => {
    const writer = fleet.node(0);
    await writer.post('/post', { key: 'doomed', value: 'here' });
    for (const node of fleet.nodes) assert.equal(await read(node, 'doomed'), 'here');
    const deleted = await fetch(reader.url('/keys/doomed'), { method: 'DELETE' });
    assert.equal(deleted.status, 200);
    assert.equal(((await deleted.json()) as { masters: string[] }).masters.length, 2);
    for (const node of fleet.nodes.filter((n) => n !== deaf)) {
      await waitFor(async () => (await read(node, 'doomed')) === 404, `404 on ${node.id}`, 1000);
    }
    const listed = (await (await writer.get('/keys?format=json')).json()) as string[];
    assert.ok(!listed.includes('doomed'));
  });

  test('POST /delete with a form field deletes too', async () => {
    await fleet.node(1).post('/post', { key: 'form-doomed', value: 'x' });
    const response = await fleet.node(2).post('/delete', { key: 'form-doomed' });
    assert.equal(response.status, 200);
    assert.equal(await read(fleet.node(0), 'form-doomed'), 404);
  });

  test('an update replaces a cached copy at once; a node that lost the invalidation drops it at the next announcement', async () => {
    const writer = fleet.node(0);
    await writer.post('/post', { key: 'fresh', value: 'v1' });
    assert.equal(await read(reader, 'fresh'), 'v1');
    assert.equal(await read(deaf, 'fresh'), 'v1');
    await writer.post('/post', { key: 'fresh', value: 'v2' });
    // Invalidation: the reader's copy is dropped long before its 2 s TTL.
    await waitFor(async () => (await read(reader, 'fresh')) === 'v2', 'the reader to see v2', 1000);
    // The deaf node sees a gap in the masters' numbering when they next announce (400 ms) and
    // checks all its copies with them (POST /internal/newer): its copy goes, unread, before
    // the TTL would have ended it.
    await waitFor(
      async () => (await deaf.get('/get-local/fresh')).status === 404,
      'the copy check to drop the stale copy',
      1500,
    );
    assert.equal(await read(deaf, 'fresh'), 'v2');
    const metrics = await (await deaf.get('/metrics')).text();
    assert.match(metrics, /diststore_copy_checks_total\{outcome="current"\} [1-9]/);
  });

  test('a per-key TTL ends the entry everywhere, masters included', async () => {
    const writer = fleet.node(1);
    const posted = await writer.post('/post', { key: 'brief', value: 'soon gone', ttl: '1' });
    assert.equal(posted.status, 200);
    await writer.post('/post', { key: 'lasting', value: 'forever' });
    assert.equal(await read(reader, 'brief'), 'soon gone');
    // A fetched copy keeps the entry's expiry (it must not outlive it on the reader).
    const copy = await reader.get('/get-local/brief');
    assert.match(copy.headers.get('x-diststore-expires') ?? '', /^\d+$/);
    for (const node of fleet.nodes) {
      await waitFor(
        async () => {
          const got = await read(node, 'brief');
          // Thrown, so that a timeout says what the node kept answering.
          if (got !== 404)
            throw new Error(`still ${got} (${JSON.stringify((await node.status()).node)})`);
          return true;
        },
        `brief to expire on ${node.id}`,
        5000,
      );
    }
    for (const node of fleet.nodes) assert.equal(await read(node, 'lasting'), 'forever');
  });

  test('a bad ttl is a 400 and stores nothing', async () => {
    for (const ttl of ['0', '-1', 'soon', '1.5']) {
      const response = await fleet
        .node(0)
        .post('/post', { key: `bad-ttl-${ttl}`, value: 'x', ttl });
      assert.equal(response.status, 400, ttl);
      assert.equal(((await response.json()) as { code: string }).code, 'bad_ttl');
      assert.equal(await read(fleet.node(0), `bad-ttl-${ttl}`), 404);
    }
  });

  test('a deleted key stays deleted when a master is replaced', async () => {
    await fleet.node(0).post('/post', { key: 'gone-for-good', value: 'x' });
    await fetch(fleet.node(0).url('/keys/gone-for-good'), { method: 'DELETE' });
    const masters = await fleet.settled();
    await (fleet.masterNodes(masters)[0] as NodeProcess).stop('SIGKILL');
    const next = await fleet.settled();
    assert.ok(next.epoch > masters.epoch);
    for (const node of fleet.alive) assert.equal(await read(node, 'gone-for-good'), 404);
  });
});
