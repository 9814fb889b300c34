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
  const env = c.env as { incoming?: IncomingMessage } | undefined;
  return env?.incoming;
}

/** Waits until the request's body is read to its end, or the bounds say to stop trying. */
export async function discardUnreadBody(c: Context): Promise<void> {
  const incoming = incomingOf(c);
  if (!incoming || incoming.complete || incoming.destroyed || incoming.readableEnded) return;
  const declared = Number(incoming.headers['content-length'] ?? 0);
  if (declared > MAX_BYTES) {
    c.header('connection', 'close');
    return;
  }
  await new Promise<void>((resolve) => {
    let read = 0;
    const done = () => {
      clearTimeout(timer);
      incoming.off('data', onData);
      incoming.off('end', done);
      incoming.off('close', done);
      incoming.off('error', done);
      resolve();
    };
    const onData = (chunk: Buffer) => {
      read += chunk.length;
      if (read > MAX_BYTES) {
        c.header('connection', 'close');
        done();
      }
    };
    const timer = setTimeout(() => {
      c.header('connection', 'close');
      done();
    }, MAX_MS);
    incoming.on('data', onData);
    incoming.once('end', done);
    incoming.once('close', done);
    incoming.once('error', done);
    incoming.resume();
  });
}
