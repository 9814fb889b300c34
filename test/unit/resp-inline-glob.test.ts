import assert from 'node:assert/strict';
import { test } from 'node:test';
import { makeEntry, makeTombstone } from '../../cluster/entry.js';
import { globToRegExp } from '../../server/resp/glob.js';
import { splitInline } from '../../server/resp/inline-args.js';
import { KeyScan } from '../../server/resp/key-scan.js';
import { heapStore } from '../support/heap-store.js';

const split = (line: string) => splitInline(Buffer.from(line, 'latin1'))?.map(String);

test('inline commands split as Redis splits them', () => {
  assert.deepEqual(split('SET  k   v\r'), ['SET', 'k', 'v']);
  assert.deepEqual(split('SET k "two words\\r\\n\\x41"'), ['SET', 'k', 'two words\r\nA']);
  assert.deepEqual(split("ECHO 'it\\'s'"), ['ECHO', "it's"]);
  assert.deepEqual(split('ECHO ""'), ['ECHO', '']);
  assert.deepEqual(split('   '), []);
  assert.equal(split('SET k "open'), undefined);
  assert.equal(split('SET k "closed"x'), undefined);
});

test('glob patterns match as KEYS and SCAN MATCH do', () => {
  const matches = (pattern: string, key: string) => globToRegExp(pattern).test(key);
  assert.ok(matches('user:*', 'user:1'));
  assert.ok(matches('user:*', 'user:\n'));
  assert.ok(!matches('user:*', 'users'));
  assert.ok(matches('h?llo', 'hällo'));
  assert.ok(matches('h[ae]llo', 'hello') && !matches('h[ae]llo', 'hillo'));
  assert.ok(matches('h[^e]llo', 'hallo') && !matches('h[^e]llo', 'hello'));
  assert.ok(matches('h[a-c]llo', 'hbllo'));
  assert.ok(matches('a\\*b', 'a*b') && !matches('a\\*b', 'axb'));
  assert.ok(matches('a.b(c)', 'a.b(c)') && !matches('a.b', 'axb'));
  assert.ok(matches('[z-a]', '[z-a]'), 'a class RegExp refuses is taken literally');
});

test('SCAN returns every key present throughout, once, whatever changes meanwhile', () => {
  let now = 1_700_000_000_000;
  const store = heapStore(() => now);
  const put = (key: string) =>
    store.putPrimary(
      key,
      makeEntry(Buffer.from(key), 'text/plain', { wall: now, counter: 0, node: 'n' }),
    );
  for (let i = 0; i < 500; i++) put(`k${i}`);
  const scan = new KeyScan(store);
  const seen: string[] = [];
  let cursor = 0;
  let calls = 0;
  do {
    const page = scan.page(cursor, 7);
    seen.push(...page.keys);
    cursor = page.next;
    // Between calls keys come and go, and the sorted copy of the keys is made again.
    put(`new${calls}`);
    store.putPrimary(`k${400 + calls}`, makeTombstone({ wall: now, counter: 1, node: 'n' }));
    now += 600;
    calls++;
  } while (cursor !== 0 && calls < 1000);
  assert.equal(cursor, 0);
  const steady = Array.from({ length: 400 }, (_, i) => `k${i}`);
  for (const key of steady) assert.ok(seen.includes(key), key);
  assert.equal(new Set(seen).size, seen.length, 'no key twice');

  // A cursor this scan did not hand out (one from before a restart) starts the walk again.
  const first = scan.page(0, 7);
  const restarted = new KeyScan(store);
  assert.deepEqual(restarted.page(first.next, 7).keys, first.keys);
  store.close();
});
