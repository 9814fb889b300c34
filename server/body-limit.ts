import type { IncomingMessage } from 'node:http';
import type { Context, MiddlewareHandler } from 'hono';
import { HttpError } from './errors.js';
import { discardUnreadBody, incomingOf } from './unread-body.js';

interface BodyLimitOptions {
  maxSize: number;
  /** The refusal: a response, or a thrown error for the app's error handler. */
  onError: (c: Context) => Response | Promise<Response>;
}

/**
 * A body size limit in the manner of hono's bodyLimit, with two differences. A body that
 * declares its length is judged by that header alone: hono's middleware touches
 * `c.req.raw.body` even then, which turns @hono/node-server's light request into a full web
 * Request with a body stream (on a form POST that was a quarter of the node's CPU). And a
 * refused body is read to its end before the refusal goes out (unread-body.ts), so a client
 * that writes its whole body first reads its 413 instead of a reset. A chunked body (no length
 * given) is counted as it streams in and buffered for the route, as hono's does.
 */
export function bodyLimit(options: BodyLimitOptions): MiddlewareHandler {
  const refuse = async (c: Context) => {
    await discardUnreadBody(c);
    return options.onError(c);
  };
  return async (c, next) => {
    const declared = c.req.header('content-length');
    if (declared !== undefined && c.req.header('transfer-encoding') === undefined) {
      if (Number(declared) > options.maxSize) return refuse(c);
      return next();
    }
    const incoming = incomingOf(c);
    if (!incoming || c.req.method === 'GET' || c.req.method === 'HEAD') return next();
    const body = await readUpTo(incoming, options.maxSize);
    if (!body) return refuse(c);
    c.req.raw = new Request(c.req.raw, { body: body as Uint8Array<ArrayBuffer> });
    await next();
  };
}

/** A body that is the value itself (raw routes, a forwarded conditional write): 413 past the limit. */
export function valueBodyLimit(maxValueBytes: number): MiddlewareHandler {
  return bodyLimit({
    maxSize: maxValueBytes,
    onError: () => {
      throw new HttpError(
        413,
        'value_too_large',
        `the value is over the limit of ${maxValueBytes} bytes`,
      );
    },
  });
}

/** The whole body, or undefined (with the rest left unread) once it passes `maxSize`. */
async function readUpTo(incoming: IncomingMessage, maxSize: number): Promise<Buffer | undefined> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of incoming.iterator({ destroyOnReturn: false })) {
    size += (chunk as Buffer).length;
    if (size > maxSize) return undefined;
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks, size);
}
