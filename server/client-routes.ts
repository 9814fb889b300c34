import { type Context, Hono } from 'hono';
import type { Entry } from '../cluster/entry.js';
import type { DistNode } from '../cluster/node.js';
import { bodyLimit } from './body-limit.js';
import { badRequest, HttpError, notFound } from './errors.js';
import { readFormField, readWriteForm } from './form.js';
import { checkKey, type Limits } from './limits.js';
import { requestKey } from './request-key.js';
import { keyListing, valueResponse, writeResultJson } from './responses.js';

/** The client API of design.md: form posts, gets, keys, status, health, metrics. */
export function clientRoutes(node: DistNode, limits: Limits): Hono {
  const app = new Hono();
  // Urlencoded text can take three bytes per value byte; the exact value limit is checked
  // after decoding, this only stops absurd bodies before they are read.
  const formLimit = bodyLimit({
    maxSize: 3 * (limits.maxValueBytes + limits.maxKeyBytes) + 64 * 1024,
    onError: () => {
      throw new HttpError(
        413,
        'value_too_large',
        `the body is over the limit for a value of ${limits.maxValueBytes} bytes`,
      );
    },
  });

  for (const [path, local] of [
    ['/post', false],
    ['/post-local', true],
  ] as const) {
    app.post(path, formLimit, async (c) => {
      const form = await readWriteForm(c.req.raw, limits);
      if (local && form.condition) {
        throw badRequest('bad_condition', 'conditions are decided on the masters: use /post');
      }
      const result = await node.write(form.key, form.value, form.type, {
        local,
        ttlSeconds: form.ttlSeconds,
        condition: form.condition,
      });
      return c.json(writeResultJson(result));
    });
  }

  const answerValue = (key: string, entry: Entry | undefined) => {
    if (!entry) throw notFound(`no value for key ${JSON.stringify(key)}`);
    return valueResponse(entry);
  };
  // Synchronous, so that hono and @hono/node-server answer a hit within the turn
  // (request-gate.ts says why that matters).
  const getLocal = (c: Context) => {
    const key = requestKey(c, '/get-local', limits);
    return answerValue(key, node.store.live(key));
  };
  const get = async (c: Context) => {
    const key = requestKey(c, '/get', limits);
    return answerValue(key, await node.read(key));
  };
  for (const [path, handler] of [
    ['/get', get],
    ['/get-local', getLocal],
  ] as const) {
    app.get(path, handler);
    app.get(`${path}/*`, handler);
  }

  const remove = async (key: string) => ({
    ...writeResultJson(await node.remove(key)),
    deleted: true,
  });
  app.delete('/keys', async (c) => c.json(await remove(requestKey(c, '/keys', limits))));
  app.delete('/keys/*', async (c) => c.json(await remove(requestKey(c, '/keys', limits))));
  app.post('/delete', formLimit, async (c) => {
    const key = checkKey(await readFormField(c.req.raw, 'key'), limits);
    return c.json(await remove(key));
  });

  app.get('/keys', (c) =>
    keyListing(node.store.readableKeys(), c.req.query('format') === 'json' ? 'json' : 'lines'),
  );

  app.get('/status', (c) => c.json(node.status()));
  // Liveness: the process answers. Readiness: joined and synced, not stopping.
  app.get('/health', (c) => c.json({ ok: true, state: node.nodeState }));
  app.get('/ready', (c) => {
    // Ready is about serving reads; a full disk (storage: full) refuses writes, not reads.
    const ready = node.nodeState === 'ready';
    return c.json({ ready, state: node.nodeState, storage: node.storage }, ready ? 200 : 503);
  });
  app.get('/metrics', async (c) => {
    const registry = node.metrics.registry;
    return c.text(await registry.metrics(), 200, { 'content-type': registry.contentType });
  });
  return app;
}
