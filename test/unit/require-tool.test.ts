import assert from 'node:assert/strict';
import { test } from 'node:test';
import { requireTools } from '../support/require-tool.js';

test('requireTools: nothing when the programs are there, a skip reason when not, an error in CI', () => {
  const saved = process.env.DISTSTORE_TEST_REQUIRE_ALL;
  // The loud line is the point, but a CI log must not show a made-up part as skipped.
  const written: string[] = [];
  const write = process.stderr.write;
  process.stderr.write = ((text: string) => written.push(text) > 0) as typeof write;
  try {
    delete process.env.DISTSTORE_TEST_REQUIRE_ALL;
    assert.equal(requireTools('a part', [process.execPath, 'sh'], ['nodejs']), undefined);
    const reason = requireTools(
      'the frobnicator test',
      ['/usr/bin/no-such-tool-x'],
      ['frob-tools'],
    );
    assert.match(
      String(reason),
      /the frobnicator test SKIPPED: missing \/usr\/bin\/no-such-tool-x.*apt-get install frob-tools/,
    );
    assert.match(written.join(''), /\*\*\* the frobnicator test SKIPPED/, 'said loudly');
    process.env.DISTSTORE_TEST_REQUIRE_ALL = '1';
    assert.throws(
      () => requireTools('the frobnicator test', ['no-such-tool-x'], ['frob-tools']),
      /frobnicator test CANNOT RUN.*apt-get install frob-tools.*DISTSTORE_TEST_REQUIRE_ALL=1/,
    );
  } finally {
    process.stderr.write = write;
    if (saved === undefined) delete process.env.DISTSTORE_TEST_REQUIRE_ALL;
    else process.env.DISTSTORE_TEST_REQUIRE_ALL = saved;
  }
});
