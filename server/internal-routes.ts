import { Readable } from 'node:stream';
import { type Context, Hono } from 'hono';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import { isStorableType } from '../cluster/entry.js';
import { decodeEntries, inChunks, type ReceivedEntry } from '../cluster/entry-codec.js';
import type { DistNode } from '../cluster/node.js';
import {
  heldVersionsFromJson,
  heldVersionsToJson,
  IF_ABSENT_HEADER,
  IF_VERSION_HEADER,
  TTL_HEADER,
} from '../cluster/protocol.js';
import {
  ANSWER_AUTH_HEADER,
  AUTH_HEADER,
  bodyDigest,
  RequestAuth,
  type RequestRejection,
  SEALED_HEADER,
  STREAMED,
} from '../cluster/request-auth.js';
import { parseVersion } from '../cluster/version.js';
import { bodyLimit, valueBodyLimit } from './body-limit.js';
import { badRequest, HttpError } from './errors.js';
import { parseTtl } from './form.js';
import type { Limits } from './limits.js';
import type { HeaderOf, Refusal } from './refusals.js';
import { requestKey } from './request-key.js';
import { valueHeaders, writeResultJson } from './responses.js';
import { incomingOfEnv } from './unread-body.js';

/** Most bytes of one copy check: CopyCheck sends its keys in chunks well under this. */
const MAX_CHECK_BYTES = 4 * 1024 * 1024;

/** What the gate learnt of a signed request: its nonce and its body's digest. */
type Signed = { nonce: string; digest: string };
const EMPTY_DIGEST = bodyDigest(undefined);

/** The app's env as node-to-node routes see it: with a secret, the request's signature facts. */
export type InternalEnv = { signed?: Signed };

/** The request gate's part for node-to-node requests when there is a cluster secret. */
export interface InternalGuard {
  /** Why the request is refused; undefined when it may be routed (its facts then in env). */
  check(
    request: Request,
    header: HeaderOf,
    env: InternalEnv,
  ): Refusal<RequestRejection> | undefined;
  /** The answer, signed: as it is when its route signed it, else once its body is read. */
  seal(answered: Response, env: InternalEnv): Response | Promise<Response>;
}

/** Answers a route signed itself (see `answer` in internalRoutes): left as they are after. */
const signedAnswers = new WeakSet<Response>();

/**
 * Most bytes of one replicate batch: the batcher sends at most 1 MiB of values in one, or a
 * single larger value alone; keys and versions come on top.
 */
const MAX_BATCH_BYTES = 32 * 1024 * 1024;

/**
 * Node-to-node routes: replicate, bulk entries, fetch a value, sync stream, health probe.
 * They take what client routes take (the same key and value limits, frames checked before
 * anything is kept) and, with a cluster secret, only signed requests (request-auth.ts), and
 * sign their answers.
 */
