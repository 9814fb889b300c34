import { Hono } from 'hono';
import type { DistNode } from '../cluster/node.js';
import { valueBodyLimit } from './body-limit.js';
import { notFound } from './errors.js';
import type { Limits } from './limits.js';
import { requestKey } from './request-key.js';
import { keyListing, valueResponse, writeResultJson } from './responses.js';

/**
 * The original Python diststore's routes, so its clients keep working: `POST /:key` and
 * `POST /local/:key` with the raw body as the value, `GET /getlocal/:key`, `GET /list`.
 */
export function compatRoutes(node: DistNode, limits: Limits): Hono {
  const app = new Hono();
  const rawLimit = valueBodyLimit(limits.maxValueBytes);

  app.get('/list', () => keyListing(node.store.readableKeys(), 'lines'));
  app.get('/getlocal/*', (c) => {
    const entry = node.store.live(requestKey(c, '/getlocal', limits));
    if (!entry) throw notFound('no local value for that key');
    return valueResponse(entry);
  });
  app.post('/local/*', rawLimit, async (c) => {
    const key = requestKey(c, '/local', limits);
    const value = Buffer.from(await c.req.arrayBuffer());
    const type = c.req.header('content-type') ?? 'application/octet-stream';
    return c.json(writeResultJson(await node.write(key, value, type, { local: true })));
  });
  app.post('/*', rawLimit, async (c) => {
    const key = requestKey(c, '', limits);
    const value = Buffer.from(await c.req.arrayBuffer());
    const type = c.req.header('content-type') ?? 'application/octet-stream';
    return c.json(writeResultJson(await node.write(key, value, type)));
  });
  return app;
}
