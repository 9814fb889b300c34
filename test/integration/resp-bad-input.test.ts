import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { useFleet } from '../support/use-fleet.js';
import { ioredis, RawClient } from './resp-support.js';

/** Bad bytes on the RESP port: refused or closed, one connection at a time, and counted. */
describe('RESP port under bad input', () => {
  let port: number;
  const raws: RawClient[] = [];
  const raw = async () => {
    const client = new RawClient(port);
    raws.push(client);
    await client.ready;
    return client;
  };
  // Registered first: the clients go before the fleet stops (hooks run in this order).
  after(() => {
    for (const r of raws) r.close();
  });
  const fleet = useFleet(1, {
    resp: true,
    args: ['--max-key-bytes', '16', '--max-value-bytes', '1000'],
  });
  before(() => {
    port = fleet.node(0).respPort;
  });
  const metric = (name: string, labels = '') => fleet.node(0).metric(name, labels);

  test('inline commands work as in Redis (telnet, redis-benchmark ping_inline)', async () => {
    const c = await raw();
    c.send("PING\r\nset inline \"two words\"\r\nGET inline\r\n\r\nECHO 'it\\'s'\r\n");
    await c.receive("+PONG\r\n+OK\r\n$9\r\ntwo words\r\n$4\r\nit's\r\n");
  });

  test('a value over the limit is refused from its declared length; the connection goes on', async () => {
    const c = await raw();
    // 2 MB declared, a few bytes sent: the refusal does not wait for (or keep) the body.
    c.send('*3\r\n$3\r\nSET\r\n$3\r\nbig\r\n$2000000\r\nxxxx');
    await c.receive('-ERR the value is 2000000 bytes; the limit is 1000\r\n');
    // The rest of the body is skipped as it comes; the next command is answered.
    c.send(Buffer.alloc(2_000_000 - 4, 0x78));
    c.send('\r\n*2\r\n$3\r\nGET\r\n$3\r\nbig\r\nPING\r\n');
    await c.receive('$-1\r\n+PONG\r\n');
    assert.equal(c.closedByServer, false);
    assert.ok((await metric('diststore_resp_refusals_total', 'reason="value_too_large"')) >= 1);
    // Under the limit is fine; a key over 16 bytes is refused.
    const r = ioredis(port);
    try {
      assert.equal(await r.set('small', 'v'.repeat(1000)), 'OK');
      await assert.rejects(r.set('k'.repeat(17), 'v'), /the key is 17 bytes; the limit is 16/);
    } finally {
      r.disconnect();
    }
  });

  test('malformed streams close that connection only, answering what came before', async () => {
    const bystander = await raw();
    const before = await metric('diststore_resp_protocol_errors_total');
    const cases: [string, string][] = [
      ['*1\r\n$4\r\nPING\r\n*2\r\n$3\r\nGET\r\n$99999999999\r\n', 'invalid bulk length'],
      ['*1\r\n$4\r\nPING\r\n*2\r\n$3\r\nGET\r\n:1\r\n', "expected '$', got ':'"],
      ['*1\r\n$4\r\nPING\r\n*2\r\n$3\r\nGET\r\n$1\r\nkXX', 'bad bulk end'],
      ['*1\r\n$4\r\nPING\r\n*x\r\n', 'invalid multibulk length'],
      ['*1\r\n$4\r\nPING\r\n*99999999\r\n', 'invalid multibulk length'],
      ['*1\r\n$4\r\nPING\r\nSET k "unbalanced\r\n', 'unbalanced quotes in request'],
      [`*1\r\n$4\r\nPING\r\n${'x'.repeat(70_000)}`, 'too big inline request'],
    ];
    for (const [bytes, message] of cases) {
      const c = await raw();
      c.send(bytes);
      await c.receive(`+PONG\r\n-ERR Protocol error: ${message}\r\n`);
      await c.closed();
    }
    assert.equal(await metric('diststore_resp_protocol_errors_total'), before + cases.length);
    bystander.send('PING\r\n');
    await bystander.receive('+PONG\r\n');
  });

  test('truncated frames wait for the rest; a client that goes away changes nothing', async () => {
    const c = await raw();
    c.send('*3\r\n$3\r\nSET\r\n$5\r\ntrunc\r\n$5\r\nab');
    // Split anywhere, even inside a length line, the command completes when the rest comes.
    c.send('c');
    c.send('de\r\n*2\r\n$3\r\nGET\r\n$');
    c.send('5\r\ntrunc\r\n');
    await c.receive('+OK\r\n$5\r\nabcde\r\n');
    const gone = await raw();
    gone.send('*3\r\n$3\r\nSET\r\n$6\r\nhalf-k\r\n$10\r\n12345');
    gone.close();
    const r = ioredis(port);
    try {
      assert.equal(await r.get('half-k'), null);
      assert.equal(await r.ping(), 'PONG');
    } finally {
      r.disconnect();
    }
  });

  test('unknown commands and wrong arity answer errors in Redis form', async () => {
    const c = await raw();
    c.send('FLUSHALL\r\nGET\r\nGET a b\r\nHGET h f\r\n*0\r\nPING\r\n');
    await c.receive(
      "-ERR unknown command 'FLUSHALL', with args beginning with: \r\n" +
        "-ERR wrong number of arguments for 'get' command\r\n" +
        "-ERR wrong number of arguments for 'get' command\r\n" +
        "-ERR diststore holds strings only: 'hget' is not supported\r\n" +
        '+PONG\r\n',
    );
    assert.equal(c.closedByServer, false);
  });
  // Last: it stops the node.
  test('SIGTERM: open connections are closed after their answers, the node exits 0', async () => {
    const c = await raw();
    c.send('PING\r\n');
    await c.receive('+PONG\r\n');
    const exited = fleet.node(0).stop('SIGTERM');
    await c.closed();
    assert.equal(await exited, 0);
    await assert.rejects(new RawClient(port).ready, /ECONNREFUSED/);
  });
});
