import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { Fleet, type NodeProcess } from '../support/fleet.js';
import { netnsDown, netnsSkipReason, netnsUp } from './harness.js';

/**
 * A default node (HTTP and multicast on loopback, no secret) against an attacker on another
 * host: the attacker lives in a network namespace this test makes (scripts/netns-fleet, one
 * host, no node started there), routed to this namespace's side of the link. It sends forged
 * announces (a higher epoch naming itself master), census and who-has answers by unicast to
 * every UDP port the node holds, at the address it can reach, and tries its HTTP port. Before
 * the listener was bound to the group address this made the node adopt the attacker as master.
 */

const WIRE = fileURLToPath(new URL('../../cluster/wire.ts', import.meta.url));
const run = promisify(execFile);

describe('takeover of a loopback node from another host', {
  skip: netnsSkipReason(),
  timeout: 120_000,
}, () => {
  const name = `takeover-${process.pid}`;
  let fleet: Fleet;
  let node: NodeProcess;
  let attackerNs: string;
  let reachable: string;
  before(async () => {
    const info = await netnsUp(1, name);
    attackerNs = info.nodes[0]?.namespace as string;
    // This namespace's end of the link: the one address of ours the attacker can reach.
    reachable = info.root.address;
    fleet = await Fleet.start(1);
    node = fleet.node(0);
  });
  after(async () => {
    await fleet?.close();
    await netnsDown(name).catch(() => {});
  });

  test('forged unicast packets to every UDP port and the HTTP port reach nothing', async () => {
    const before = await node.status();
    const { stdout: sockets } = await run('ss', ['-Hnuap']);
    const ports = [
      ...new Set(
        sockets
          .split('\n')
          .filter((line) => line.includes(`pid=${node.child.pid},`))
          .map((line) => Number(/:(\d+)\s+\S+:\*/.exec(line)?.[1]))
          .filter((port) => port > 0),
      ),
    ];
    assert.ok(ports.length >= 2, `the node's UDP ports: ${ports}`);
    const evil = `${reachable}:9`;
    const attack = `
      const dgram = require('node:dgram');
      import(${JSON.stringify(WIRE)}).then(({ Wire, keyHash }) => {
        const packet = require('dns-packet');
        const wire = new Wire(${JSON.stringify(fleet.cluster)});
        const forged = [
          { kind: 'announce', node: 'evil', http: ${JSON.stringify(evil)}, keys: 1e9, epoch: 1e6,
            masters: ['evil', 'evil2'], state: 'ready', boot: 'b' },
          { kind: 'census' },
          { kind: 'has', keyHash: keyHash(${JSON.stringify(fleet.cluster)}, 'k'), node: 'evil',
            http: ${JSON.stringify(evil)}, version: { wall: Date.now(), counter: 0, node: 'evil' },
            master: true, valueHash: 'h', deleted: false },
        ];
        const socket = dgram.createSocket('udp4');
        let left = 0;
        for (let round = 0; round < 20; round++)
          for (const port of ${JSON.stringify(ports)})
            for (const message of forged) {
              left++;
              socket.send(packet.encode(wire.encode(message)), port, ${JSON.stringify(reachable)}, () => {
                if (--left === 0) socket.close();
              });
            }
      });
    `;
    await run(
      'ip',
      ['netns', 'exec', attackerNs, process.execPath, '--import', 'tsx', '-e', attack],
      {
        cwd: fileURLToPath(new URL('../../', import.meta.url)),
      },
    );
    const http = await run('ip', [
      'netns',
      'exec',
      attackerNs,
      process.execPath,
      '-e',
      `fetch('http://${reachable}:${node.port}/status', { signal: AbortSignal.timeout(2000) })
         .then(() => console.log('reached'), () => console.log('refused'))`,
    ]);
    assert.equal(http.stdout.trim(), 'refused', 'the HTTP port is on loopback only');
    // The node keeps announcing meanwhile: a fresh status shows whatever it took in.
    const after = await node.status();
    assert.deepEqual(after.masters, before.masters, 'no master set adopted from the attacker');
    assert.deepEqual(
      after.members.map((m) => m.id),
      [node.id],
      'no member learnt from the attacker',
    );
    assert.equal(
      await node.metric('diststore_packets_total', 'direction="in",kind="census"'),
      0,
      'not one forged packet was even received',
    );
  });
});