export function internalRoutes(
  node: DistNode,
  limits: Limits,
  secret: string | undefined,
  onRefused: (reason: RequestRejection, detail: string) => void = () => {},
): { routes: Hono; guard: InternalGuard | undefined } {
  const app = new Hono();
  const auth = secret ? new RequestAuth(secret) : undefined;
  // Requests reach these routes through the request gate (request-gate.ts), which refuses
  // browsers and, with a secret, requests not signed for this node (see `guard` below).
  /**
   * An answer whose body is in hand, signed here when there is a secret: reading a body back
   * out of a Response to sign it (what the middleware does for the others) copies it through
   * a web stream, which cost more than the rest of a node-to-node request (docs/performance.md).
   */
  const answer = (
    c: Context,
    body: Uint8Array | string,
    status: ContentfulStatusCode,
    headers: Record<string, string>,
  ): Response => {
    if (!auth) return new Response(body as BodyInit, { status, headers });
    const bytes = typeof body === 'string' ? Buffer.from(body) : body;
    const nonce = signedOf(c)?.nonce ?? '';
    headers[ANSWER_AUTH_HEADER] = auth.signAnswer(
      nonce,
      status,
      (name) => headers[name],
      bodyDigest(bytes),
    );
    const signed = new Response(bytes as BodyInit, { status, headers });
    signedAnswers.add(signed);
    return signed;
  };
  const json = (c: Context, value: unknown, status: ContentfulStatusCode = 200) =>
    answer(c, JSON.stringify(value), status, { 'content-type': 'application/json' });
  /** The request body, held to the digest its signature names. */
  const readBody = async (c: Context): Promise<Uint8Array> => {
    const body = new Uint8Array(await c.req.arrayBuffer());
    if (auth && bodyDigest(body) !== signedOf(c)?.digest) {
      onRefused('forged', `${c.req.method} ${c.req.path}`);
      throw new HttpError(401, 'unauthorized', 'node-to-node request refused: forged');
    }
    return body;
  };
  const replicateLimit = sizeLimit(MAX_BATCH_BYTES, 'a replicate batch');
  const valueLimit = valueBodyLimit(limits.maxValueBytes);
  const newerLimit = sizeLimit(MAX_CHECK_BYTES, 'a copy check');
  const entriesOf = (
    body: AsyncIterable<Uint8Array> | Iterable<Uint8Array>,
    nonce: string | undefined,
  ) => checkedEntries(auth && nonce ? auth.open(nonce, body) : body, limits);

  // Entries written elsewhere, batched (see ReplicaBatcher), as entry-codec frames. A batch
  // is small (1 MiB at most): read whole, not as a web stream, which costs more than the batch.
  app.post('/replicate', replicateLimit, async (c) => {
    return json(c, await node.applyReplicas(entriesOf([await readBody(c)], undefined)));
  });

  app.post('/conditional', valueLimit, async (c) => {
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
    const ttlSeconds = ttl === undefined ? undefined : parseTtl(ttl);
    const value = Buffer.from(await readBody(c));
    const type = c.req.header('content-type') ?? 'application/octet-stream';
    if (!isStorableType(type)) throw badRequest('bad_type', 'bad content type');
    const result = await node.write(key, value, type, {
      condition,
      ttlSeconds,
      forwarded: true,
    });
    return json(c, writeResultJson(result));
  });

  app.post('/entries', async (c) => {
    if (!c.req.raw.body) throw badRequest('missing_body', 'send the entries as the body');
    const entries = entriesOf(c.req.raw.body, signedOf(c)?.nonce);
    return json(c, await node.applyEntries(entries, c.req.query('from')));
  });

  // Which of a node's copies this master holds newer versions of (CopyCheck, after lost
  // invalidations). Only a ready master answers: its word is what makes a copy current.
  app.post('/newer', newerLimit, async (c) => {
    const held = heldVersionsFromJson(parseJson(await readBody(c))?.held);
    if (!held) throw badRequest('bad_versions', 'send {"held": [[key, version], ...]}');
    return json(c, { newer: heldVersionsToJson(node.newerThan(held)) });
  });

  app.get('/value', (c) => {
    const key = requestKey(c, '/value', limits);
    // `master=1`: a miss's early fetch, which takes the answer for a master's word.
    const entry = c.req.query('master') === '1' ? node.masterEntry(key) : node.store.get(key);
    // Answered, not thrown: a miss's early fetch from a master ends here for every absent
    // key, and an Error with its stack trace costs more than the answer.
    if (!entry) return json(c, { error: 'no value for that key', code: 'not_found' }, 404);
    return answer(c, entry.value, 200, valueHeaders(entry));
  });

  app.get('/sync', (c) => {
    const nonce = signedOf(c)?.nonce;
    const frames = inChunks(node.store.primaryFrames());
    const body = Readable.from(auth && nonce ? auth.seal(nonce, frames) : frames);
    const stream = new Response(Readable.toWeb(body) as ReadableStream, {
      headers: {
        'content-type': 'application/octet-stream',
        ...(auth ? { [SEALED_HEADER]: '1' } : {}),
      },
    });
    // Signed chunk by chunk (auth.seal), not as a whole.
    if (auth) signedAnswers.add(stream);
    return stream;
  });

  app.get('/health', (c) => json(c, { id: node.id, boot: node.boot, state: node.nodeState }));

  /**
   * With a secret, the request gate's part: a request is routed only if it is signed for this
   * node, fresh and not seen before (its nonce and body digest then go to the route in env),
   * and an answer no route signed (an error's) is signed here, its body read back out of it.
   */
  const guard: InternalGuard | undefined = auth && {
    check(request, header, env) {
      // What the sender signed is the request target as it was sent. A URL parse of it (and
      // node-server's request.url, for some targets) normalises it: a `'` in the query, left
      // as it is by encodeURIComponent, becomes %27, and a key holding one could not be
      // fetched from another node of a fleet with a secret.
      const target = incomingOfEnv(env)?.url ?? targetOf(request.url);
      const query = target.indexOf('?');
      const path = query < 0 ? target : target.slice(0, query);
      const refused = (reason: RequestRejection): Refusal<RequestRejection> => {
        const what = `${request.method} ${path}`;
        onRefused(reason, what);
        return {
          reason,
          detail: what,
          status: 401,
          code: 'unauthorized',
          message: `node-to-node request refused: ${reason}`,
        };
      };
      const signature = header(AUTH_HEADER);
      const verdict = auth.verify(signature, request.method, target, node.http);
      if ('rejected' in verdict) return refused(verdict.rejected);
      // A body is held to the signed digest where it is read (readBody), a stream chunk by
      // chunk (auth.open); a GET has none.
      const expected =
        request.method === 'GET' ? EMPTY_DIGEST : path.endsWith('/entries') ? STREAMED : undefined;
      if (expected !== undefined && verdict.digest !== expected) return refused('forged');
      env.signed = verdict;
      return undefined;
    },
    seal(answered, env) {
      if (signedAnswers.has(answered)) return answered;
      return (async () => {
        const body = new Uint8Array(await answered.clone().arrayBuffer());
        const answerHeader = (name: string) => answered.headers.get(name) ?? undefined;
        answered.headers.set(
          ANSWER_AUTH_HEADER,
          auth.signAnswer(env.signed?.nonce ?? '', answered.status, answerHeader, bodyDigest(body)),
        );
        return answered;
      })();
    },
  };
  return { routes: app, guard };
}

