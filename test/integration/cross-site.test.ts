import assert from 'node:assert/strict';
import http from 'node:http';
import { before, describe, test } from 'node:test';
import type { NodeProcess } from '../support/fleet.js';
import { useFleet } from '../support/use-fleet.js';

/**
 * What a browser sends when a page on another site posts or deletes: `Origin` and
 * `Sec-Fetch-Site`. Refused unless the origin is in --cors-origin; programs send neither and
 * pass. (test/browser/cross-site.test.ts does the same from a real Chromium.)
 */
describe('state-changing requests from other sites are refused', () => {
  const ALLOWED = 'http://app.example:8080';
  const fleet = useFleet(2);
  let open: NodeProcess;
  before(async () => {
    open = await fleet.add(['--cors-origin', ALLOWED]);
    await fleet.settled();
  });

  const post = (node: NodeProcess, key: string, headers: Record<string, string>) =>
    fetch(node.url('/post'), {
      method: 'POST',
      body: new URLSearchParams({ key, value: '<script>alert(1)</script>' }),
      headers,
    });
  const refused = (node: NodeProcess) =>
    node.metric('diststore_http_refused_total', 'reason="cross_site"');

  test('another origin, another port of this host, an opaque origin: 403, nothing stored', async () => {
    const node = fleet.node(0);
    const before = await refused(node);
    const attempts: Record<string, string>[] = [
      { origin: 'http://evil.example', 'sec-fetch-site': 'cross-site' },
      { origin: 'http://127.0.0.1:1', 'sec-fetch-site': 'same-site' },
      { origin: 'null' },
      { 'sec-fetch-site': 'cross-site' },
      { 'sec-fetch-site': 'same-site' },
    ];
    for (const headers of attempts) {
      const answer = await post(node, 'planted', headers);
      assert.equal(answer.status, 403, JSON.stringify(headers));
      const body = (await answer.json()) as { code: string; error: string };
      assert.equal(body.code, 'cross_site_request');
      assert.match(body.error, /--cors-origin/);
    }
    assert.equal((await node.get('/get/planted')).status, 404, 'nothing was stored');
    assert.equal(await refused(node), before + attempts.length, 'each refusal is counted');
    assert.match(node.output, /"reason":"cross_site".*refused request/);
  });

  test('a cross-site delete, raw post or page post is refused too', async () => {
    const node = fleet.node(1);
    assert.equal((await node.post('/post', { key: 'keep', value: 'me' })).status, 200);
    const evil = { origin: 'http://evil.example' };
    const remove = await fetch(node.url('/keys/keep'), { method: 'DELETE', headers: evil });
    assert.equal(remove.status, 403);
    const formDelete = await fetch(node.url('/delete'), {
      method: 'POST',
      body: new URLSearchParams({ key: 'keep' }),
      headers: evil,
    });
    assert.equal(formDelete.status, 403);
    const raw = await fetch(node.url('/keep'), { method: 'POST', body: 'x', headers: evil });
    assert.equal(raw.status, 403);
    const page = await fetch(node.url('/ui/post'), {
      method: 'POST',
      body: new URLSearchParams({ key: 'keep', value: 'x' }),
      headers: evil,
    });
    assert.equal(page.status, 403);
    assert.equal(await (await node.get('/get/keep')).text(), 'me');
  });

  test("the node's own page, programs (no Origin), allowed origins and reads pass", async () => {
    const node = fleet.node(0);
    const self = await post(node, 'own', { origin: `http://127.0.0.1:${node.port}` });
    assert.equal(self.status, 200, 'same origin');
    const sameOrigin = await post(node, 'own2', { 'sec-fetch-site': 'same-origin' });
    assert.equal(sameOrigin.status, 200);
    assert.equal((await post(node, 'curl', {})).status, 200, 'no Origin, no Sec-Fetch-Site');
    const allowed = await post(open, 'app', { origin: ALLOWED, 'sec-fetch-site': 'cross-site' });
    assert.equal(allowed.status, 200, 'an origin in --cors-origin');
    const other = await post(open, 'app2', { origin: 'http://evil.example' });
    assert.equal(other.status, 403, 'only the listed origins');
    const read = await fetch(node.url('/get/own'), { headers: { origin: 'http://evil.example' } });
    assert.equal(read.status, 200, 'reads are not state-changing');
  });
});

