import assert from 'node:assert/strict';
import { test } from 'node:test';
import { globToRegExp } from '../../server/resp/glob.js';
import { splitInline } from '../../server/resp/inline-args.js';
import { KeyScan } from '../../server/resp/key-scan.js';

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
  const keys = new Set(Array.from({ length: 500 }, (_, i) => `k${i}`));
  let now = 0;
  const scan = new KeyScan(
    () => [...keys],
    () => now,
  );
  const seen: string[] = [];
  let cursor = 0;
  let calls = 0;
  do {
    const page = scan.page(cursor, 7);
    seen.push(...page.keys);
    cursor = page.next;
    // Between calls keys come and go, and the snapshot is renewed.
    keys.add(`new${calls}`);
    keys.delete(`k${400 + calls}`);
    now += 600;
    calls++;
  } while (cursor !== 0 && calls < 1000);
  assert.equal(cursor, 0);
  const steady = Array.from({ length: 400 }, (_, i) => `k${i}`);
  for (const key of steady) assert.ok(seen.includes(key), key);
  assert.equal(new Set(seen).size, seen.length, 'no key twice');
});
