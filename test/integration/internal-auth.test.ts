import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import { makeEntry } from '../../cluster/entry.js';
import { encodeEntries } from '../../cluster/entry-codec.js';
import { AUTH_HEADER, bodyDigest, RequestAuth } from '../../cluster/request-auth.js';
import type { NodeProcess } from '../support/fleet.js';
import { useFleet } from '../support/use-fleet.js';
import { waitFor } from '../support/wait-for.js';

/**
 * Node-to-node HTTP under attack: with a secret, a captured request cannot be replayed, given
 * another body or sent to another node; without one, /internal/ takes only what client routes
 * take. Real nodes on loopback; the attacker is this test process with raw HTTP.
 */

const SECRET = 'internal-auth-test-secret-0123456789';
const frames = (key: string, value: Buffer, wall = Date.now()) =>
  Buffer.concat([
    ...encodeEntries([
      [key, makeEntry(value, 'text/plain', { wall, counter: 0, node: 'attacker:1' })],
    ]),
  ]);

async function post(node: NodeProcess, path: string, body: Buffer, headers = {}) {
  const response = await fetch(node.url(path), {
    method: 'POST',
    body: new Uint8Array(body),
    headers,
  });
  return { status: response.status, body: await response.text() };
}

describe('with --secret, node-to-node requests are signed over everything they carry', () => {
  const fleet = useFleet(4, { args: ['--secret', SECRET] });
  let target: NodeProcess;
  let other: NodeProcess;
  const refused = (node: NodeProcess, reason: string) =>
    node.metric('diststore_internal_requests_refused_total', `reason="${reason}"`);
  before(async () => {
    [target, other] = fleet.nodes as [NodeProcess, NodeProcess];
  });

  test('a captured replicate request taken once is refused again, with any body, at any node', async () => {
    const auth = new RequestAuth(SECRET);
    const real = frames('captured', Buffer.from('real'));
    // What a node sends, as an attacker on the wire would capture it.
    const { header } = auth.sign('POST', '/internal/replicate', target.id, bodyDigest(real));
    const once = await post(target, '/internal/replicate', real, { [AUTH_HEADER]: header });
    assert.equal(once.status, 200, once.body);

    const planted = frames('captured', Buffer.from('planted'), Date.now() + 1000);
    const replays = [
      await post(target, '/internal/replicate', real, { [AUTH_HEADER]: header }),
      await post(target, '/internal/replicate', planted, { [AUTH_HEADER]: header }),
      await post(other, '/internal/replicate', real, { [AUTH_HEADER]: header }),
    ];
    assert.deepEqual(
      replays.map((r) => r.status),
      [401, 401, 401],
    );
    assert.match(replays[0]?.body ?? '', /replayed/);
    assert.match(replays[2]?.body ?? '', /forged/, 'signed for another node');

    // A fresh header whose body digest is of another body: the body is held to it.
    const fresh = auth.sign('POST', '/internal/replicate', target.id, bodyDigest(real));
    const swapped = await post(target, '/internal/replicate', planted, {
      [AUTH_HEADER]: fresh.header,
    });
    assert.equal(swapped.status, 401);
    assert.equal(await (await target.get('/get-local/captured')).text(), 'real');
    assert.ok((await refused(target, 'replayed')) >= 1);
    assert.ok((await refused(target, 'forged')) >= 1, 'the swapped body');
    assert.ok((await refused(other, 'forged')) >= 1, 'the other node');
  });

  test('a request stamped outside the 10 s window is refused as clock skew', async () => {
    const auth = new RequestAuth(SECRET, () => Date.now() - 11_000);
    const { header } = auth.sign('GET', '/internal/health', target.id, bodyDigest(undefined));
    const response = await fetch(target.url('/internal/health'), {
      headers: { [AUTH_HEADER]: header },
    });
    assert.equal(response.status, 401);
    assert.match(await response.text(), /clock-skew/);
  });

  test('a key a URL parse would spell otherwise (an apostrophe) is fetched from another node', async () => {
    // encodeURIComponent leaves ' ! ( ) * as they are; a URL parse writes ' in a query as %27,
    // and the master checked the signature over that, not over what the reader signed.
    const masters = await fleet.settled();
    const [master] = fleet.masterNodes(masters);
    const member = fleet.nodes.find((n) => !masters.ids.includes(n.id)) as NodeProcess;
    const forgedBefore = await refused(master as NodeProcess, 'forged');
    for (const key of ["it's", "(*!')"]) {
      assert.equal((await (master as NodeProcess).post('/post', { key, value: key })).status, 200);
      const read = await member.get(`/get/${encodeURIComponent(key)}`);
      assert.equal(read.status, 200, key);
      assert.equal(await read.text(), key);
    }
    assert.equal(await refused(master as NodeProcess, 'forged'), forgedBefore);
  });

  test('signed answers, syncs and re-sends carry the data through failovers', async () => {
    const masters = await fleet.settled();
    const members = fleet.nodes.filter((n) => !masters.ids.includes(n.id));
    for (let i = 0; i < 20; i++) {
      const writer = members[i % members.length] as NodeProcess;
      assert.equal((await writer.post('/post', { key: `s${i}`, value: `v${i}` })).status, 200);
    }
    // Both masters die at once: the members become masters and re-send their own entries to
    // each other (sealed streams); then one dies and a new node syncs from the other.
    await Promise.all(fleet.masterNodes(masters).map((m) => m.stop('SIGKILL')));
    const next = await fleet.settled(15_000);
    for (const master of fleet.masterNodes(next)) {
      await waitFor(
        async () => (await master.status()).store.primary >= 20,
        `${master.id} to hold every key`,
      );
      assert.equal(await (await master.get('/get-local/s7')).text(), 'v7');
    }
    await (fleet.masterNodes(next)[0] as NodeProcess).stop('SIGKILL');
    const joiner = await fleet.add();
    const third = await fleet.settled(15_000);
    assert.ok(third.ids.includes(joiner.id), 'the new node is promoted and syncs');
    for (const master of fleet.masterNodes(third)) {
      await waitFor(
        async () => (await master.status()).store.primary >= 20,
        `${master.id} to hold every key after a sync`,
      );
    }
  });
});

