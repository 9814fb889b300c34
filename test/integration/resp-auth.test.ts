import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Redis } from 'ioredis';
import { requireTools } from '../support/require-tool.js';
import { useFleet } from '../support/use-fleet.js';
import { ioredis, RawClient, REDIS_CLI, redisCli } from './resp-support.js';

const TOKEN = 'resp-client-token-0123456789';

/** With --client-token, the RESP port wants AUTH first, as Redis with requirepass does. */
describe('RESP port with a client token', () => {
  let port: number;
  const clients: Redis[] = [];
  // Registered first: the clients go before the fleet stops (hooks run in this order).
  after(() => {
    for (const c of clients) c.disconnect();
  });
  const fleet = useFleet(1, { resp: true, token: TOKEN });
  before(() => {
    port = fleet.node(0).respPort;
  });

  test('before AUTH every command but AUTH, HELLO and QUIT answers NOAUTH', async () => {
    const raw = new RawClient(port);
    await raw.ready;
    raw.send(
      '*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$1\r\nv\r\nGET k\r\nPING\r\nINFO\r\nCLIENT ID\r\nLPUSH k x\r\n',
    );
    await raw.receive('-NOAUTH Authentication required.\r\n'.repeat(6));
    raw.send('HELLO 3\r\n');
    await raw.receive('-NOAUTH HELLO must be called with the client already authenticated');
    raw.send(`AUTH wrong-token\r\nAUTH someone ${TOKEN}\r\nAUTH ${TOKEN}\r\nGET k\r\n`);
    await raw.receive(
      '-WRONGPASS invalid username-password pair or user is disabled.\r\n'.repeat(2) +
        '+OK\r\n$-1\r\n',
    );
    raw.send('QUIT\r\n');
    await raw.closed();
    // Nothing was written before AUTH.
    assert.equal((await fleet.node(0).get('/get-local/k')).status, 404);
    assert.ok(
      (await fleet.node(0).metric('diststore_resp_refusals_total', 'reason="no_auth"')) >= 7,
    );
    assert.ok(
      (await fleet.node(0).metric('diststore_resp_refusals_total', 'reason="wrong_password"')) >= 2,
    );
  });

  test('AUTH default <token>, HELLO 3 AUTH, and ioredis with a password', async () => {
    const raw = new RawClient(port);
    await raw.ready;
    raw.send(`HELLO 3 AUTH default ${TOKEN} SETNAME authed\r\nCLIENT GETNAME\r\nGET nothing\r\n`);
    await raw.receive('$6\r\nauthed\r\n_\r\n');
    assert.match(raw.text, /^%8\r\n/);
    raw.close();

    // ioredis without the password: its HELLO (or first command) is refused; nothing is read.
    const noPassword = ioredis(port, { lazyConnect: true });
    clients.push(noPassword);
    noPassword.on('error', () => {});
    await assert.rejects(async () => {
      await noPassword.connect();
      await noPassword.get('k');
    }, /NOAUTH|Connection is closed/);

    const r = ioredis(port, { password: TOKEN });
    clients.push(r);
    assert.equal(await r.set('authed-key', 'v'), 'OK');
    assert.equal(await r.get('authed-key'), 'v');
    const withUser = ioredis(port, { username: 'default', password: TOKEN });
    clients.push(withUser);
    assert.equal(await withUser.get('authed-key'), 'v');
    // A wrong password: ioredis reports the server's WRONGPASS and gives up the connection.
    const wrong = ioredis(port, { password: 'not-the-token', lazyConnect: true });
    clients.push(wrong);
    const errors: string[] = [];
    wrong.on('error', (e) => errors.push(String(e)));
    await assert.rejects(wrong.connect());
    assert.ok(
      errors.some((e) => e.includes('WRONGPASS')),
      errors.join(),
    );
  });

  test('redis-cli -a <token>', {
    skip: requireTools('RESP AUTH with redis-cli', [REDIS_CLI], ['redis-tools']),
  }, async () => {
    const denied = await redisCli(port, ['GET', 'authed-key']);
    assert.match(denied.stdout, /NOAUTH Authentication required/);
    const allowed = await redisCli(port, ['--no-auth-warning', '-a', TOKEN, 'GET', 'authed-key']);
    assert.equal(allowed.stdout, 'v\n');
  });
});
