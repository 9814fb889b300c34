import assert from 'node:assert/strict';
import { test } from 'node:test';
import { hasTool, requireTool } from '../support/require-tool.js';

test('requireTool: false when the program is there, a skip reason when not, an error in CI', () => {
  assert.equal(hasTool(process.execPath), true);
  assert.equal(hasTool('sh'), true);
  const saved = process.env.DISTSTORE_TEST_REQUIRE_ALL;
  try {
    delete process.env.DISTSTORE_TEST_REQUIRE_ALL;
    assert.equal(requireTool('a part', process.execPath, 'nodejs'), false);
    const reason = requireTool('the frobnicator test', '/usr/bin/no-such-tool-x', 'frob-tools');
    assert.match(
      String(reason),
      /the frobnicator test.*no-such-tool-x.*apt-get install frob-tools/,
    );
    process.env.DISTSTORE_TEST_REQUIRE_ALL = '1';
    assert.throws(
      () => requireTool('the frobnicator test', 'no-such-tool-x', 'frob-tools'),
      /frobnicator test.*apt-get install frob-tools.*DISTSTORE_TEST_REQUIRE_ALL=1/,
    );
  } finally {
    if (saved === undefined) delete process.env.DISTSTORE_TEST_REQUIRE_ALL;
    else process.env.DISTSTORE_TEST_REQUIRE_ALL = saved;
  }
});
