import assert from 'node:assert/strict';
import { type TestContext, test } from 'node:test';
import { makeEntry } from '../../cluster/entry.js';
import type { DistNode } from '../../cluster/node.js';
import { compareVersions, formatVersion } from '../../cluster/version.js';
import { InProcessCluster } from '../support/in-process-cluster.js';

/**
 * Writes are ordered by the masters, not by the writers' clocks: the write answered last
 * wins on every node, and a node whose clock is off the cluster's says so. In one process,
 * in simulated time; the node clocks are moved, not the timers.
 */

const HOUR = 3_600_000;

/** Masters a and c; b, a member, with its clock `skewMs` off theirs. */
async function withSkewedMember(t: TestContext, skewMs: number) {
  const cluster = new InProcessCluster();
  t.after(() => cluster.close());
  await cluster.start('a', 'c');
  await cluster.until(() => cluster.agreed(), 'a and c masters');
  await cluster.startWith({ skewMs: (id) => (id === 'b' ? skewMs : 0) }, 'b');
  await cluster.until(() => cluster.agreed(), 'b joined');
  assert.deepEqual(cluster.node('b').masterSet.ids, ['a', 'c']);
  // One announce interval more: b has heard the others' clocks at a tick.
  await cluster.advance(50);
  return { cluster, a: cluster.node('a'), b: cluster.node('b'), c: cluster.node('c') };
}

async function write(cluster: InProcessCluster, node: DistNode, key: string, value: string) {
  return cluster.run(node.write(key, Buffer.from(value), 'text/plain'), `write on ${node.id}`);
}

async function valuesOf(cluster: InProcessCluster, key: string) {
  const values: string[] = [];
  for (const id of ['a', 'b', 'c']) {
    const entry = await cluster.run(cluster.node(id).read(key), `read on ${id}`);
    values.push(`${id}=${entry?.value.toString()}`);
  }
  return values.join(' ');
}

test('sequential writes across a node an hour behind end with the later value everywhere', async (t) => {
  const { cluster, a, b } = await withSkewedMember(t, -HOUR);

  const first = await write(cluster, a, 'k', 'v1');
  const second = await write(cluster, b, 'k', 'v2');
  assert.ok(compareVersions(second.version, first.version) > 0, 'the later write is newer');
  assert.equal(await valuesOf(cluster, 'k'), 'a=v2 b=v2 c=v2');

  // A key b never held, and then back the other way.
  await write(cluster, a, 'fresh', 'v1');
  await write(cluster, b, 'fresh', 'v2');
  assert.equal(await valuesOf(cluster, 'fresh'), 'a=v2 b=v2 c=v2');
  await write(cluster, a, 'fresh', 'v3');
  assert.equal(await valuesOf(cluster, 'fresh'), 'a=v3 b=v3 c=v3');
});

test('a write the masters hold a newer version of is stamped above it and wins', async (t) => {
  const { cluster, a, b, c } = await withSkewedMember(t, 0);
  // A write from a node whose clock runs 10 s ahead (within --max-clock-skew) reached the
  // masters first: its version is ahead of every other writer's clock.
  const ahead = { wall: cluster.clock.now() + 10_000, counter: 0, node: 'd' };
  const entry = makeEntry(Buffer.from('from the future'), 'text/plain', ahead);
  for (const master of [a, c]) {
    await cluster.run(
      master.applyReplicas(
        (async function* () {
          yield ['k', entry] as [string, typeof entry];
        })(),
      ),
    );
  }

  const result = await write(cluster, b, 'k', 'later');
  assert.ok(
    compareVersions(result.version, ahead) > 0,
    `stamped above ${formatVersion(ahead)}: ${formatVersion(result.version)}`,
  );
  assert.equal(await valuesOf(cluster, 'k'), 'a=later b=later c=later');
  const restamps = await b.metrics.restamps.get();
  assert.equal(restamps.values[0]?.value, 1);
});

test('a node whose clock is off the cluster median reports it; the others do not', async (t) => {
  const { a, b } = await withSkewedMember(t, -HOUR);

  const behind = b.status();
  assert.equal(behind.clock.off, true);
  assert.ok(
    Math.abs((behind.clock.offsetSeconds ?? 0) + 3600) < 1,
    `${behind.clock.offsetSeconds}`,
  );
  const seenFromA = a.status().members.find((m) => m.id === 'b');
  assert.ok(Math.abs((seenFromA?.clockOffsetSeconds ?? 0) + 3600) < 1);
  assert.equal(a.status().clock.off, false);
  assert.equal(a.status().clock.offsetSeconds, 0);
  const gauge = await b.metrics.registry.getSingleMetricAsString('diststore_clock_offset_seconds');
  assert.match(gauge, /diststore_clock_offset_seconds -3600/);
});
