import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { Fleet, type NodeProcess } from '../support/fleet.js';
import { skipUnless } from '../support/require-tool.js';
import { waitFor } from '../support/wait-for.js';

/**
 * A data dir whose disk fills up: writes are answered 507 insufficient_storage (the node's own
 * disk, or a master's, named), the node lives on and serves reads, says so in /ready, /status
 * and /metrics, and takes writes again once space is freed. The disk is a 4 MB tmpfs the test
 * mounts (root) with a 1 MB file on it that is deleted to free space.
 */

const SKIP = skipUnless(
  'FULL-DISK TESTS',
  'run the tests as root (they mount a small tmpfs)',
  process.getuid?.() === 0 ? undefined : 'not root',
);
const VALUE = 'x'.repeat(20_000);

describe('a full disk', { skip: SKIP }, () => {
  let root: string;
  let disk: string;
  let fleet: Fleet;
  let small: NodeProcess;
  let other: NodeProcess;
  const acked = new Set<string>();

  before(async () => {
    root = await mkdtemp(join(tmpdir(), 'diststore-full-'));
    disk = join(root, 'disk');
    execFileSync('mkdir', [disk]);
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=4m', 'tmpfs', disk]);
    await writeFile(join(disk, 'filler'), Buffer.alloc(1024 * 1024));
    // Two nodes, both masters: the first with its data dir on the small disk, the other in memory.
    fleet = await Fleet.start(2, { dataDirs: [join(disk, 'data')] });
    [small, other] = [fleet.node(0), fleet.node(1)];
  });

  after(async () => {
    await fleet?.close();
    execFileSync('umount', [disk]);
    await rm(root, { recursive: true, force: true });
  });

  /** Posts key=VALUE on `node`; records it when acknowledged. */
  async function post(node: NodeProcess, key: string) {
    const response = await node.post('/post', { key, value: VALUE });
    const body = (await response.json()) as { code?: string; full?: string[] };
    if (response.status === 200) acked.add(key);
    return { status: response.status, body };
  }

  test('writes are answered 507 once the disk is full, naming the master that has no room', async () => {
    let refusals = 0;
    for (let i = 0; i < 400 && refusals < 2; i++) {
      const { status } = await post(i % 2 === 0 ? small : other, `k${i}`);
      assert.ok(status === 200 || status === 507, `write ${i}: HTTP ${status}`);
      if (status === 507) refusals++;
    }
    assert.equal(refusals, 2, 'the disk filled up within 400 writes of 20 kB');
    console.log(
      `FIGURE full disk: ${acked.size} writes of 20 kB acknowledged on a 4 MB tmpfs before the first 507`,
    );

    const own = await post(small, 'on-the-full-node');
    assert.equal(own.status, 507);
    assert.equal(own.body.code, 'insufficient_storage');
    const through = await post(other, 'through-the-other-node');
    assert.equal(through.status, 507);
    assert.equal(through.body.code, 'insufficient_storage');
    assert.deepEqual(through.body.full, [small.id], 'the writer names the master without room');
  });

  test('the node lives, serves every acknowledged write and says its storage is full', async () => {
    assert.ok(small.running);
    const ready = await small.get('/ready');
    assert.equal(ready.status, 200, 'reads are still served');
    assert.equal(((await ready.json()) as { storage: string }).storage, 'full');
    assert.equal((await small.status()).storage, 'full');
    assert.ok((await small.metric('diststore_storage_errors_total', 'reason="full"')) > 0);
    assert.equal(await small.metric('diststore_storage_state', 'state="full"'), 1);
    for (const node of [small, other]) {
      for (const key of acked) {
        const response = await node.get(`/get/${key}`);
        assert.equal(response.status, 200, `${key} on ${node.id}`);
        assert.equal((await response.text()).length, VALUE.length);
      }
    }
  });

  test('writes are taken again once space is freed, without a restart', async () => {
    await rm(join(disk, 'filler'));
    for (const node of [small, other]) {
      const key = `after-freeing-${node.id}`;
      assert.equal((await post(node, key)).status, 200);
    }
    assert.equal((await small.status()).storage, 'ok');
    assert.equal(await small.metric('diststore_storage_state', 'state="ok"'), 1);
  });

  test('nothing acknowledged was lost: all of it is on the disk after a restart', async () => {
    assert.equal(await small.stop(), 0, 'a clean stop');
    const back = await fleet.add(['--data-dir', join(disk, 'data')]);
    await fleet.settled();
    await waitFor(async () => (await back.status()).store.primary >= acked.size, 'entries loaded');
    for (const key of acked) {
      const response = await back.get(`/get-local/${key}`);
      assert.equal(response.status, 200, `${key} on the restarted node's disk`);
    }
  });
});