describe('values are served as data, never as active content', () => {
  const fleet = useFleet(1);

  /** Stores `bytes` as a multipart file, which keeps its content type. */
  const store = async (key: string, type: string, bytes: string) => {
    const form = new FormData();
    form.set('key', key);
    form.set('value', new Blob([bytes], { type }), 'file');
    const answer = await fetch(fleet.node(0).url('/post'), { method: 'POST', body: form });
    assert.equal(answer.status, 200, await answer.clone().text());
  };

  test('active types are attachments; every value has nosniff and a sandbox CSP', async () => {
    const cases: [string, string, boolean][] = [
      ['html', 'text/html; charset=utf-8', true],
      ['svg', 'image/svg+xml', true],
      ['xml', 'application/xml', true],
      ['js', 'text/javascript', true],
      ['xhtml', 'application/xhtml+xml', true],
      ['unknown', 'application/x-whatever', true],
      ['text', 'text/plain', false],
      ['png', 'image/png', false],
      ['json', 'application/json', false],
    ];
    for (const [key, type, attachment] of cases) {
      await store(key, type, '<script>document.title="ran"</script>');
      for (const path of [`/get/${key}`, `/get-local/${key}`, `/getlocal/${key}`]) {
        const answer = await fleet.node(0).get(path);
        assert.equal(answer.status, 200);
        assert.equal(answer.headers.get('content-type'), type, `${path} keeps its type`);
        assert.equal(answer.headers.get('x-content-type-options'), 'nosniff', path);
        assert.equal(answer.headers.get('content-security-policy'), 'sandbox', path);
        assert.equal(
          answer.headers.get('content-disposition'),
          attachment ? 'attachment' : null,
          `${path} (${type})`,
        );
      }
    }
  });

  test('the page may not be framed and runs only its own script', async () => {
    const page = await fleet.node(0).get('/');
    assert.equal(page.status, 200);
    const csp = page.headers.get('content-security-policy') ?? '';
    assert.match(csp, /frame-ancestors 'none'/);
    assert.match(csp, /default-src 'none'/);
    assert.match(csp, /script-src 'sha256-[A-Za-z0-9+/=]+'(;|$)/);
    assert.doesNotMatch(csp, /unsafe-inline/);
    assert.equal(page.headers.get('x-frame-options'), 'DENY');
  });
});

/** A request naming `host` in its Host header (what a DNS-rebinding page's requests carry). */
function withHost(
  node: NodeProcess,
  method: string,
  path: string,
  host: string,
  body?: string,
): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const request = http.request(
      {
        host: '127.0.0.1',
        port: node.port,
        method,
        path,
        headers: {
          host,
          ...(body ? { 'content-type': 'application/x-www-form-urlencoded' } : {}),
        },
      },
      (response) => {
        let text = '';
        response.setEncoding('utf8');
        response.on('data', (chunk) => {
          text += chunk;
        });
        response.on('end', () => resolve({ status: response.statusCode ?? 0, body: text }));
      },
    );
    request.on('error', reject);
    request.end(body);
  });
}

describe('a DNS-rebinding page (another name for 127.0.0.1) is refused', () => {
  const fleet = useFleet(1);
  let named: NodeProcess;
  before(async () => {
    named = await fleet.add(['--allowed-hosts', 'cache.example.lan']);
    await fleet.settled();
  });

  test('reads and writes under a foreign Host answer 403 bad_host; nothing stored', async () => {
    const node = fleet.node(0);
    const host = `rebind.example:${node.port}`;
    const before = await node.metric('diststore_http_refused_total', 'reason="bad_host"');
    for (const [method, path, body] of [
      ['GET', '/keys', undefined],
      ['GET', '/status', undefined],
      ['GET', '/', undefined],
      ['POST', '/post', 'key=rebound&value=x'],
    ] as const) {
      const answer = await withHost(node, method, path, host, body);
      assert.equal(answer.status, 403, `${method} ${path}`);
      if (path !== '/')
        assert.equal((JSON.parse(answer.body) as { code: string }).code, 'bad_host');
    }
    assert.equal(
      await node.metric('diststore_http_refused_total', 'reason="bad_host"'),
      before + 4,
    );
    assert.equal((await node.get('/get-local/rebound')).status, 404);
    assert.equal((await withHost(node, 'GET', '/health', host)).status, 200, 'probes pass');
  });

  test('addresses, localhost, the advertised host and --allowed-hosts pass', async () => {
    const node = fleet.node(0);
    for (const host of [`127.0.0.1:${node.port}`, `localhost:${node.port}`, '[::1]', '127.0.0.1']) {
      assert.equal((await withHost(node, 'GET', '/keys', host)).status, 200, host);
    }
    assert.equal((await withHost(named, 'GET', '/keys', 'cache.example.lan:1')).status, 200);
    assert.equal((await withHost(named, 'GET', '/keys', 'CACHE.example.lan.')).status, 200);
    assert.equal((await withHost(named, 'GET', '/keys', 'other.example.lan')).status, 403);
  });
});
