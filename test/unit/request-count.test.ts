import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { Hono } from 'hono';
import { Metrics } from '../../cluster/metrics.js';
import { countingFetch } from '../../server/request-count.js';

/** An app shaped like diststore's: a route with its own middleware, a catch-all, errors. */
function app(): Hono {
  const hono = new Hono();
  hono.use('*', (_c, next) => next());
  hono.post(
    '/post',
    (_c, next) => next(),
    (c) => c.json({ ok: true }),
  );
  hono.get('/get/*', (c) => c.text('value'));
  hono.get('/slow', async (c) => c.text('later'));
  hono.get('/broken', () => {
    throw new Error('boom');
  });
  hono.post('/:key', (c) => c.json({ compat: true }));
  hono.onError((_error, c) => c.json({ error: 'internal' }, 500));
  return hono;
}

async function counted(requests: [string, string][]): Promise<string> {
  const metrics = new Metrics();
  const fetch = countingFetch(app(), metrics);
  for (const [method, path] of requests) {
    await fetch(new Request(`http://127.0.0.1:8181${path}`, { method }));
  }
  return metrics.registry.metrics();
}

describe('countingFetch', () => {
  test('counts each answer under the route that answered, with its status', async () => {
    const text = await counted([
      ['POST', '/post'],
      ['POST', '/post'],
      ['POST', '/some-key'],
      ['GET', '/get/a%20key?x=1'],
      ['HEAD', '/get/a'],
      ['GET', '/slow'],
      ['GET', '/broken'],
      ['GET', '/nothing/here'],
    ]);
    const count = (route: string, status: number) =>
      Number(
        new RegExp(
          `^diststore_http_requests_total\\{route="${route}",status="${status}"\\} (\\d+)`,
          'm',
        ).exec(text)?.[1] ?? 0,
      );
    assert.equal(count('/post', 200), 2, 'not the compat /:key that also matches');
    assert.equal(count('/:key', 200), 1);
    assert.equal(count('/get/\\*', 200), 2, 'HEAD counts as the GET route');
    assert.equal(count('/slow', 200), 1);
    assert.equal(count('/broken', 500), 1);
    assert.equal(count('unmatched', 404), 1);
  });
});
