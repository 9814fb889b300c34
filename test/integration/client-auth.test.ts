import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { NodeProcess } from '../support/fleet.js';
import { useFleet } from '../support/use-fleet.js';
import { waitFor } from '../support/wait-for.js';

const TOKEN = 'client-token-for-tests-0123456789';

/** A request with no token, or the given Authorization/cookie, to one node. */
const call = (node: NodeProcess, path: string, init: RequestInit = {}) =>
  fetch(node.url(path), { redirect: 'manual', ...init });

describe('with --client-token, client routes need the token', () => {
  const fleet = useFleet(2, { token: TOKEN });

  test('without a token every client route answers 401 JSON and stores nothing', async () => {
    const node = fleet.node(0);
    const attempts: [string, RequestInit][] = [
      ['/get/k', {}],
      ['/get-local/k', {}],
      ['/keys', {}],
      ['/list', {}],
      ['/status', {}],
      ['/metrics', {}],
      ['/openapi.json', {}],
      ['/post', { method: 'POST', body: new URLSearchParams({ key: 'k', value: 'v' }) }],
      ['/post-local', { method: 'POST', body: new URLSearchParams({ key: 'k', value: 'v' }) }],
      ['/k', { method: 'POST', body: 'raw' }],
      ['/keys/k', { method: 'DELETE' }],
      ['/delete', { method: 'POST', body: new URLSearchParams({ key: 'k' }) }],
    ];
    for (const [path, init] of attempts) {
      const answer = await call(node, path, init);
      assert.equal(answer.status, 401, `${init.method ?? 'GET'} ${path}`);
      assert.equal(answer.headers.get('www-authenticate'), 'Bearer realm="diststore"');
      const body = (await answer.json()) as { code: string; error: string };
      assert.equal(body.code, 'unauthorized');
      assert.match(body.error, /Authorization: Bearer/);
    }
    const keys = await node.get('/keys?format=json');
    assert.deepEqual(await keys.json(), [], 'nothing was stored');
  });

  test('a wrong token, or another scheme, is refused as invalid', async () => {
    const node = fleet.node(0);
    for (const authorization of [
      `Bearer ${TOKEN}x`,
      'Bearer short',
      `Basic ${Buffer.from(`u:${TOKEN}`).toString('base64')}`,
      TOKEN,
    ]) {
      const answer = await call(node, '/keys', { headers: { authorization } });
      assert.equal(answer.status, 401, authorization);
      assert.match(answer.headers.get('www-authenticate') ?? '', /error="invalid_token"/);
    }
    const cookie = await call(node, '/keys', { headers: { cookie: 'diststore_token=nope' } });
    assert.equal(cookie.status, 401);
  });

  test('/health and /ready stay open for load balancers', async () => {
    const node = fleet.node(1);
    assert.equal((await call(node, '/health')).status, 200);
    assert.equal((await call(node, '/ready')).status, 200);
  });

  test('with the token: writes replicate and reads find them on the other node', async () => {
    const [a, b] = [fleet.node(0), fleet.node(1)];
    const post = await a.post('/post', { key: 'shared', value: 'with a token' });
    assert.equal(post.status, 200, await post.clone().text());
    assert.equal(((await post.json()) as { masters: string[] }).masters.length, 2);
    const read = await b.get('/get/shared');
    assert.equal(read.status, 200);
    assert.equal(await read.text(), 'with a token');
    const lower = await call(b, '/get/shared', { headers: { authorization: `bearer ${TOKEN}` } });
    assert.equal(lower.status, 200, 'the scheme is case-insensitive');
  });

  test('refusals are counted by reason and logged', async () => {
    const node = fleet.node(1);
    const before = {
      none: await node.metric('diststore_http_refused_total', 'reason="no_token"'),
      bad: await node.metric('diststore_http_refused_total', 'reason="bad_token"'),
    };
    await call(node, '/keys');
    await call(node, '/keys', { headers: { authorization: 'Bearer wrong-token-0123456789' } });
    assert.equal(
      await node.metric('diststore_http_refused_total', 'reason="no_token"'),
      before.none + 1,
    );
    assert.equal(
      await node.metric('diststore_http_refused_total', 'reason="bad_token"'),
      before.bad + 1,
    );
    await waitFor(
      () => node.output.includes('"reason":"bad_token"') && node.output.includes('refused request'),
      'the refusal in the log',
    );
    assert.ok(!node.output.includes('wrong-token-0123456789'), 'a wrong token is never logged');
  });

  test('the page signs in once: a form, then an HttpOnly SameSite=Strict cookie', async () => {
    const node = fleet.node(0);
    const page = await call(node, '/');
    assert.equal(page.status, 401);
    const html = await page.text();
    assert.match(html, /<form[^>]*action="\/ui\/login"/);
    assert.doesNotMatch(html, /member-row/, 'nothing of the cluster before signing in');

    const wrong = await call(node, '/ui/login', {
      method: 'POST',
      body: new URLSearchParams({ token: 'not-the-token-0123456789' }),
    });
    assert.equal(wrong.status, 401);
    assert.equal(wrong.headers.get('set-cookie'), null);

    const login = await call(node, '/ui/login', {
      method: 'POST',
      body: new URLSearchParams({ token: TOKEN }),
    });
    assert.equal(login.status, 303);
    assert.equal(login.headers.get('location'), '/');
    const cookie = login.headers.get('set-cookie') ?? '';
    assert.match(cookie, /^diststore_token=/);
    assert.match(cookie, /HttpOnly/);
    assert.match(cookie, /SameSite=Strict/);
    const pair = cookie.split(';')[0] ?? '';

    const signedIn = await call(node, '/', { headers: { cookie: pair } });
    assert.equal(signedIn.status, 200);
    assert.match(await signedIn.text(), /Sign out/);
    const keys = await call(node, '/keys?format=json', { headers: { cookie: pair } });
    assert.equal(keys.status, 200, 'the cookie stands in for the header');

    const logout = await call(node, '/ui/logout', { method: 'POST' });
    assert.equal(logout.status, 303);
    assert.match(logout.headers.get('set-cookie') ?? '', /^diststore_token=;.*Max-Age=0/);
  });
});
