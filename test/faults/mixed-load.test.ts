import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { Fleet, type NodeProcess } from '../support/fleet.js';
import { waitFor } from '../support/wait-for.js';

/** 60 s by default, as the reliability figures say; shorter for a quick local run. */
const SECONDS = Number(process.env.DISTSTORE_SOAK_SECONDS ?? 60);
const CLIENTS = 6;
const KEYS = 500;

/**
 * A mixed load of gets, posts and deletes from several clients on every node: no 5xx, no
 * leaked sockets or timers, a stable heap.
 */
test(`${SECONDS} s of mixed load: no 5xx, no leaks, heap stable`, {
  timeout: (SECONDS + 120) * 1000,
}, async () => {
  const fleet = await Fleet.start(3);
  after(() => fleet.close());
  const sample = async (node: NodeProcess) => ({
    handles: await node.metric('nodejs_active_handles_total'),
    heap: await node.metric('nodejs_heap_size_used_bytes'),
  });
  const baseline = await Promise.all(fleet.nodes.map(sample));
  const statuses = new Map<number, number>();
  let operations = 0;
  const deadline = Date.now() + SECONDS * 1000;
  let warmHeap: number[] | undefined;
  const client = async (c: number) => {
    for (let i = 0; Date.now() < deadline && i < 1_000_000; i++) {
      const node = fleet.node((c + i) % 3);
      const key = `load-${(c * 7919 + i * 104729) % KEYS}`;
      const roll = (c + i * 31) % 10;
      const response =
        roll < 6
          ? await node.get(`/get/${key}`)
          : roll < 9
            ? await node.post('/post', { key, value: `v${i}`.repeat(1 + (i % 20)) })
            : await fetch(node.url(`/keys/${key}`), { method: 'DELETE' });
      await response.arrayBuffer();
      statuses.set(response.status, (statuses.get(response.status) ?? 0) + 1);
      operations++;
    }
  };
  const warmUp = setTimeout(
    async () => {
      warmHeap = (await Promise.all(fleet.nodes.map(sample))).map((s) => s.heap);
    },
    (SECONDS * 1000) / 3,
  );
  await Promise.all(Array.from({ length: CLIENTS }, (_, c) => client(c)));
  clearTimeout(warmUp);
  const end = await Promise.all(fleet.nodes.map(sample));
  const fiveXx = [...statuses].filter(([s]) => s >= 500).reduce((n, [, count]) => n + count, 0);
  console.log(
    `FIGURE mixed-load seconds=${SECONDS} operations=${operations} ops_per_s=${Math.round(operations / SECONDS)} statuses=${JSON.stringify(Object.fromEntries(statuses))} heap_mb_warm=${(warmHeap ?? []).map((h) => (h / 1e6).toFixed(0)).join('/')} heap_mb_end=${end.map((s) => (s.heap / 1e6).toFixed(0)).join('/')}`,
  );
  assert.equal(fiveXx, 0, 'no 5xx');
  for (const [i, s] of end.entries()) {
    const warm = warmHeap?.[i] ?? (baseline[i] as { heap: number }).heap;
    assert.ok(s.heap < warm * 1.5 + 30e6, `node ${i} heap ${s.heap} vs ${warm} a third in`);
  }
  // Idle connections close after the keep-alive timeout; what is left must be the baseline.
  for (const [i, node] of fleet.nodes.entries()) {
    const before = (baseline[i] as { handles: number }).handles;
    await waitFor(
      async () => (await node.metric('nodejs_active_handles_total')) <= before + 4,
      `node ${i} to be back to ${before} handles`,
      20_000,
    );
  }
});
