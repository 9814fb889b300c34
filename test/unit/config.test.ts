import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ConfigError, parseConfig } from '../../server/config.js';

/** A ConfigError whose message matches `pattern` (e.g. names the option). */
function configError(pattern: RegExp) {
  return { name: 'ConfigError', message: pattern };
}

describe('parseConfig', () => {
  test('defaults are safe for a single machine', () => {
    const config = parseConfig([], {});
    assert.equal(config.port, 8181);
    assert.equal(config.bind, '127.0.0.1');
    assert.equal(config.advertise, '127.0.0.1');
    assert.equal(config.multicastGroup, '239.255.49.83');
    assert.equal(config.multicastPort, 4983);
    assert.equal(config.multicastInterface, '127.0.0.1');
    assert.equal(config.multicastTtl, 1);
    assert.equal(config.writeAcks, 'all');
    assert.equal(config.lookupTimeoutMs, 100);
    assert.equal(config.announceMs, 1000);
    assert.equal(config.maxKeyBytes, 1024);
    assert.equal(config.maxValueBytes, 1024 * 1024);
    assert.equal(config.tombstoneTtlSeconds, 86_400);
    assert.equal(config.id, undefined);
  });

  test('reads flags, numbers as numbers', () => {
    const config = parseConfig(
      [
        '--port',
        '9000',
        '--multicast-ttl',
        '0',
        '--write-acks',
        'one',
        '--id',
        'node-1',
        '--cluster',
        'blue',
      ],
      {},
    );
    assert.equal(config.port, 9000);
    assert.equal(config.multicastTtl, 0);
    assert.equal(config.writeAcks, 'one');
    assert.equal(config.id, 'node-1');
    assert.equal(config.cluster, 'blue');
  });

  test('reads DISTSTORE_* variables from the env it is given', () => {
    const config = parseConfig([], {
      DISTSTORE_PORT: '9001',
      DISTSTORE_MULTICAST_INTERFACE: '10.1.2.3',
      DISTSTORE_MULTICAST_TTL: '0',
      DISTSTORE_WRITE_ACKS: 'local',
      DISTSTORE_CLUSTER: 'green',
      DISTSTORE_MAX_VALUE_BYTES: '2048',
      DISTSTORE_INSECURE: '1',
    });
    assert.equal(config.port, 9001);
    assert.equal(config.multicastInterface, '10.1.2.3');
    assert.equal(config.multicastTtl, 0);
    assert.equal(config.writeAcks, 'local');
    assert.equal(config.cluster, 'green');
    assert.equal(config.maxValueBytes, 2048);
  });

  test('--port 0 and --resp-port 0 ask for any free port (the daemon reports it)', () => {
    const config = parseConfig(['--port', '0', '--resp-port', '0'], {});
    assert.equal(config.port, 0);
    assert.equal(config.respPort, 0);
  });

  test('a flag overrides its variable', () => {
    assert.equal(parseConfig(['--port', '9002'], { DISTSTORE_PORT: '9001' }).port, 9002);
  });

  test('does not read the process environment when given an env', () => {
    const saved = process.env.DISTSTORE_PORT;
    process.env.DISTSTORE_PORT = '9003';
    try {
      assert.equal(parseConfig([], {}).port, 8181);
    } finally {
      if (saved === undefined) delete process.env.DISTSTORE_PORT;
      else process.env.DISTSTORE_PORT = saved;
    }
  });

  test('an unknown flag is a ConfigError naming it', () => {
    assert.throws(() => parseConfig(['--nope'], {}), configError(/--nope/));
    assert.throws(() => parseConfig(['--nope'], {}), ConfigError);
  });

  test('a stray argument is a ConfigError', () => {
    assert.throws(() => parseConfig(['extra'], {}), { name: 'ConfigError' });
  });

  const badValues: Array<[string[], RegExp]> = [
    [['--port', 'abc'], /--port/],
    [['--port', '65536'], /--port/],
    [['--port', '-1'], /--port/],
    [['--write-acks', 'maybe'], /--write-acks/],
    [['--multicast-group', '10.0.0.1'], /--multicast-group/],
    [['--multicast-group', 'not-an-ip'], /--multicast-group/],
    [['--multicast-interface', 'eth0'], /--multicast-interface/],
    [['--multicast-ttl', '256'], /--multicast-ttl/],
    [['--cluster', 'Has Spaces'], /--cluster/],
    [['--log-level', 'loud'], /--log-level/],
  ];
  for (const [argv, names] of badValues) {
    test(`${argv.join(' ')} is a ConfigError naming the option`, () => {
      assert.throws(() => parseConfig(argv, {}), configError(names));
    });
  }

  test('a bad variable is a ConfigError naming the option', () => {
    assert.throws(
      () => parseConfig([], { DISTSTORE_PORT: 'abc' }),
      configError(/--port|DISTSTORE_PORT/),
    );
    assert.throws(
      () => parseConfig([], { DISTSTORE_WRITE_ACKS: 'maybe' }),
      configError(/--write-acks|DISTSTORE_WRITE_ACKS/),
    );
  });

  test('--bind 0.0.0.0 without --advertise is a ConfigError mentioning --advertise', () => {
    assert.throws(() => parseConfig(['--bind', '0.0.0.0'], {}), configError(/--advertise/));
    assert.throws(() => parseConfig([], { DISTSTORE_BIND: '0.0.0.0' }), configError(/--advertise/));
  });

  test('--bind 0.0.0.0 with --advertise advertises that address', () => {
    const config = parseConfig(['--bind', '0.0.0.0', '--advertise', '10.0.0.5', '--insecure'], {});
    assert.equal(config.bind, '0.0.0.0');
    assert.equal(config.advertise, '10.0.0.5');
  });
});

