import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { Fleet, type NodeProcess } from '../support/fleet.js';
import { waitFor } from '../support/wait-for.js';

/**
 * Writers post continuously to every node while a master is killed with SIGKILL. Every write
 * that was acknowledged (HTTP 200) must be readable afterwards from every survivor.
 */
test('acknowledged writes survive a master killed under load', async () => {
  // What is measured is durability, not lookup latency: on a loaded 2-core machine a who-has
  // answer can take longer than the default 100 ms, which would read as a (false) miss.
  const fleet = await Fleet.start(4, { args: ['--lookup-timeout-ms', '2000'] });
  after(() => fleet.close());
  const masters = await fleet.settled();
  const victim = fleet.masterNodes(masters)[0] as NodeProcess;
  const acked: string[] = [];
  let failed = 0;
  let stop = false;
  const writer = async (node: NodeProcess, w: number) => {
    // Bounded: at most 3000 writes per writer, and only until told to stop.
    for (let i = 0; i < 3000 && !stop; i++) {
      const key = `w${w}-${i}`;
      try {
        const response = await node.post('/post', { key, value: `v-${key}` });
        if (response.status === 200) acked.push(key);
        else failed++;
      } catch {
        return; // the killed node: its writer stops
      }
    }
  };
  const writers = fleet.nodes.map((node, w) => writer(node, w));
  const acknowledged = (atLeast: number) =>
    waitFor(() => acked.length >= atLeast, `${atLeast} acknowledged writes`, 30_000);
  await acknowledged(300);
  await victim.stop('SIGKILL');
  const killedAt = acked.length;
  await acknowledged(killedAt + 600);
  stop = true;
  await Promise.all(writers);
  await fleet.settled();

  let readable = 0;
  const missing: string[] = [];
  for (const node of fleet.alive) {
    for (let i = 0; i < acked.length; i += 100) {
      const batch = acked.slice(i, i + 100);
      const bodies = await Promise.all(
        batch.map(async (k) => (await node.get(`/get/${k}`)).text()),
      );
      bodies.forEach((body, j) => {
        if (body === `v-${batch[j]}`) readable++;
        else missing.push(`${batch[j]} on ${node.id}: ${body}`);
      });
    }
  }
  const survivors = fleet.alive.length;
  console.log(
    `FIGURE kill-master-under-writes acked=${acked.length} refused_by_live_nodes=${failed} readable_per_survivor=${readable / survivors} survivors=${survivors}`,
  );
  assert.deepEqual(missing, [], 'every acknowledged write is readable on every survivor');
  assert.equal(readable, acked.length * survivors);
});
