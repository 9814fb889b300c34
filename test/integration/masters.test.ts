import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { NodeProcess } from '../support/fleet.js';
import { useFleet } from '../support/use-fleet.js';
import { waitFor } from '../support/wait-for.js';

/** Which of the given keys a node holds locally. */
async function held(node: NodeProcess, keys: string[]): Promise<number> {
  const statuses = await Promise.all(
    keys.map((k) => node.get(`/get-local?key=${encodeURIComponent(k)}`)),
  );
  return statuses.filter((r) => r.status === 200).length;
}

describe('masters hold every key', () => {
  const fleet = useFleet(5);

  test('writes spread over five nodes all end up on exactly the two masters', async () => {
    const keys = Array.from({ length: 50 }, (_, i) => `spread-${i}`);
    await Promise.all(
      keys.map(async (key, i) => {
        const writer = fleet.nodes[i % 5] as NodeProcess;
        const response = await writer.post('/post', { key, value: `value ${i}` });
        assert.equal(response.status, 200);
      }),
    );
    const masters = (await fleet.node(0).status()).masters;
    assert.equal(masters.ids.length, 2);
    for (const node of fleet.nodes) {
      const count = await held(node, keys);
      if (masters.ids.includes(node.id))
        assert.equal(count, keys.length, `master ${node.id} holds all`);
      // A non-master holds only what was written on it (no reads happened yet).
      else assert.equal(count, keys.length / 5, `member ${node.id} holds its own writes`);
    }
  });

  test('a node that joins later adopts the existing masters and reads every key', async () => {
    const before = (await fleet.node(0).status()).masters;
    const late = await fleet.add();
    const status = await waitFor(async () => {
      const s = await late.status();
      return s.masters.epoch === before.epoch ? s : undefined;
    }, 'the late node to adopt the master set');
    assert.deepEqual(status.masters.ids, before.ids, 'joining does not trigger an election');
    assert.equal(await (await late.get('/get/spread-7')).text(), 'value 7');
  });
});
