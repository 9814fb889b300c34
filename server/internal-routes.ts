import { Readable } from 'node:stream';
import { Hono } from 'hono';
import type { Entry } from '../cluster/entry.js';
import { decodeEntries, encodeEntries } from '../cluster/entry-codec.js';
import type { DistNode } from '../cluster/node.js';
import { IF_ABSENT_HEADER, IF_VERSION_HEADER, TTL_HEADER } from '../cluster/peer-client.js';
import { AUTH_HEADER, isAuthentic } from '../cluster/request-auth.js';
import { parseVersion } from '../cluster/version.js';
import { badRequest, HttpError, notFound } from './errors.js';
import type { Limits } from './limits.js';
import { requestKey } from './request-key.js';
import { valueResponse, writeResultJson } from './responses.js';

/** Node-to-node routes: replicate, bulk entries, fetch a value, sync stream, health probe. */
export function internalRoutes(node: DistNode, limits: Limits, secret?: string): Hono {
  const app = new Hono();
  if (secret) {
    app.use('*', async (c, next) => {
      const url = new URL(c.req.url);
      const header = c.req.header(AUTH_HEADER);
      if (!isAuthentic(secret, header, c.req.method, url.pathname + url.search)) {
        throw new HttpError(401, 'unauthorized', 'node-to-node requests need the cluster secret');
      }
      await next();
    });
  }

  // Entries written elsewhere, batched (see ReplicaBatcher), as entry-codec frames. A batch
  // is small (1 MiB at most): read whole, not as a web stream, which costs more than the batch.
  app.post('/replicate', async (c) => {
    const body = new Uint8Array(await c.req.arrayBuffer());
    return c.json(await node.applyReplicas(entriesOf([body])));
  });

  app.post('/conditional', async (c) => {
    const key = requestKey(c, '/conditional', limits);
    const ifVersion = c.req.header(IF_VERSION_HEADER);
    const version = ifVersion === undefined ? undefined : parseVersion(ifVersion);
    if (ifVersion !== undefined && !version) throw badRequest('bad_version', 'bad if-version');
    const condition = version
      ? { ifVersion: version }
      : c.req.header(IF_ABSENT_HEADER) === '1'
        ? { ifAbsent: true as const }
        : undefined;
    const ttl = c.req.header(TTL_HEADER);
    const value = Buffer.from(await c.req.arrayBuffer());
    const type = c.req.header('content-type') ?? 'application/octet-stream';
    const result = await node.write(key, value, type, {
      condition,
      ttlSeconds: ttl === undefined ? undefined : Number(ttl),
      forwarded: true,
    });
    return c.json(writeResultJson(result));
  });

  app.post('/entries', async (c) => {
    if (!c.req.raw.body) throw badRequest('missing_body', 'send the entries as the body');
    return c.json(await node.applyEntries(entriesOf(c.req.raw.body)));
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

/** The entries of a request body in entry-codec frames; a bad frame is a 400. */
async function* entriesOf(
  body: AsyncIterable<Uint8Array> | Iterable<Uint8Array>,
): AsyncGenerator<[string, Entry]> {
  try {
    yield* decodeEntries(body);
  } catch (error) {
    throw badRequest('bad_entries', `the entry frames cannot be read: ${error}`);
  }
}
