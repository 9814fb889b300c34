import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import { before, describe, test } from 'node:test';
import type { NodeProcess } from '../support/fleet.js';
import { useFleet } from '../support/use-fleet.js';
import { waitFor } from '../support/wait-for.js';

describe('bad input changes nothing', () => {
  const fleet = useFleet(1, { args: ['--max-key-bytes', '16', '--max-value-bytes', '32'] });
  let node: NodeProcess;
  before(async () => {
    node = fleet.node(0);
  });

  const form = (body: string) => ({
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body,
  });
  const cases: [string, RequestInit, number, string][] = [
    ['missing value', form('key=k1'), 400, 'missing_field'],
    ['missing key', form('value=v'), 400, 'missing_field'],
    ['empty key', form('key=&value=v'), 400, 'bad_key'],
    ['key over 16 bytes', form(`key=${'k'.repeat(17)}&value=v`), 414, 'key_too_long'],
    [
      'key of 9 two-byte characters (18 bytes)',
      form(`key=${'é'.repeat(9)}&value=v`),
      414,
      'key_too_long',
    ],
    ['value over 32 bytes', form(`key=k2&value=${'v'.repeat(33)}`), 413, 'value_too_large'],
    ['bad percent-encoding', form('key=k3&value=%E0%A4%A'), 400, 'bad_encoding'],
    ['invalid UTF-8 in an escape', form('key=k4&value=%FF%FE'), 400, 'bad_encoding'],
    [
      'JSON body',
      {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: '{"key":"k5","value":"v"}',
      },
      415,
      'unsupported_media_type',
    ],
    [
      'no content type',
      { method: 'POST', body: new Uint8Array([1, 2]) },
      415,
      'unsupported_media_type',
    ],
    [
      'broken multipart',
      {
        method: 'POST',
        headers: { 'content-type': 'multipart/form-data; boundary=x' },
        body: 'garbage',
      },
      400,
      'bad_form',
    ],
  ];

  for (const [name, init, status, code] of cases) {
    test(`${name} → ${status} ${code}`, async () => {
      const response = await fetch(node.url('/post'), init);
      assert.equal(response.status, status);
      assert.equal(((await response.json()) as { code: string }).code, code);
    });
  }

  test('raw compat posts and paths are checked too', async () => {
    const tooBig = await fetch(node.url('/k6'), { method: 'POST', body: 'x'.repeat(33) });
    assert.equal(tooBig.status, 413);
    const badPath = await node.get('/get/%E0%A4%A');
    assert.equal(badPath.status, 400);
    assert.equal(((await badPath.json()) as { code: string }).code, 'bad_encoding');
    const longPath = await node.get(`/get/${'k'.repeat(17)}`);
    assert.equal(longPath.status, 414);
  });

  test('a body over the form limit is refused, whether it declares its length or streams', async () => {
    const huge = `key=k7&value=${'v'.repeat(70_000)}`;
    const declared = await fetch(node.url('/post'), form(huge));
    const chunks = new ReadableStream({
      start(controller) {
        for (let at = 0; at < huge.length; at += 10_000) {
          controller.enqueue(new TextEncoder().encode(huge.slice(at, at + 10_000)));
        }
        controller.close();
      },
    });
    const streamed = await fetch(node.url('/post'), {
      ...form(''),
      body: chunks,
      duplex: 'half',
    } as RequestInit);
    for (const response of [declared, streamed]) {
      assert.equal(response.status, 413);
      assert.equal(((await response.json()) as { code: string }).code, 'value_too_large');
    }
  });

  test('none of the rejected requests stored anything', async () => {
    assert.deepEqual(await (await node.get('/keys?format=json')).json(), []);
    assert.equal((await node.status()).store.primary, 0);
  });

  test('garbage datagrams on the multicast port are counted and the node still serves', async () => {
    const droppedBefore = await node.metric(
      'diststore_packets_dropped_total',
      'reason="malformed"',
    );
    // To the group, on loopback: the node's cluster port takes nothing else.
    const socket = dgram.createSocket('udp4');
    await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
    socket.setMulticastInterface('127.0.0.1');
    const garbage = [
      Buffer.from('not a dns packet'),
      Buffer.alloc(0),
      Buffer.from([0, 1, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 255, 255]),
      Buffer.alloc(600, 0xab),
    ];
    for (const packet of garbage) {
      await new Promise((resolve) =>
        socket.send(packet, fleet.multicastPort, '239.255.49.83', resolve),
      );
    }
    socket.close();
    await waitFor(
      async () =>
        (await node.metric('diststore_packets_dropped_total', 'reason="malformed"')) >=
        droppedBefore + garbage.length,
      'the garbage to be counted',
    );
    const posted = await node.post('/post', { key: 'still', value: 'alive' });
    assert.equal(posted.status, 200);
    assert.equal(await (await node.get('/get/still')).text(), 'alive');
  });
});
