import assert from 'node:assert/strict';
import net from 'node:net';
import { after, before, describe, test } from 'node:test';
import type { NodeProcess } from '../support/fleet.js';
import { useFleet } from '../support/use-fleet.js';

/** Sends raw bytes and returns the status line's code (0 if the server closed silently). */
function raw(port: number, request: string | Buffer, stallMs = 0): Promise<number> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1');
    let answer = '';
    socket.setTimeout(20_000, () => socket.destroy(new Error('no answer in 20 s')));
    socket.on('data', (chunk) => {
      answer += chunk;
    });
    const status = () => Number(/^HTTP\/1\.1 (\d{3})/.exec(answer)?.[1] ?? 0);
    // A server that answers before the whole request is in (431, 413) and closes makes the
    // kernel reset the connection under the rest of our bytes: the answer read still counts.
    socket.on('error', (error) => (status() > 0 ? resolve(status()) : reject(error)));
    socket.on('close', () => resolve(status()));
    socket.write(request);
    if (stallMs === 0) socket.end();
  });
}

describe('the HTTP bad-input matrix: a clear 4xx, nothing stored, node healthy', () => {
  const fleet = useFleet(1, {
    args: ['--max-key-bytes', '64', '--max-value-bytes', '1024', '--request-timeout-ms', '1000'],
  });
  let node: NodeProcess;
  const figures: string[] = [];
  before(async () => {
    node = fleet.node(0);
  });
  after(async () => {
    console.log(`FIGURE http-matrix cases_answered_right=${figures.length} stored=0`);
  });

  const form = (
    body: string | Uint8Array<ArrayBuffer>,
    type = 'application/x-www-form-urlencoded',
  ): RequestInit => ({
    method: 'POST',
    headers: { 'content-type': type },
    body,
  });
  const cases: [string, string, RequestInit, number][] = [
    ['PUT /post', '/post', { method: 'PUT', body: 'key=a&value=b' }, 405],
    ['GET /post', '/post', { method: 'GET' }, 405],
    ['DELETE /status', '/status', { method: 'DELETE' }, 405],
    ['PATCH /get/k', '/get/k', { method: 'PATCH' }, 405],
    [
      'invalid UTF-8 body',
      '/post',
      form(new Uint8Array([0x6b, 0x65, 0x79, 0x3d, 0xff, 0xfe])),
      400,
    ],
    ['invalid UTF-8 escape', '/post', form('key=%C3%28&value=v'), 400],
    ['truncated escape', '/post', form('key=k&value=%4'), 400],
    ['non-hex escape', '/post', form('key=k&value=%zz'), 400],
    ['bad path escape', '/get/%E2%82', { method: 'GET' }, 400],
    ['bad ?key= escape', '/get?key=%', { method: 'GET' }, 400],
    ['key of 65 bytes', '/post', form(`key=${'k'.repeat(65)}&value=v`), 414],
    ['value of 1025 bytes', '/post', form(`key=k&value=${'v'.repeat(1025)}`), 413],
    ['raw value of 1025 bytes', '/raw-key', { method: 'POST', body: 'x'.repeat(1025) }, 413],
    ['body far over the limit', '/post', form(`key=k&value=${'v'.repeat(100_000)}`), 413],
    ['text/plain form', '/post', form('key=k&value=v', 'text/plain'), 415],
    ['multipart without boundary', '/post', form('key=k', 'multipart/form-data'), 400],
    ['multipart, file as key', '/post', multipartWithFileKey(), 400],
    ['empty key', '/post', form('key=&value=v'), 400],
    ['no fields', '/post', form(''), 400],
  ];
  for (const [name, path, init, status] of cases) {
    test(`${name} → ${status}`, async () => {
      const response = await fetch(node.url(path), init);
      assert.equal(response.status, status);
      const body = (await response.json()) as { code?: string; error?: string };
      assert.ok(body.code && body.error, 'a JSON error with a code');
      figures.push(`${status}`);
    });
  }

  test('huge headers → 431, then the node still serves', async () => {
    const huge = `GET /status HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Big: ${'a'.repeat(64 * 1024)}\r\n\r\n`;
    assert.equal(await raw(node.port, huge), 431);
    figures.push('431');
  });

  test('a body that stalls is cut off by the request timeout (408)', async () => {
    const partial =
      'POST /post HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 100\r\n\r\nkey=slow&val';
    assert.equal(await raw(node.port, partial, 1), 408);
    figures.push('408');
  });

  test('malformed HTTP → 400', async () => {
    assert.equal(await raw(node.port, 'GARBAGE\r\n\r\n'), 400);
    figures.push('400');
  });

  test('nothing was stored and the node is healthy', async () => {
    assert.deepEqual(await (await node.get('/keys?format=json')).json(), []);
    assert.equal((await node.get('/ready')).status, 200);
    assert.equal((await node.post('/post', { key: 'fine', value: 'ok' })).status, 200);
  });
});

function multipartWithFileKey(): RequestInit {
  const form = new FormData();
  form.set('key', new Blob(['k']), 'k.txt');
  form.set('value', 'v');
  return { method: 'POST', body: form };
}
