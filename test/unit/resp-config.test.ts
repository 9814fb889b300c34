import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseConfig } from '../../server/config.js';

test('--resp-port: off unless set, from the flag or DISTSTORE_RESP_PORT, checked', () => {
  assert.equal(parseConfig([], {}).respPort, undefined);
  assert.equal(parseConfig(['--resp-port', '6381'], {}).respPort, 6381);
  assert.equal(parseConfig([], { DISTSTORE_RESP_PORT: '6382' }).respPort, 6382);
  assert.equal(
    parseConfig(['--resp-port', '6383'], { DISTSTORE_RESP_PORT: '6382' }).respPort,
    6383,
  );
  assert.throws(() => parseConfig(['--resp-port', 'redis'], {}), {
    name: 'ConfigError',
    message: /--resp-port/,
  });
  assert.throws(() => parseConfig(['--resp-port', '70000'], {}), /--resp-port/);
});
