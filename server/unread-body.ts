import type { IncomingMessage } from 'node:http';
import type { Context } from 'hono';

/**
 * Reads and discards what is left of a refused request's body before the answer goes out.
 *
 * A client that writes its whole body before reading the answer (Python's urllib, many HTTP
 * libraries; no `Expect: 100-continue`) and sends `Connection: close` would otherwise get a
 * reset instead of its 413: Node closes the socket as soon as the answer is written, and
 * closing a socket with unread bytes in its receive buffer makes the kernel send RST. Reading
 * the rest first is nginx's "discard body" and lets every client read the answer. The work is
 * bounded: a body declared larger than MAX_BYTES is not read (the answer then says
 * `connection: close`, and such a client may still see a reset), and no body is read for
 * longer than MAX_MS.
 */

const MAX_BYTES = 64 * 1024 * 1024;
const MAX_MS = 10_000;

/** The node request behind a hono context, when the app runs under @hono/node-server. */
export function incomingOf(c: Context): IncomingMessage | undefined {
  return incomingOfEnv(c.env);
}

/** The same, from the env @hono/node-server hands the app's fetch. */
export function incomingOfEnv(env: unknown): IncomingMessage | undefined {
  return (env as { incoming?: IncomingMessage } | undefined)?.incoming;
}

/** Waits until the request's body is read to its end, or the bounds say to stop trying. */
export async function discardUnreadBody(c: Context): Promise<void> {
  if (await drainUnreadBody(incomingOf(c))) c.header('connection', 'close');
}

/**
 * discardUnreadBody for a node request without a hono context (the request gate's refusals).
 * True when the body was left unread, so the answer must close the connection.
 */
export async function drainUnreadBody(incoming: IncomingMessage | undefined): Promise<boolean> {
  if (!incoming || incoming.complete || incoming.destroyed || incoming.readableEnded) return false;
  const declared = Number(incoming.headers['content-length'] ?? 0);
  if (declared > MAX_BYTES) return true;
  return new Promise<boolean>((resolve) => {
    let read = 0;
    const done = (unread: boolean) => {
      clearTimeout(timer);
      incoming.off('data', onData);
      incoming.off('end', ended);
      incoming.off('close', ended);
      incoming.off('error', ended);
      resolve(unread);
    };
    const ended = () => done(false);
    const onData = (chunk: Buffer) => {
      read += chunk.length;
      if (read > MAX_BYTES) done(true);
    };
    const timer = setTimeout(() => done(true), MAX_MS);
    incoming.on('data', onData);
    incoming.once('end', ended);
    incoming.once('close', ended);
    incoming.once('error', ended);
    incoming.resume();
  });
}