describe('protected mode', () => {
  const lan: [string, string[]][] = [
    ['HTTP on every interface', ['--bind', '0.0.0.0', '--advertise', '127.0.0.1']],
    ['HTTP on a LAN address', ['--bind', '192.0.2.10']],
    ['a LAN advertised address', ['--advertise', '192.0.2.10']],
    ['multicast on a LAN interface', ['--multicast-interface', '192.0.2.10']],
  ];
  for (const [name, argv] of lan) {
    test(`${name} without a secret is refused, naming both ways out`, () => {
      assert.throws(
        () => parseConfig(argv, {}),
        (error: Error) => {
          assert.equal(error.name, 'ConfigError');
          assert.match(error.message, /protected mode/);
          assert.match(error.message, /--secret-file/);
          assert.match(error.message, /--insecure/);
          assert.match(error.message, /DISTSTORE_INSECURE=1/);
          return true;
        },
      );
    });
    test(`${name} starts with a secret, or with --insecure (and warns)`, () => {
      const secret = parseConfig([...argv, '--secret', 'a-secret-of-16-chars'], {});
      assert.equal(secret.secret, 'a-secret-of-16-chars');
      const insecure = parseConfig([...argv, '--insecure'], {});
      assert.equal(insecure.insecure, true);
      assert.ok(insecure.warnings.some((w) => /protected mode is off/.test(w)));
    });
  }

  test('loopback needs neither (npm start, the bench, the pm2 fleet)', () => {
    const config = parseConfig([], {});
    assert.equal(config.insecure, false);
    assert.deepEqual(config.warnings, []);
    parseConfig(['--bind', '127.0.0.2', '--multicast-interface', '127.0.0.1'], {});
    parseConfig(['--advertise', 'localhost'], {});
  });

  test('DISTSTORE_INSECURE takes 1 or 0 only', () => {
    const env = { DISTSTORE_BIND: '192.0.2.10' };
    assert.equal(parseConfig([], { ...env, DISTSTORE_INSECURE: '1' }).insecure, true);
    assert.throws(() => parseConfig([], { ...env, DISTSTORE_INSECURE: '0' }), /protected mode/);
    assert.throws(
      () => parseConfig([], { ...env, DISTSTORE_INSECURE: 'sure' }),
      configError(/DISTSTORE_INSECURE/),
    );
  });

  test('a secret from a file or a variable satisfies it without a warning', async () => {
    const { mkdtemp, writeFile } = await import('node:fs/promises');
    const { join } = await import('node:path');
    const { tmpdir } = await import('node:os');
    const file = join(await mkdtemp(join(tmpdir(), 'diststore-config-')), 'secret');
    await writeFile(file, 'from-a-file-0123456789\n', { mode: 0o600 });
    const fromFile = parseConfig(['--bind', '192.0.2.10', '--secret-file', file], {});
    assert.equal(fromFile.secret, 'from-a-file-0123456789');
    assert.deepEqual(fromFile.warnings, []);
    const fromEnv = parseConfig([], {
      DISTSTORE_BIND: '192.0.2.10',
      DISTSTORE_SECRET: 'from-the-env-0123456789',
    });
    assert.deepEqual(fromEnv.warnings, []);
  });

  test('systemd credentials (LoadCredential=) give the secret and token when nothing else does', async () => {
    const { mkdtemp, writeFile } = await import('node:fs/promises');
    const { join } = await import('node:path');
    const { tmpdir } = await import('node:os');
    const dir = await mkdtemp(join(tmpdir(), 'diststore-credentials-'));
    await writeFile(join(dir, 'diststore-secret'), 'credential-secret-0123456789\n');
    await writeFile(join(dir, 'diststore-client-token'), 'credential-token-0123456789\n');
    const env = { CREDENTIALS_DIRECTORY: dir, DISTSTORE_BIND: '192.0.2.10' };
    const config = parseConfig([], env);
    assert.equal(config.secret, 'credential-secret-0123456789');
    assert.equal(config.clientToken, 'credential-token-0123456789');
    assert.deepEqual(config.warnings, []);
    const explicit = parseConfig([], { ...env, DISTSTORE_SECRET: 'explicit-secret-0123456789' });
    assert.equal(explicit.secret, 'explicit-secret-0123456789', 'a variable wins');
    const none = parseConfig([], { CREDENTIALS_DIRECTORY: join(dir, 'absent') });
    assert.equal(none.secret, undefined, 'a credential that was not loaded is no error');
  });

  test('--secret and --client-token on the command line warn and name the file option', () => {
    const config = parseConfig(
      ['--secret', 'visible-in-ps-0123456789', '--client-token', 'token-in-ps-0123456789'],
      {},
    );
    assert.equal(config.warnings.length, 2);
    assert.match(config.warnings[0] ?? '', /--secret on the command line.*--secret-file/);
    assert.match(
      config.warnings[1] ?? '',
      /--client-token on the command line.*--client-token-file/,
    );
  });
});
