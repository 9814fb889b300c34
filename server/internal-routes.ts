import { Readable } from 'node:stream';
import { Hono } from 'hono';
import { decodeEntries, encodeEntries } from '../cluster/entry-codec.js';
import type { DistNode } from '../cluster/node.js';
import { entryFromHeaders, VERSION_HEADER } from '../cluster/peer-client.js';
import { badRequest, notFound } from './errors.js';
import type { Limits } from './limits.js';
import { requestKey } from './request-key.js';
import { valueResponse } from './responses.js';

/** Node-to-node routes: replicate, bulk entries, fetch a value, sync stream, health probe. */
export function internalRoutes(node: DistNode, limits: Limits): Hono {
  const app = new Hono();

  app.post('/replicate', async (c) => {
    const key = requestKey(c, '/replicate', limits);
    const value = Buffer.from(await c.req.arrayBuffer());
    const entry = entryFromHeaders(value, (name) => c.req.header(name));
    if (!entry) throw badRequest('bad_version', `missing or bad ${VERSION_HEADER} header`);
    return c.json(await node.applyReplica(key, entry));
  });

  app.post('/entries', async (c) => {
    const body = c.req.raw.body;
    if (!body) throw badRequest('missing_body', 'send the entries as the body');
    return c.json(await node.applyEntries(decodeEntries(body)));
  });

  app.get('/value', (c) => {
    const entry = node.store.get(requestKey(c, '/value', limits));
    if (!entry) throw notFound('no value for that key');
    return valueResponse(entry);
  });

  app.get('/sync', () => {
    const stream = Readable.toWeb(Readable.from(encodeEntries(node.store.primaryEntries())));
    return new Response(stream as ReadableStream, {
      headers: { 'content-type': 'application/octet-stream' },
    });
  });

  app.get('/health', (c) => c.json({ id: node.id, boot: node.boot, state: node.nodeState }));
  return app;
}
