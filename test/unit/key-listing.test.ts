import assert from 'node:assert/strict';
import { test } from 'node:test';
import { keyListing } from '../../server/responses.js';

const keys = Array.from({ length: 2500 }, (_, i) => `k${i} "quoted" ключ/🙂`);

test('a key listing streams every key, one per line, over several chunks', async () => {
  const response = keyListing(keys, 'lines');
  assert.equal(response.headers.get('content-type'), 'text/plain; charset=utf-8');
  assert.equal(await response.text(), keys.map((k) => `${k}\n`).join(''));
});

test('a JSON key listing is one array of every key, however many chunks it took', async () => {
  assert.deepEqual(await keyListing(keys, 'json').json(), keys);
  assert.deepEqual(await keyListing([], 'json').json(), []);
  assert.equal(await keyListing([], 'lines').text(), '');
});

test('the keys are walked as the listing is read, not before', async () => {
  let walked = 0;
  function* counted() {
    for (const key of keys) {
      walked++;
      yield key;
    }
  }
  const response = keyListing(counted(), 'lines');
  const reader = response.body?.getReader();
  await reader?.read();
  assert.ok(walked < keys.length, `${walked} keys walked for the first chunk`);
  await reader?.cancel();
});
