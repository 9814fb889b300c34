import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { pino } from 'pino';
import {
  ANSWER_AUTH_HEADER,
  AUTH_HEADER,
  bodyDigest,
  RequestAuth,
} from '../../cluster/request-auth.js';
import { createApp } from '../../server/app.js';
import { soloNode } from '../support/in-process-cluster.js';

/** What every request passes before its route, and its count after (server/request-gate.ts). */

const limits = { maxKeyBytes: 1024, maxValueBytes: 1024 * 1024 };
const log = pino({ level: 'silent' });

/** Checks a refusal: its status and the `code` of its JSON answer. */
async function assertRefused(answer: Response, status: number, code: string): Promise<void> {
  assert.equal(answer.status, status);
  assert.equal(((await answer.json()) as { code: string }).code, code);
}

describe('the request gate', () => {
  const node = soloNode('gate', { cluster: 'gate', announceMs: 1000, joinWindowMs: 10 }, log);
  const app = createApp(node, limits, log);
  const counted = async (route: string, status: number) => {
    const text = await node.metrics.registry.metrics();
    const line = text
      .split('\n')
      .find((l) =>
        l.startsWith(`diststore_http_requests_total{route="${route}",status="${status}"}`),
      );
    return line === undefined ? 0 : Number(line.split(' ').pop());
  };
  /** The value of a counter of refusals, by its name and reason. */
  const refusals = async (name: string, reason: string) => {
    const line = new RegExp(`^${name}\\{reason="${reason}"\\} (\\d+)$`, 'm');
    return Number(line.exec(await node.metrics.registry.metrics())?.[1] ?? 0);
  };
  before(async () => {
    await node.start();
    await node.write('hot', Buffer.from('a value'), 'text/plain', { local: true });
  });
  after(() => node.close());

  test('a get-local hit is answered within the call, not as a promise', async () => {
    // @hono/node-server writes an answer given back at once without awaiting anything.
    const answer = app.fetch(new Request('http://127.0.0.1/get-local/hot'));
    assert.ok(answer instanceof Response, 'a Response, not a Promise of one');
    assert.equal(answer.status, 200);
    assert.equal(await answer.text(), 'a value');
    assert.equal(answer.headers.get('x-content-type-options'), 'nosniff');
  });

  test('without a cluster secret, a node-to-node fetch of a value is answered within the call', async () => {
    for (const [key, status] of [
      ['hot', 200],
      ['absent', 404],
    ] as const) {
      const answer = app.fetch(new Request(`http://127.0.0.1/internal/value?key=${key}`));
      assert.ok(answer instanceof Response, `${key}: a Response, not a Promise of one`);
      assert.equal(answer.status, status);
    }
  });

  test('with a secret, a signed fetch of a value is answered within the call, signed', async () => {
    const secret = 'gate-secret-0123456789abcdef0123';
    const secured = createApp(node, { ...limits, secret }, log);
    const peer = new RequestAuth(secret);
    const path = '/internal/value?key=hot';
    const { header, nonce } = peer.sign('GET', path, node.http, bodyDigest(undefined));
    const answer = secured.fetch(
      new Request(`http://127.0.0.1${path}`, { headers: { [AUTH_HEADER]: header } }),
    );
    assert.ok(answer instanceof Response, 'a Response, not a Promise of one');
    assert.equal(answer.status, 200);
    const body = new Uint8Array(await answer.arrayBuffer());
    const signature = answer.headers.get(ANSWER_AUTH_HEADER) ?? undefined;
    const answerHeader = (name: string) => answer.headers.get(name) ?? undefined;
    assert.ok(peer.verifyAnswer(nonce, signature, 200, answerHeader, bodyDigest(body)));

    await assertRefused(await secured.request(path), 401, 'unauthorized');
    assert.equal(await refusals('diststore_internal_requests_refused_total', 'unsigned'), 1);
  });

  test('a node-to-node route is refused to a browser, counted as such', async () => {
    const answer = await app.request('/internal/value?key=hot', {
      headers: { 'sec-fetch-site': 'same-origin' },
    });
    await assertRefused(answer, 403, 'browser');
    assert.equal(await refusals('diststore_internal_requests_refused_total', 'browser'), 1);
  });

  test('each answer is counted under the route it went to; no route is "unmatched"', async () => {
    const hits = await counted('/get-local/*', 200);
    const misses = await counted('/get-local/*', 404);
    const unmatched = await counted('unmatched', 405);
    assert.equal((await app.request('/get-local/hot')).status, 200);
    assert.equal((await app.request('/get-local?key=hot')).status, 200);
    assert.equal((await app.request('/get-local/absent')).status, 404);
    // The original's `POST /:key` takes any other path, so a GET of one is 405.
    assert.equal((await app.request('/no/such/route')).status, 405);
    assert.equal(await counted('/get-local/*', 200), hits + 1);
    assert.equal(await counted('/get-local', 200), 1);
    assert.equal(await counted('/get-local/*', 404), misses + 1);
    assert.equal(await counted('unmatched', 405), unmatched + 1);
  });

  test('a refused request is counted under its route, with its reason', async () => {
    const before = await counted('/get-local/*', 403);
    const answer = await app.request('/get-local/hot', { headers: { host: 'rebind.example' } });
    await assertRefused(answer, 403, 'bad_host');
    assert.equal(await counted('/get-local/*', 403), before + 1);
    assert.ok((await refusals('diststore_http_refused_total', 'bad_host')) >= 1);
  });

  test('a page at an allowed origin can read its refusal (CORS headers on it)', async () => {
    const guarded = createApp(
      node,
      { ...limits, clientToken: 'gate-token-0123456789', corsOrigin: ['http://app.example'] },
      log,
    );
    const refused = await guarded.request('/get-local/hot', {
      headers: { origin: 'http://app.example' },
    });
    assert.equal(refused.headers.get('access-control-allow-origin'), 'http://app.example');
    await assertRefused(refused, 401, 'unauthorized');
    const other = await guarded.request('/get-local/hot', {
      headers: { origin: 'http://other.example' },
    });
    assert.equal(other.status, 401);
    assert.equal(other.headers.get('access-control-allow-origin'), null);
    const allowed = await guarded.request('/get-local/hot', {
      headers: { origin: 'http://app.example', authorization: 'Bearer gate-token-0123456789' },
    });
    assert.equal(allowed.status, 200);
    assert.equal(allowed.headers.get('access-control-allow-origin'), 'http://app.example');
  });
});
