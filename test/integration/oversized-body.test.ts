import assert from 'node:assert/strict';
import net from 'node:net';
import { before, describe, test } from 'node:test';
import type { NodeProcess } from '../support/fleet.js';
import { useFleet } from '../support/use-fleet.js';

/**
 * A client that writes its whole body before it reads (Python's urllib, many HTTP libraries:
 * no `Expect: 100-continue`, and `Connection: close`) reads its 413, not a reset, and nothing
 * of the refused body is stored.
 */

const EIGHT_MIB = 8 * 1024 * 1024;

interface Exchange {
  /** The status line and headers, and the body, of the answer read. */
  head: string;
  body: string;
  /** A socket error seen while writing or reading, e.g. EPIPE or ECONNRESET. */
  error?: string;
}

/** Writes the request, body and all, and only then reads the answer to the end. */
function writeAllThenRead(
  port: number,
  head: string,
  body: Buffer,
  chunked: boolean,
): Promise<Exchange> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    const received: Buffer[] = [];
    let error: string | undefined;
    socket.on('data', (chunk) => received.push(chunk));
    socket.on('error', (e: NodeJS.ErrnoException) => {
      error ??= e.code ?? e.message;
    });
    socket.on('close', () => {
      const text = Buffer.concat(received).toString('latin1');
      const cut = text.indexOf('\r\n\r\n');
      resolve({ head: text.slice(0, cut), body: text.slice(cut + 4), ...(error ? { error } : {}) });
    });
    socket.write(head);
    if (chunked) {
      for (let at = 0; at < body.length; at += 65536) {
        const piece = body.subarray(at, at + 65536);
        socket.write(`${piece.length.toString(16)}\r\n`);
        socket.write(piece);
        socket.write('\r\n');
      }
      socket.write('0\r\n\r\n');
    } else {
      socket.write(body);
    }
    socket.end();
  });
}

function request(path: string, type: string, body: Buffer, chunked: boolean): string {
  const length = chunked ? 'Transfer-Encoding: chunked' : `Content-Length: ${body.length}`;
  return `POST ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\nContent-Type: ${type}\r\n${length}\r\n\r\n`;
}

const BOUNDARY = 'diststore-test-boundary';
const bodies: Record<string, { path: string; type: string; body: (key: string) => Buffer }> = {
  urlencoded: {
    path: '/post',
    type: 'application/x-www-form-urlencoded',
    body: (key) => Buffer.concat([Buffer.from(`key=${key}&value=`), Buffer.alloc(EIGHT_MIB, 'x')]),
  },
  multipart: {
    path: '/post',
    type: `multipart/form-data; boundary=${BOUNDARY}`,
    body: (key) =>
      Buffer.concat([
        Buffer.from(
          `--${BOUNDARY}\r\nContent-Disposition: form-data; name="key"\r\n\r\n${key}\r\n` +
            `--${BOUNDARY}\r\nContent-Disposition: form-data; name="value"; filename="v"\r\n` +
            'Content-Type: application/octet-stream\r\n\r\n',
        ),
        Buffer.alloc(EIGHT_MIB, 'x'),
        Buffer.from(`\r\n--${BOUNDARY}--\r\n`),
      ]),
  },
  'raw body (POST /:key)': {
    path: '/KEY',
    type: 'application/octet-stream',
    body: () => Buffer.alloc(EIGHT_MIB, 'x'),
  },
};

describe('an oversized body gets its 413', () => {
  const fleet = useFleet(1);
  let node: NodeProcess;
  before(async () => {
    node = fleet.node(0);
  });

  for (const [kind, { path, type, body }] of Object.entries(bodies)) {
    for (const chunked of [false, true]) {
      const key = `big-${kind.split(' ')[0]}-${chunked ? 'chunked' : 'length'}`;
      test(`${kind}, ${chunked ? 'chunked' : 'with a length'}: 8 MiB written before reading`, async () => {
        const answer = await writeAllThenRead(
          node.port,
          request(path.replace('KEY', key), type, body(key), chunked),
          body(key),
          chunked,
        );
        assert.equal(answer.error, undefined, `no socket error (got ${answer.error})`);
        assert.match(answer.head, /^HTTP\/1\.1 413 /, `the answer: ${answer.head}`);
        assert.equal(JSON.parse(answer.body).code, 'value_too_large');
        assert.equal((await node.get(`/get-local/${key}`)).status, 404, 'nothing was stored');
      });
    }
  }

  test('the node still answers on a new connection', async () => {
    const response = await node.post('/post', { key: 'after', value: 'v' });
    assert.equal(response.status, 200);
    assert.equal(await (await node.get('/get-local/after')).text(), 'v');
  });
});
