import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { useFleet } from '../support/use-fleet.js';
import { waitFor } from '../support/wait-for.js';

describe('reads and writes across a three-node fleet', () => {
  const fleet = useFleet(3);

  test('a key posted on A is read on C, then held on C as a cached copy', async () => {
    const [a, , c] = fleet.nodes as [(typeof fleet.nodes)[0], unknown, (typeof fleet.nodes)[0]];
    const posted = await a.post('/post', { key: 'greeting', value: 'hello' });
    assert.equal(posted.status, 200);
    const body = (await posted.json()) as { masters: string[]; version: string };
    assert.equal(body.masters.length, 2, 'both masters acknowledged');

    const read = await c.get('/get/greeting');
    assert.equal(read.status, 200);
    assert.equal(await read.text(), 'hello');
    assert.equal(read.headers.get('x-diststore-version'), body.version);

    const local = await c.get('/get-local/greeting');
    assert.equal(await local.text(), 'hello');
  });

  test('keys with slashes, unicode, spaces and dot segments round-trip', async () => {
    const [a, b] = fleet.nodes as [(typeof fleet.nodes)[0], (typeof fleet.nodes)[0]];
    const keys = ['a/b/c', 'ünï cödé ✓', '%41 literal', 'x?y&z=1#frag', '.', '..', 'with+plus'];
    for (const key of keys) {
      const response = await a.post('/post', { key, value: `v:${key}` });
      assert.equal(response.status, 200, key);
    }
    for (const key of keys) {
      const viaQuery = await b.get(`/get?key=${encodeURIComponent(key)}`);
      assert.equal(await viaQuery.text(), `v:${key}`, `?key= form of ${key}`);
      if (key === '.' || key === '..') continue; // URL parsing removes dot segments from paths
      const viaPath = await b.get(`/get/${encodeURIComponent(key)}`);
      assert.equal(await viaPath.text(), `v:${key}`, `path form of ${key}`);
    }
    const listed = (await (await a.get('/keys?format=json')).json()) as string[];
    for (const key of keys) assert.ok(listed.includes(key), `listed ${key}`);
  });

  test('a multipart file part keeps its bytes and content type', async () => {
    const [a, , c] = fleet.nodes as [(typeof fleet.nodes)[0], unknown, (typeof fleet.nodes)[0]];
    const bytes = new Uint8Array([0, 1, 2, 250, 255]);
    const form = new FormData();
    form.set('key', 'blob');
    form.set('value', new Blob([bytes], { type: 'application/x-test' }), 'blob.bin');
    const posted = await fetch(a.url('/post'), { method: 'POST', body: form });
    assert.equal(posted.status, 200);
    const read = await c.get('/get/blob');
    assert.equal(read.headers.get('content-type'), 'application/x-test');
    assert.deepEqual(new Uint8Array(await read.arrayBuffer()), bytes);
  });

  test('post-local stays on its node; the later update wins everywhere', async () => {
    const [a, b, c] = fleet.nodes as [
      (typeof fleet.nodes)[0],
      (typeof fleet.nodes)[0],
      (typeof fleet.nodes)[0],
    ];
    const local = await b.post('/post-local', { key: 'mine', value: 'only here' });
    assert.equal(local.status, 200);
    assert.equal(await (await b.get('/get-local/mine')).text(), 'only here');
    for (const other of [a, c]) assert.equal((await other.get('/get-local/mine')).status, 404);

    await a.post('/post', { key: 'counter', value: '1' });
    assert.equal(await (await c.get('/get/counter')).text(), '1');
    await b.post('/post', { key: 'counter', value: '2' });
    // A cached copy may be stale until its TTL; a node without one reads the newest.
    assert.equal(await (await b.get('/get/counter')).text(), '2');
    const masters = fleet.masterNodes((await a.status()).masters);
    for (const master of masters)
      assert.equal(await (await master.get('/get-local/counter')).text(), '2');
  });

  test('the original diststore routes work', async () => {
    const [a, b] = fleet.nodes as [(typeof fleet.nodes)[0], (typeof fleet.nodes)[0]];
    const raw = await fetch(a.url('/compat%2Fkey'), { method: 'POST', body: 'raw body' });
    assert.equal(raw.status, 200);
    assert.equal(await (await b.get('/get/compat%2Fkey')).text(), 'raw body');
    const local = await fetch(b.url('/local/compat-local'), { method: 'POST', body: 'here' });
    assert.equal(local.status, 200);
    assert.equal(await (await b.get('/getlocal/compat-local')).text(), 'here');
    const list = await (await b.get('/list')).text();
    assert.ok(list.split('\n').includes('compat-local'));
  });

  test('a key absent everywhere is a 404 decided by the masters, not by the timeout', async () => {
    const [a, b, c] = fleet.nodes as [
      (typeof fleet.nodes)[0],
      (typeof fleet.nodes)[0],
      (typeof fleet.nodes)[0],
    ];
    const masters = (await a.status()).masters.ids;
    const reader = [a, b, c].find((n) => !masters.includes(n.id)) ?? a;
    const absentBefore = await reader.metric('diststore_lookups_total', 'outcome="absent"');
    const timeoutBefore = await reader.metric('diststore_lookups_total', 'outcome="timeout"');
    for (let i = 0; i < 5; i++) {
      const response = await reader.get(`/get/never-written-${i}`);
      assert.equal(response.status, 404);
      assert.equal(((await response.json()) as { code: string }).code, 'not_found');
    }
    assert.equal(
      await reader.metric('diststore_lookups_total', 'outcome="absent"'),
      absentBefore + 5,
    );
    assert.equal(
      await reader.metric('diststore_lookups_total', 'outcome="timeout"'),
      timeoutBefore,
    );
  });

  test('/status shows the node, its role, the masters and every member', async () => {
    const status = await waitFor(async () => {
      const s = await fleet.node(0).status();
      return s.members.filter((m) => m.alive).length === 3 ? s : undefined;
    }, 'three live members');
    assert.equal(status.masters.ids.length, 2);
    assert.ok(status.masters.epoch >= 1);
    assert.ok(['master', 'member'].includes(status.node.role));
    for (const member of status.members) assert.equal(typeof member.keys, 'number');
  });
});
