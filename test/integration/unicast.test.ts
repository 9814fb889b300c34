import assert from 'node:assert/strict';
import { afterEach, describe, test } from 'node:test';
import { Fleet, type NodeProcess } from '../support/fleet.js';
import { freePort } from '../support/free-port.js';
import { waitFor } from '../support/wait-for.js';

/** Three nodes that never use multicast: each has its own UDP port and knows some peers. */
async function unicastFleet(peersOf: (ports: number[], index: number) => number[]): Promise<Fleet> {
  const ports = await Promise.all([0, 1, 2].map(() => freePort('udp')));
  return Fleet.start(3, {
    perNode: (i) => [
      '--no-multicast',
      '--multicast-port',
      String(ports[i]),
      '--peers',
      peersOf(ports, i)
        .map((port) => `127.0.0.1:${port}`)
        .join(','),
    ],
  });
}

describe('unicast fallback (--no-multicast --peers)', () => {
  let fleet: Fleet | undefined;
  afterEach(() => fleet?.close());

  test('a fleet without multicast elects, replicates, looks up and fails over', async () => {
    fleet = await unicastFleet((ports) => ports);
    const masters = await fleet.settled();
    const member = fleet.nodes.find((n) => !masters.ids.includes(n.id)) as NodeProcess;
    const master = fleet.masterNodes(masters)[0] as NodeProcess;
    assert.equal((await master.post('/post', { key: 'u', value: 'unicast' })).status, 200);
    assert.equal(await (await member.get('/get/u')).text(), 'unicast');
    assert.equal(
      (await member.metric('diststore_packets_total', 'direction="out",kind="who-has"')) > 0,
      true,
    );

    await master.stop('SIGKILL');
    const next = await fleet.settled();
    assert.ok(!next.ids.includes(master.id));
    for (const node of fleet.alive)
      assert.equal(await (await node.get('/get/u')).text(), 'unicast');
  });

  test('a node that knows one peer learns the others from it', async () => {
    // Nodes 0 and 1 are told only of each other; node 2 only of node 0. Node 0 hears node 2,
    // reports it to node 1 and node 1 to node 2, so every node ends up knowing all three.
    fleet = await unicastFleet((ports, i) => [ports[i === 0 ? 1 : 0] as number]);
    for (const node of fleet.nodes) {
      await waitFor(async () => {
        const members = (await node.status()).members.filter((m) => m.alive);
        return members.length === 3;
      }, `${node.id} to see all three members`);
    }
  });
});
