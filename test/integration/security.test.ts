import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import packet, { type Packet } from 'dns-packet';
import { PacketSigner } from '../../cluster/signing.js';
import { keyHash, type Message, Wire } from '../../cluster/wire.js';
import type { NodeProcess } from '../support/fleet.js';
import { useFleet } from '../support/use-fleet.js';
import { waitFor } from '../support/wait-for.js';

const SECRET = 'integration-test-secret-0123456789';
const GROUP = '239.255.49.83';

describe('with --secret, cluster traffic is authenticated', () => {
  // A 1 s lookup timeout: under the forged flood below, on a loaded machine, real answers can
  // queue behind forged ones; what is tested is that no forged answer is ever accepted.
  const fleet = useFleet(3, { args: ['--secret', SECRET, '--lookup-timeout-ms', '1000'] });
  let socket: dgram.Socket;
  let wire: Wire;
  before(async () => {
    wire = new Wire(fleet.cluster);
    socket = dgram.createSocket('udp4');
    await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
    // Loopback only, like every test.
    socket.setMulticastInterface('127.0.0.1');
    socket.setMulticastTTL(0);
  });
  after(async () => {
    socket.close();
  });

  const sendToGroup = (p: Packet) =>
    new Promise((resolve) => socket.send(packet.encode(p), fleet.multicastPort, GROUP, resolve));
  const dropped = (node: NodeProcess, reason: string) =>
    node.metric('diststore_packets_dropped_total', `reason="${reason}"`);

  test('the fleet elects, replicates and looks up as usual', async () => {
    const [a, c] = [fleet.node(0), fleet.node(2)];
    assert.equal((await a.post('/post', { key: 'signed', value: 'ok' })).status, 200);
    const masters = (await a.status()).masters.ids;
    const reader = fleet.nodes.find((n) => !masters.includes(n.id)) ?? c;
    assert.equal(await (await reader.get('/get/signed')).text(), 'ok');
  });

  test('/internal/ refuses requests without the secret', async () => {
    const plain = await fleet.node(0).get('/internal/health');
    assert.equal(plain.status, 401);
    const forged = await fetch(fleet.node(0).url('/internal/health'), {
      headers: { 'x-diststore-auth': `${Date.now()}.bm90LWEtbWFj` },
    });
    assert.equal(forged.status, 401);
  });

  test('forged master sets (unsigned, wrong key) are dropped, never adopted', async () => {
    const node = fleet.node(1);
    const before = (await node.status()).masters;
    const evil: Message = {
      kind: 'announce',
      node: 'evil:1',
      http: '127.0.0.1:1',
      keys: 1_000_000,
      epoch: before.epoch + 100,
      masters: ['evil:1', 'evil:2'],
      quorum: true,
      inv: 0,
      state: 'ready',
      boot: 'x',
    };
    const unsignedBefore = await dropped(node, 'unsigned');
    const forgedBefore = await dropped(node, 'forged');
    await sendToGroup(wire.encode(evil));
    await sendToGroup(new PacketSigner('a-guessed-secret-that-is-wrong').sign(wire.encode(evil)));
    await waitFor(
      async () => (await dropped(node, 'unsigned')) > unsignedBefore,
      'the unsigned drop',
    );
    await waitFor(async () => (await dropped(node, 'forged')) > forgedBefore, 'the forged drop');
    for (const n of fleet.nodes) assert.deepEqual((await n.status()).masters, before);
  });

  test('a replayed packet is dropped', async () => {
    const node = fleet.node(0);
    const replayedBefore = await dropped(node, 'replayed');
    const census = new PacketSigner(SECRET).sign(wire.encode({ kind: 'census' }));
    await sendToGroup(census);
    await sendToGroup(census);
    await waitFor(
      async () => (await dropped(node, 'replayed')) > replayedBefore,
      'the replay drop',
    );
  });

  test('forged who-has answers cannot plant a value or send a reader elsewhere', async () => {
    let evilHits = 0;
    const evilServer = http.createServer((_req, res) => {
      evilHits++;
      res.end('planted');
    });
    await new Promise<void>((resolve) => evilServer.listen(0, '127.0.0.1', resolve));
    const evilPort = (evilServer.address() as AddressInfo).port;
    try {
      const masters = (await fleet.node(0).status()).masters.ids;
      const reader = fleet.nodes.find((n) => !masters.includes(n.id)) as NodeProcess;
      const writer = fleet.nodes.find((n) => n !== reader) as NodeProcess;
      await writer.post('/post', { key: 'victim', value: 'real' });
      const forged = wire.encode({
        kind: 'has',
        keyHash: keyHash(fleet.cluster, 'victim'),
        node: 'evil',
        http: `127.0.0.1:${evilPort}`,
        version: { wall: Date.now() + 3_600_000, counter: 0, node: 'evil' },
        master: true,
        valueHash: 'AAAAAAAAAAAAAAAAAAAAAA',
        deleted: false,
      });
      // A bounded flood of forged answers while the reader looks the key up. Sent to the group,
      // they are no answers to any query of the reader's: dropped before any signature check.
      const droppedBefore = await dropped(reader, 'unsolicited');
      let sending = true;
      const flood = (async () => {
        for (let i = 0; i < 2000 && sending; i++) {
          await sendToGroup(forged);
          await new Promise((resolve) => setTimeout(resolve, 1));
        }
      })();
      await waitFor(
        async () => (await dropped(reader, 'unsolicited')) > droppedBefore + 20,
        'the flood to reach the reader',
      );
      const read = await reader.get('/get/victim');
      sending = false;
      await flood;
      assert.equal(await read.text(), 'real');
      assert.equal(evilHits, 0);
      const rejected = (await dropped(reader, 'unsolicited')) - droppedBefore;
      console.log(
        `FIGURE forged-answers accepted=0 fetched_from_forger=${evilHits} unsolicited_dropped_by_reader=${rejected}`,
      );
    } finally {
      evilServer.close();
    }
  });
});