/** Where a node-to-node route finds what the gate learnt of its signed request. */
function signedOf(c: Context): Signed | undefined {
  return (c.env as InternalEnv | undefined)?.signed;
}

/** A 413 for a body over `maxSize` bytes, naming what it was. */
function sizeLimit(maxSize: number, what: string) {
  return bodyLimit({
    maxSize,
    onError: () => {
      throw new HttpError(413, 'body_too_large', `${what} is at most ${maxSize} bytes`);
    },
  });
}

/** A JSON body as an object; undefined when it is not one. */
function parseJson(body: Uint8Array): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(Buffer.from(body).toString());
    return value !== null && typeof value === 'object'
      ? (value as Record<string, unknown>)
      : undefined;
  } catch {
    return undefined;
  }
}

/** The entries of a request body in entry-codec frames; a bad or oversized frame is a 400. */
async function* checkedEntries(
  body: AsyncIterable<Uint8Array> | Iterable<Uint8Array>,
  limits: Limits,
): AsyncGenerator<ReceivedEntry> {
  try {
    yield* decodeEntries(body, limits);
  } catch (error) {
    throw badRequest('bad_entries', `the entry frames cannot be read: ${error}`);
  }
}

/** The path and query of a URL, as they are written in it (`app.request` in tests). */
function targetOf(url: string): string {
  const path = url.indexOf('/', url.indexOf('//') + 2);
  return path < 0 ? '/' : url.slice(path);
}
