import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { pino } from 'pino';
import { createApp } from '../../server/app.js';
import { soloNode } from '../support/in-process-cluster.js';

/** The HTML page's routes through `app.request`, on one in-process node (no sockets). */

const limits = { maxKeyBytes: 1024, maxValueBytes: 1024 * 1024 };
const log = pino({ level: 'silent' });

// The default announce interval: with 50 ms, a test process held up 150 ms on a loaded
// machine took its master for stalled, and a read answered 503 (seen in CI once).
const makeNode = (id: string) =>
  soloNode(id, { cluster: 'page', announceMs: 1000, joinWindowMs: 10 }, log);

const postForm = (fields: Record<string, string>) => ({
  method: 'POST',
  headers: { 'content-type': 'application/x-www-form-urlencoded' },
  body: new URLSearchParams(fields).toString(),
});

describe('the HTML page', () => {
  const node = makeNode('solo');
  const app = createApp(node, limits, log);
  before(() => node.start());
  after(() => node.close());

  test('GET / is a page with both forms and the cluster', async () => {
    const response = await app.request('/');
    assert.equal(response.status, 200);
    assert.match(response.headers.get('content-type') ?? '', /^text\/html/);
    const page = await response.text();
    assert.match(page, /^<!doctype html>/);
    assert.match(page, /<title>diststore · solo<\/title>/);
    assert.match(page, /<form[^>]*action="\/ui\/post"/);
    assert.match(page, /<input id="post-ttl" name="ttl"/);
    assert.match(page, /<form[^>]*method="get" action="\/"/);
    assert.match(page, /<tr data-testid="member-row" class="self">/);
  });

  test('GET /ui/cluster is the cluster section alone, never cached', async () => {
    const response = await app.request('/ui/cluster');
    assert.equal(response.status, 200);
    assert.match(response.headers.get('content-type') ?? '', /^text\/html/);
    assert.equal(response.headers.get('cache-control'), 'no-store');
    assert.match(response.headers.get('content-security-policy') ?? '', /frame-ancestors 'none'/);
    const fragment = await response.text();
    assert.match(fragment, /^<section class="card cluster" id="cluster"/);
    assert.match(fragment, /<\/section>$/);
    assert.match(fragment, /<code id="node-id" data-testid="node-id">solo<\/code>/);
    assert.match(fragment, /<tr data-testid="member-row" class="self">/);
    assert.match(fragment, /<span class="badge badge-ready">ready<\/span>/);
    assert.match(fragment, /<caption id="members-caption">1 member<\/caption>/);
    assert.doesNotMatch(fragment, /<html|<form|<script/, 'the section, not the page');
  });

  test('GET /ui/cluster needs the client token and a known Host, like the page', async () => {
    const token = 'page-client-token-0123456789';
    const guarded = createApp(node, { ...limits, clientToken: token }, log);
    const refused = await guarded.request('/ui/cluster');
    assert.equal(refused.status, 401);
    assert.equal(((await refused.json()) as { code: string }).code, 'unauthorized');
    const wrong = await guarded.request('/ui/cluster', {
      headers: { authorization: 'Bearer not-the-token-0123456789' },
    });
    assert.equal(wrong.status, 401);
    const withCookie = await guarded.request('/ui/cluster', {
      headers: { cookie: `diststore_token=${token}` },
    });
    assert.equal(withCookie.status, 200);
    assert.match(await withCookie.text(), /data-testid="member-row"/);

    const rebound = await app.request('/ui/cluster', { headers: { host: 'rebind.example' } });
    assert.equal(rebound.status, 403);
    assert.equal(((await rebound.json()) as { code: string }).code, 'bad_host');
  });

  test('a post is stored and answered with its version and masters', async () => {
    const response = await app.request('/ui/post', postForm({ key: 'k', value: 'v', ttl: '60' }));
    assert.equal(response.status, 200);
    const page = await response.text();
    assert.match(page, /data-outcome="stored"/);
    assert.match(page, /<dd data-testid="result-masters">solo<\/dd>/);
    assert.match(page, /in 60 s, everywhere/);
    assert.equal(await (await app.request('/get/k')).text(), 'v');
  });

  test('a bad form answers 400 with the error on the page and the input kept', async () => {
    const response = await app.request('/ui/post', postForm({ key: 'k2', value: 'x', ttl: '-1' }));
    assert.equal(response.status, 400);
    const page = await response.text();
    assert.match(page, /<h2 data-testid="result-title">Not stored<\/h2>/);
    assert.match(page, /the field &quot;ttl&quot; must be a whole number/);
    assert.match(page, /<code data-testid="result-code">bad_ttl<\/code> \(HTTP 400\)/);
    assert.match(page, /<input id="post-key" name="key" required="" autocomplete="off" value="k2"/);
    assert.equal((await app.request('/get-local/k2')).status, 404, 'nothing stored');

    const missing = await app.request('/ui/post', postForm({ value: 'x' }));
    assert.equal(missing.status, 400);
    assert.match(await missing.text(), /missing_field/);
  });

  test('values and keys are shown HTML-escaped', async () => {
    const key = '<b>bold</b>';
    const value = '<script>alert("x")</script> & more';
    assert.equal((await app.request('/ui/post', postForm({ key, value }))).status, 200);
    const response = await app.request(`/?key=${encodeURIComponent(key)}`);
    assert.equal(response.status, 200);
    const page = await response.text();
    assert.ok(!page.includes('<script>alert'), 'no live script from the value');
    assert.ok(!page.includes('<b>bold'), 'no markup from the key');
    assert.match(
      page,
      /data-testid="result-value">&lt;script&gt;alert\(&quot;x&quot;\)&lt;\/script&gt; &amp; more</,
    );
    assert.match(page, /Value of <q>&lt;b&gt;bold&lt;\/b&gt;<\/q>/);
  });

  test('a missing key answers 404 "not found"; a bad key 400', async () => {
    const missing = await app.request('/?key=nobody-has-this');
    assert.equal(missing.status, 404);
    const page = await missing.text();
    assert.match(page, /<h2 data-testid="result-title">Not found<\/h2>/);
    assert.match(page, /value="nobody-has-this"/);

    const empty = await app.request('/?key=');
    assert.equal(empty.status, 400);
    assert.match(await empty.text(), /bad_key/);
  });

  test('a node still joining answers 503 not_ready on the page', async () => {
    const joining = makeNode('late');
    const response = await createApp(joining, limits, log).request(
      '/ui/post',
      postForm({ key: 'k', value: 'v' }),
    );
    assert.equal(response.status, 503);
    const page = await response.text();
    assert.match(page, /<code data-testid="result-code">not_ready<\/code>/);
    assert.match(page, /node is joining/);
    await joining.close();
  });
});
