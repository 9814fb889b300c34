import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { useFleet } from '../support/use-fleet.js';

describe('concurrent reads of a missing key', () => {
  const fleet = useFleet(3);

  test('200 concurrent gets cause one who-has query and one fetch', async () => {
    const masters = (await fleet.node(0).status()).masters.ids;
    const reader = fleet.nodes.find((n) => !masters.includes(n.id));
    const writer = fleet.nodes.find((n) => n !== reader);
    assert.ok(reader && writer);
    assert.equal((await writer.post('/post', { key: 'hot', value: 'popular' })).status, 200);

    const queriesBefore = await reader.metric('diststore_whohas_queries_total');
    const fetchesBefore = await reader.metric('diststore_fetches_total', 'result="ok"');
    const bodies = await Promise.all(
      Array.from({ length: 200 }, async () => (await reader.get('/get/hot')).text()),
    );
    assert.ok(bodies.every((b) => b === 'popular'));
    // A get that arrives after the copy is cached is a local hit: no query either way.
    assert.equal(await reader.metric('diststore_whohas_queries_total'), queriesBefore + 1);
    assert.equal(await reader.metric('diststore_fetches_total', 'result="ok"'), fetchesBefore + 1);
  });
});
