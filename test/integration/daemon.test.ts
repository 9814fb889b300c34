import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { runDaemon as run } from './fleet.js';

describe('diststored refuses bad configuration', () => {
  const cases: [string, string[], Record<string, string>, RegExp][] = [
    ['an unknown flag', ['--colour', 'red'], {}, /--colour/],
    ['a port that is not a number', ['--port', 'abc'], {}, /--port/],
    ['a port out of range', ['--port', '70000'], {}, /--port/],
    ['a group that is not multicast', ['--multicast-group', '10.1.2.3'], {}, /--multicast-group/],
    [
      'an interface that is not an address',
      ['--multicast-interface', 'eth0'],
      {},
      /--multicast-interface/,
    ],
    ['a bad write-acks mode', ['--write-acks', 'most'], {}, /--write-acks/],
    [
      'a bad value in a variable',
      [],
      { DISTSTORE_LOOKUP_TIMEOUT_MS: 'soon' },
      /DISTSTORE_LOOKUP_TIMEOUT_MS|--lookup-timeout-ms/,
    ],
    ['binding everywhere without an advertised address', ['--bind', '0.0.0.0'], {}, /--advertise/],
    // Protected mode: refused before anything is bound (192.0.2.0/24 is documentation-only).
    [
      'a LAN address without a secret (protected mode)',
      ['--bind', '192.0.2.10'],
      {},
      /protected mode.*--secret-file.*--insecure/,
    ],
    [
      'multicast on a LAN interface without a secret, insecure switched off',
      ['--multicast-interface', '192.0.2.10'],
      { DISTSTORE_INSECURE: '0' },
      /protected mode.*DISTSTORE_INSECURE=1/,
    ],
  ];
  for (const [name, args, env, message] of cases) {
    test(`${name}: exit 2 with a message naming the option`, async () => {
      const { code, stderr } = await run(args, env);
      assert.equal(code, 2);
      assert.match(stderr, message);
    });
  }
});
