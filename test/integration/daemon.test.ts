import assert from 'node:assert/strict';
import { fork } from 'node:child_process';
import { describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { isReadyMessage, type ReadyMessage } from '../../server/ready-message.js';
import { runDaemon as run } from '../support/fleet.js';
import { freePort } from '../support/free-port.js';
import { useFleet } from '../support/use-fleet.js';

describe('diststored refuses bad configuration', () => {
  const cases: [string, string[], Record<string, string>, RegExp][] = [
    ['an unknown flag', ['--colour', 'red'], {}, /--colour/],
    ['a port that is not a number', ['--port', 'abc'], {}, /--port/],
    ['a port out of range', ['--port', '70000'], {}, /--port/],
    ['a group that is not multicast', ['--multicast-group', '10.1.2.3'], {}, /--multicast-group/],
    [
      'an interface that is not an address',
      ['--multicast-interface', 'eth0'],
      {},
      /--multicast-interface/,
    ],
    ['a bad write-acks mode', ['--write-acks', 'most'], {}, /--write-acks/],
    [
      'a bad value in a variable',
      [],
      { DISTSTORE_LOOKUP_TIMEOUT_MS: 'soon' },
      /DISTSTORE_LOOKUP_TIMEOUT_MS|--lookup-timeout-ms/,
    ],
    ['binding everywhere without an advertised address', ['--bind', '0.0.0.0'], {}, /--advertise/],
    // Protected mode: refused before anything is bound (192.0.2.0/24 is documentation-only).
    [
      'a LAN address without a secret (protected mode)',
      ['--bind', '192.0.2.10'],
      {},
      /protected mode.*--secret-file.*--insecure/,
    ],
    [
      'multicast on a LAN interface without a secret, insecure switched off',
      ['--multicast-interface', '192.0.2.10'],
      { DISTSTORE_INSECURE: '0' },
      /protected mode.*DISTSTORE_INSECURE=1/,
    ],
  ];
  for (const [name, args, env, message] of cases) {
    test(`${name}: exit 2 with a message naming the option`, async () => {
      const { code, stderr } = await run(args, env);
      assert.equal(code, 2);
      assert.match(stderr, message);
    });
  }
});

describe('diststored --port 0 --resp-port 0', () => {
  const fleet = useFleet(1, { resp: true });

  test('reports the ports it bound, and its id and /status name the real HTTP port', async () => {
    const node = fleet.node(0);
    assert.notEqual(node.port, 0);
    assert.notEqual(node.respPort, 0);
    assert.notEqual(node.respPort, node.port);
    assert.equal(node.id, `127.0.0.1:${node.port}`);
    const status = await node.status();
    assert.equal(status.node.id, `127.0.0.1:${node.port}`);
    assert.equal(status.node.http, `127.0.0.1:${node.port}`);
    assert.equal(status.members.find((m) => m.id === node.id)?.http, `127.0.0.1:${node.port}`);
    assert.equal((await node.get('/health')).status, 200);
  });

  test('a second node on port 0 gets a port of its own and joins the first', async () => {
    const second = await fleet.add();
    assert.notEqual(second.port, fleet.node(0).port);
    const masters = await fleet.settled();
    assert.deepEqual([...masters.ids].sort(), fleet.nodes.map((n) => n.id).sort());
  });
});

describe('the ready message', () => {
  test('carries the ports, before the plain string pm2 waits for', async () => {
    const main = fileURLToPath(new URL('../../server/main.ts', import.meta.url));
    const args = ['--port', '0', '--cluster', `ready-${process.pid}`, '--log-level', 'warn'];
    args.push('--multicast-port', String(await freePort('udp')));
    const child = fork(main, args, {
      execArgv: ['--import', 'tsx'],
      stdio: ['ignore', 'ignore', 'ignore', 'ipc'],
    });
    const exited = new Promise((resolve) => child.once('exit', resolve));
    const messages: unknown[] = [];
    try {
      await new Promise<void>((resolve, reject) => {
        child.on('message', (message) => {
          messages.push(message);
          if (message === 'ready') resolve();
        });
        child.once('exit', (code) => reject(new Error(`exited with ${code}`)));
      });
    } finally {
      child.kill('SIGTERM');
      await exited;
    }
    assert.equal(messages.length, 2);
    assert.ok(isReadyMessage(messages[0]));
    const ready = messages[0] as ReadyMessage;
    assert.notEqual(ready.port, 0);
    assert.equal(ready.http, `127.0.0.1:${ready.port}`);
    assert.equal(ready.id, ready.http);
    assert.equal(ready.respPort, undefined);
  });
});
