import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import packet, { type Packet } from 'dns-packet';
import { keyHash, type Message, Wire } from '../../cluster/wire.js';
import type { NodeProcess } from '../support/fleet.js';
import { useFleet } from '../support/use-fleet.js';
import { waitFor } from '../support/wait-for.js';

/**
 * A cluster without a secret against an attacker who reaches its group (a process on the same
 * host here; on a LAN, protected mode requires a secret). What the attacker can send is
 * checked for what it claims: who-has answers against their source address and the master
 * set, invalidations against the masters, announces against their source and the member cap.
 */

const GROUP = '239.255.49.83';

describe('forged packets without a secret', () => {
  const fleet = useFleet(3, { args: ['--max-members', '32', '--lookup-timeout-ms', '1000'] });
  let wire: Wire;
  let attacker: dgram.Socket;
  let masters: string[];
  let member: NodeProcess;
  before(async () => {
    wire = new Wire(fleet.cluster);
    // The attacker hears the group, as any host on the segment would, and sends to it.
    attacker = dgram.createSocket({ type: 'udp4', reuseAddr: true });
    await new Promise<void>((resolve) => attacker.bind(fleet.multicastPort, GROUP, resolve));
    attacker.addMembership(GROUP, '127.0.0.1');
    attacker.setMulticastInterface('127.0.0.1');
    masters = (await fleet.settled()).ids;
    member = fleet.nodes.find((n) => !masters.includes(n.id)) as NodeProcess;
  });
  after(async () => {
    attacker.close();
  });

  const send = (message: Message, port = fleet.multicastPort, address = GROUP) =>
    new Promise<void>((resolve) =>
      attacker.send(packet.encode(wire.encode(message) as Packet), port, address, () => resolve()),
    );
  const dropped = (node: NodeProcess, reason: string) =>
    node.metric('diststore_packets_dropped_total', `reason="${reason}"`);

  test('forged who-has answers to a real query are refused: other address, not a master, far future', async () => {
    let evilHits = 0;
    const evil = http.createServer((_req, res) => {
      evilHits++;
      res.setHeader('x-diststore-version', `${Date.now() + 1000}.0.evil`);
      res.end('planted');
    });
    await new Promise<void>((resolve) => evil.listen(0, '127.0.0.2', resolve));
    const evilPort = (evil.address() as AddressInfo).port;
    try {
      const writer = fleet.nodes.find((n) => masters.includes(n.id)) as NodeProcess;
      assert.equal((await writer.post('/post', { key: 'victim', value: 'real' })).status, 200);
      const hash = keyHash(fleet.cluster, 'victim');
      const has = (http: string, version: number, master: boolean): Message => ({
        kind: 'has',
        keyHash: hash,
        node: 'evil',
        http,
        version: { wall: version, counter: 0, node: 'evil' },
        master,
        valueHash: 'AAAAAAAAAAAAAAAAAAAAAA',
        deleted: false,
      });
      // Answer the member's who-has at its query socket, as fast as a host on the LAN could.
      const onQuery = (message: Buffer, rinfo: dgram.RemoteInfo) => {
        if (!message.toString('latin1').includes(hash)) return;
        const near = Date.now() + 1000;
        // 2130706434 is 127.0.0.2 written as one number: the packet comes from 127.0.0.1.
        void send(has(`2130706434:${evilPort}`, near, true), rinfo.port, rinfo.address);
        void send(has(`127.0.0.1:${evilPort}`, near, true), rinfo.port, rinfo.address);
        void send(
          has(`127.0.0.1:${evilPort}`, Date.now() + 86_400_000, false),
          rinfo.port,
          rinfo.address,
        );
      };
      const before = {
        mismatch: await dropped(member, 'address-mismatch'),
        notMaster: await dropped(member, 'not-master'),
        ahead: await member.metric('diststore_versions_refused_total', 'path="who-has"'),
      };
      attacker.on('message', onQuery);
      const read = await member.get('/get/victim');
      attacker.off('message', onQuery);
      assert.equal(await read.text(), 'real');
      await waitFor(
        async () =>
          (await dropped(member, 'address-mismatch')) > before.mismatch &&
          (await dropped(member, 'not-master')) > before.notMaster &&
          (await member.metric('diststore_versions_refused_total', 'path="who-has"')) >
            before.ahead,
        'the three forged answers to be refused, each for its reason',
      );
      assert.equal(evilHits, 0, 'nothing was fetched from the forger');
    } finally {
      evil.close();
    }
  });

  test("a master's own invalidations, looped back to it, are not counted as refused", async () => {
    const master = fleet.nodes.find((n) => n.id === masters[0]) as NodeProcess;
    const received = () =>
      master.metric('diststore_packets_total', 'direction="in",kind="invalidate"');
    const before = { refused: await dropped(master, 'not-master'), received: await received() };
    assert.equal((await master.post('/post', { key: 'own', value: 'x' })).status, 200);
    // Its own and the other master's: both have come back once two more are counted.
    await waitFor(async () => (await received()) >= before.received + 2, 'both invalidations');
    assert.equal(await dropped(master, 'not-master'), before.refused);
  });

  test('a forged invalidation never removes a post-local entry', async () => {
    assert.equal((await member.post('/post-local', { key: 'mine', value: 'kept' })).status, 200);
    const held = (await member.status()).store.primary;
    const newer = { wall: Date.now() + 1000, counter: 0, node: 'x' };
    const changes = [{ keyHash: keyHash(fleet.cluster, 'mine'), version: newer }];
    const notMaster = await dropped(member, 'not-master');
    await send({ kind: 'invalidate', seq: 1, node: 'evil', changes });
    await waitFor(async () => (await dropped(member, 'not-master')) > notMaster, 'the drop');
    // Claiming a master's id (possible here, where every node shares the attacker's address):
    // taken as news that a newer version exists, never as a reason to destroy data.
    await send({ kind: 'invalidate', seq: 1, node: masters[0] as string, changes });
    await send({ kind: 'invalidate', seq: 1, node: masters[1] as string, changes });
    await waitFor(
      async () => (await member.get('/get-local/mine')).status === 404,
      'the claimed invalidation to mark the entry',
    );
    assert.equal((await member.status()).store.primary, held, 'still held');
    assert.equal(await (await member.get('/get/mine')).text(), 'kept', 'nobody has newer: kept');
  });

  test('a flood of forged announces stops at --max-members; a wrong address is refused', async () => {
    const before = (await member.status()).masters;
    for (let i = 0; i < 2000; i++) {
      await send({
        kind: 'announce',
        node: `fake-${i}`,
        http: `127.0.0.1:${10_000 + i}`,
        keys: 1_000_000 + i,
        epoch: before.epoch,
        masters: before.ids,
        quorum: true,
        inv: 0,
        state: 'ready',
        boot: 'b',
      });
    }
    const elsewhere = await dropped(member, 'address-mismatch');
    await send({
      kind: 'announce',
      node: 'far-away',
      http: '198.18.7.7:8181',
      keys: 0,
      epoch: before.epoch + 10,
      masters: ['far-away'],
      quorum: true,
      inv: 0,
      state: 'ready',
      boot: 'b',
    });
    await waitFor(async () => (await dropped(member, 'too-many-members')) > 0, 'the cap to act');
    await waitFor(async () => (await dropped(member, 'address-mismatch')) > elsewhere, 'the drop');
    const status = await member.status();
    assert.ok(status.members.length <= 32, `${status.members.length} members`);
    const real = fleet.nodes.map((n) => n.id);
    assert.ok(
      status.masters.ids.every((id) => real.includes(id)),
      `no forged member became master: ${status.masters.ids}`,
    );
    assert.ok(JSON.stringify(status).length < 16_000, '/status stays small');
  });
});