describe('without a secret, /internal/ takes only what client routes take', () => {
  const fleet = useFleet(1);
  let node: NodeProcess;
  before(async () => {
    node = fleet.node(0);
  });

  test('oversized keys and values, bad frames and far-future versions are refused, nothing kept', async () => {
    const cases: [string, Buffer, number, RegExp][] = [
      ['a 3000-byte key', frames('k'.repeat(3000), Buffer.from('v')), 400, /key of 3000 bytes/],
      [
        'a value over --max-value-bytes',
        frames('big', Buffer.alloc(1024 * 1024 + 1)),
        400,
        /value of 1048577 bytes/,
      ],
      [
        'a version a year ahead',
        frames('future', Buffer.from('v'), Date.now() + 365 * 86_400_000),
        422,
        /version_ahead/,
      ],
      [
        'a truncated frame',
        frames('cut', Buffer.from('value')).subarray(0, 12),
        400,
        /bad_entries/,
      ],
    ];
    for (const [what, body, status, pattern] of cases) {
      const answer = await post(node, '/internal/replicate', body);
      assert.equal(answer.status, status, `${what}: ${answer.body}`);
      assert.match(answer.body, pattern, what);
    }
    const huge = await post(node, '/internal/conditional?key=c', Buffer.alloc(2 * 1024 * 1024), {
      'x-diststore-if-absent': '1',
    });
    assert.equal(huge.status, 413);
    assert.deepEqual(await (await node.get('/keys?format=json')).json(), []);
    assert.equal(await node.metric('diststore_versions_refused_total', 'path="replicate"'), 1);
    // What a DNS-rebinding page would send: its browser marks every request.
    const fromBrowser = await post(
      node,
      '/internal/replicate',
      frames('rebound', Buffer.from('v')),
      {
        'sec-fetch-site': 'same-origin',
        origin: 'http://rebind.test:8181',
      },
    );
    assert.equal(fromBrowser.status, 403, fromBrowser.body);
    const write = await node.post('/post', { key: 'after', value: 'fine' });
    assert.equal(write.status, 200, 'the clock was not moved: writes still work');
    const version = (await write.json()) as { version: string };
    assert.ok(Number(version.version.split('.')[0]) < Date.now() + 60_000);
  });
});
