import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import dgram from 'node:dgram';
import { after, test } from 'node:test';
import packet from 'dns-packet';
import { keyHash, Wire } from '../../cluster/wire.js';
import { Fleet } from '../support/fleet.js';
import { waitFor } from '../support/wait-for.js';

const PACKETS = 100_000;

/**
 * 100 000 random and mutated DNS packets sent by unicast to a node's UDP port on loopback:
 * the node keeps answering HTTP, its memory stays bounded, and every packet is accounted
 * for as either accepted or dropped.
 */
test('a flood of random and mutated packets is counted, dropped, and survived', async () => {
  // Announces every 60 s: the node's own traffic stays out of the count.
  const fleet = await Fleet.start(1, { announceMs: 60_000 });
  after(() => fleet.close());
  const node = fleet.node(0);
  await node.post('/post', { key: 'kept', value: 'safe' });
  // The write's own invalidation comes back by multicast loopback: in before the count starts.
  await waitFor(
    async () =>
      (await node.metric('diststore_packets_total', 'direction="in",kind="invalidate"')) >= 1,
    'the invalidation of the write to come back',
  );
  const wire = new Wire(fleet.cluster);
  const templates = [
    wire.encode({ kind: 'who-has', keyHash: keyHash(fleet.cluster, 'kept') }),
    wire.encode({ kind: 'census' }),
    wire.encode({ kind: 'absent', keyHash: keyHash(fleet.cluster, 'x'), node: 'n' }),
  ].map((p) => packet.encode(p));

  const counters = async () => {
    const text = await (await node.get('/metrics')).text();
    const sum = (prefix: string) =>
      text
        .split('\n')
        .filter((l) => l.startsWith(prefix))
        .reduce((total, l) => total + Number(l.split(' ')[1]), 0);
    return {
      in: sum('diststore_packets_total{direction="in"'),
      // Minus address-mismatch: those answers were accepted (counted in) before being ignored.
      dropped:
        sum('diststore_packets_dropped_total') -
        sum('diststore_packets_dropped_total{reason="address-mismatch"'),
      rss: sum('process_resident_memory_bytes'),
    };
  };
  const before = await counters();
  const socket = dgram.createSocket('udp4');
  // To the group on the loopback interface: the node's listener takes nothing else.
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
  socket.setMulticastInterface('127.0.0.1');
  let sent = 0;
  for (let i = 0; i < PACKETS; i++) {
    let datagram: Buffer;
    if (i % 2 === 0) {
      datagram = randomBytes(1 + (i % 512));
    } else {
      // A valid packet with a few bytes flipped: parses sometimes, lies often.
      datagram = Buffer.from(templates[i % templates.length] as Buffer);
      for (let f = 0; f < 1 + (i % 3); f++) {
        const at = (i * 7 + f * 13) % datagram.length;
        datagram.writeUInt8((datagram.readUInt8(at) ^ (1 + (i % 255))) & 0xff, at);
      }
    }
    await new Promise((resolve) =>
      socket.send(datagram, fleet.multicastPort, '239.255.49.83', resolve),
    );
    sent++;
    // Paced so that the kernel's receive buffer, not the node, is never the one dropping.
    if (i % 500 === 499) {
      await new Promise((resolve) => setTimeout(resolve, 5));
      assert.equal((await node.get('/health')).status, 200);
    }
  }
  socket.close();
  let after_ = await counters();
  const deadline = Date.now() + 20_000;
  while (after_.in + after_.dropped - before.in - before.dropped < sent && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 100));
    after_ = await counters();
  }
  const accepted = after_.in - before.in;
  const dropped = after_.dropped - before.dropped;
  const rssGrowthMb = (after_.rss - before.rss) / 1024 / 1024;
  console.log(
    `FIGURE packet-flood sent=${sent} dropped=${dropped} accepted=${accepted} rss_growth_mb=${rssGrowthMb.toFixed(1)}`,
  );
  assert.equal(accepted + dropped, sent, 'every packet is accounted for');
  assert.ok(rssGrowthMb < 100, `memory stays bounded (${rssGrowthMb.toFixed(1)} MB more)`);
  assert.equal(await (await node.get('/get/kept')).text(), 'safe');
});
