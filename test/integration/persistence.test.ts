import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { COMPACTION_DIR } from '../../cluster/data-file-compaction.js';
import { Fleet, type NodeProcess, runDaemon } from '../support/fleet.js';
import { looseDataDir, looseKey, looseValue } from '../support/loose-data-dir.js';
import { waitFor } from '../support/wait-for.js';

describe('persistence with --data-dir', () => {
  let root: string;
  before(async () => {
    root = await mkdtemp(join(tmpdir(), 'diststore-persist-'));
  });
  after(() => rm(root, { recursive: true, force: true }));

  /** Posts many keys spread over the nodes, 50 requests at a time. */
  async function writeMany(nodes: NodeProcess[], prefix: string, count: number): Promise<string[]> {
    const keys = Array.from({ length: count }, (_, i) => `${prefix}-${i}`);
    for (let start = 0; start < keys.length; start += 50) {
      await Promise.all(
        keys.slice(start, start + 50).map(async (key, i) => {
          const writer = nodes[(start + i) % nodes.length] as NodeProcess;
          const response = await writer.post('/post', { key, value: `v-${key}` });
          assert.equal(response.status, 200);
        }),
      );
    }
    return keys;
  }

  async function assertAllReadable(node: NodeProcess, keys: string[]): Promise<void> {
    for (let start = 0; start < keys.length; start += 100) {
      const bodies = await Promise.all(
        keys.slice(start, start + 100).map(async (key) => (await node.get(`/get/${key}`)).text()),
      );
      const wrong = bodies.findIndex((body, i) => body !== `v-${keys[start + i]}`);
      if (wrong >= 0) {
        // Say how the node's lookups ended, to tell a lost entry from a slow answer.
        const metrics = await (await node.get('/metrics')).text();
        const lookups = metrics.split('\n').filter((l) => l.startsWith('diststore_lookups_total'));
        assert.fail(
          `${keys[start + wrong]} on ${node.id}: ${bodies[wrong]} (${lookups.join(', ')})`,
        );
      }
    }
  }

  // This test is about durability, not lookup latency: 10 000 reads, 100 at a time, on a
  // loaded 2-core machine can delay who-has answers past the default 100 ms.
  const args = ['--lookup-timeout-ms', '2000'];
  for (const signal of ['SIGTERM', 'SIGKILL'] as const) {
    test(`10 000 keys survive a ${signal} of every node`, async () => {
      const dirs = [0, 1, 2].map((i) => join(root, `${signal}-node-${i}`));
      const fleet = await Fleet.start(3, { dataDirs: dirs, args });
      const keys = await writeMany(fleet.nodes, signal, 10_000);
      // Straight after the acknowledgements: a kill -9 must lose nothing acknowledged.
      await Promise.all(fleet.nodes.map((n) => n.stop(signal)));
      const again = await Fleet.start(3, { dataDirs: dirs, args });
      try {
        for (const node of again.nodes) {
          const { memory } = await node.status();
          assert.ok((memory.dataFileBytes ?? 0) > 0 && (memory.dataMapBytes ?? 0) > 0);
          const metrics = await (await node.get('/metrics')).text();
          assert.match(metrics, /^diststore_data_file_bytes [1-9]/m);
        }
        for (const node of again.nodes) await assertAllReadable(node, keys);
        console.log(
          `FIGURE full-restart signal=${signal} acked=${keys.length} readable_on_every_node=${keys.length} lost=0`,
        );
      } finally {
        await again.close();
      }
    });
  }

  test('a deleted key stays deleted after a restart of every node', async () => {
    const dirs = [0, 1, 2].map((i) => join(root, `delete-node-${i}`));
    const fleet = await Fleet.start(3, { dataDirs: dirs });
    await fleet.node(0).post('/post', { key: 'buried', value: 'x' });
    // Read on every node first, so that cached copies exist too.
    for (const node of fleet.nodes) assert.equal(await (await node.get('/get/buried')).text(), 'x');
    const deleted = await fetch(fleet.node(1).url('/keys/buried'), { method: 'DELETE' });
    assert.equal(deleted.status, 200);
    await Promise.all(fleet.nodes.map((n) => n.stop('SIGKILL')));
    const again = await Fleet.start(3, { dataDirs: dirs });
    try {
      for (const node of again.nodes) assert.equal((await node.get('/get/buried')).status, 404);
    } finally {
      await again.close();
    }
  });

  test('a node started on a loose data file compacts it and serves every entry', async () => {
    const dir = join(root, 'loose');
    // The same dir for the node and its restart, in one fleet: one cluster name, one hash.
    const fleet = new Fleet({ dataDirs: [dir, dir] });
    const held = await looseDataDir(dir, fleet.cluster, 30_000);
    const looseBytes = (await stat(join(dir, 'data.mdb'))).size;
    try {
      await fleet.open(1);
      const node = fleet.node(0);
      await waitFor(
        async () => (await node.metric('diststore_data_file_compactions_total')) === 1,
        'the data file to be compacted',
      );
      const { memory, store } = await node.status();
      assert.ok(
        (memory.dataFileBytes ?? looseBytes) < 0.8 * looseBytes,
        `${memory.dataFileBytes} of ${looseBytes} bytes`,
      );
      assert.equal(store.primary, held.size);
      for (const i of [0, 12_345, 29_999]) {
        assert.equal(await (await node.get(`/get-local/${looseKey(i)}`)).text(), looseValue(i));
      }
      assert.equal((await node.post('/post', { key: 'after', value: 'compaction' })).status, 200);
      await node.stop('SIGKILL');
      const again = await fleet.add();
      assert.equal(await (await again.get('/get-local/after')).text(), 'compaction');
      assert.equal(await (await again.get(`/get-local/${looseKey(7)}`)).text(), looseValue(7));
      assert.equal((await again.status()).store.primary, held.size + 1);
    } finally {
      await fleet.close();
    }
  });

  test('a node killed during its compaction starts again on its whole old file', async () => {
    const dir = join(root, 'killed-compacting');
    let forked: ChildProcess | undefined;
    const fleet = new Fleet({
      dataDirs: [dir, dir],
      onFork: (child) => {
        forked = child;
      },
    });
    const held = await looseDataDir(dir, fleet.cluster, 100_000);
    const looseBytes = (await stat(join(dir, 'data.mdb'))).size;
    try {
      const opening = fleet.open(1).catch(() => undefined); // killed before or after ready
      await waitFor(() => existsSync(join(dir, COMPACTION_DIR)), 'a compaction', 30_000, 1);
      forked?.kill('SIGKILL');
      await opening;
      assert.equal((await stat(join(dir, 'data.mdb'))).size, looseBytes);
      const again = await fleet.add();
      assert.equal((await again.status()).store.primary, held.size);
      for (const i of [0, 50_000, 99_999]) {
        assert.equal(await (await again.get(`/get-local/${looseKey(i)}`)).text(), looseValue(i));
      }
      // It compacts again, from the start.
      await waitFor(
        async () => (await again.metric('diststore_data_file_compactions_total')) === 1,
        'the data file to be compacted',
      );
      const primary = (await again.status()).store.primary;
      assert.equal(primary, held.size);
      console.log(`FIGURE killed-compacting entries=${held.size} held_after_compaction=${primary}`);
    } finally {
      await fleet.close();
    }
  });

  test('a data dir in use by another node stops the second one, files untouched', async () => {
    const dir = join(root, 'locked');
    const fleet = await Fleet.start(1, { dataDirs: [dir] });
    try {
      await fleet.node(0).post('/post', { key: 'k', value: 'v' });
      // lock.mdb is lmdb's table of the running node's readers, which its own reads rewrite.
      const untouched = async () => {
        const { 'lock.mdb': readers, ...files } = await snapshot(dir);
        return files;
      };
      const before = await untouched();
      assert.deepEqual(Object.keys(before).sort(), ['data.mdb', 'diststore.lock']);
      const { code, stderr } = await runDaemon(['--data-dir', dir, '--port', '0']);
      assert.notEqual(code, 0);
      assert.match(stderr, /lock|in use/i);
      assert.deepEqual(await untouched(), before);
    } finally {
      await fleet.close();
    }
  });

  test('a corrupt data dir stops the node with a clear error, files untouched', async () => {
    const dir = join(root, 'corrupt');
    const fleet = await Fleet.start(1, { dataDirs: [dir] });
    await fleet.node(0).post('/post', { key: 'k', value: 'v' });
    await fleet.close();
    await writeFile(join(dir, 'data.mdb'), Buffer.alloc(64 * 1024, 0x5a));
    const before = await snapshot(dir);
    const { code, stderr } = await runDaemon(['--data-dir', dir, '--port', '0']);
    assert.notEqual(code, 0);
    assert.match(stderr, /corrupt/i);
    assert.deepEqual(await snapshot(dir), before);
  });
});

/** Every file of a directory with its bytes. */
async function snapshot(dir: string): Promise<Record<string, string>> {
  const files: Record<string, string> = {};
  for (const name of await readdir(dir)) {
    files[name] = (await readFile(join(dir, name))).toString('base64');
  }
  return files;
}
