import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { NodeProcess } from '../support/fleet.js';
import { useFleet } from '../support/use-fleet.js';

describe('the cached-copy tier is bounded', () => {
  const fleet = useFleet(3, { args: ['--cache-max-keys', '20', '--cache-max-bytes', '2000'] });

  test('a stream of distinct reads keeps a non-master within its bounds', async () => {
    const masters = (await fleet.node(0).status()).masters.ids;
    const reader = fleet.nodes.find((n) => !masters.includes(n.id)) as NodeProcess;
    const writer = fleet.nodes.find((n) => n !== reader) as NodeProcess;
    const keys = Array.from({ length: 120 }, (_, i) => `distinct-${i}`);
    for (const key of keys) await writer.post('/post', { key, value: `${key}:${'x'.repeat(40)}` });
    for (const key of keys) {
      const response = await reader.get(`/get/${key}`);
      assert.equal(await response.text(), `${key}:${'x'.repeat(40)}`);
      const { store } = await reader.status();
      assert.ok(store.cached <= 20, `${store.cached} cached copies`);
      assert.ok(store.cachedBytes <= 2000, `${store.cachedBytes} cached bytes`);
    }
    // Masters hold every key as primary entries, which are never evicted.
    for (const master of fleet.masterNodes({ ids: masters })) {
      assert.equal((await master.status()).store.primary, keys.length);
    }
  });
});
