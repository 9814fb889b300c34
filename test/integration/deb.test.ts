import assert from 'node:assert/strict';
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { cp, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { freePort } from '../support/free-port.js';
import { requireTools } from '../support/require-tool.js';
import { waitFor } from '../support/wait-for.js';

/**
 * The Debian package: builds it with scripts/build-deb.sh (as `npm run deb` does, into a
 * temporary directory), checks its contents, control fields, conffiles, lintian and the systemd
 * units, then runs the packaged daemon from an unpacked root on loopback. Needs dpkg-dev,
 * debhelper, lintian and systemd installed (skipped loudly without them, see
 * test/support/require-tool.ts).
 */

const run = promisify(execFile);
const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const BUILD_TIMEOUT_MS = 15 * 60_000;
const SKIP = requireTools(
  'DEBIAN PACKAGE TEST',
  ['dpkg-buildpackage', 'dpkg-deb', 'dh', 'lintian', 'systemd-analyze', 'python3'],
  ['debhelper', 'dpkg-dev', 'lintian', 'systemd', 'python3'],
);

/** Runs a command to completion; rejects with its output when it fails. */
async function sh(file: string, args: string[], env: NodeJS.ProcessEnv = process.env) {
  try {
    return await run(file, args, { env, maxBuffer: 256 * 1024 * 1024 });
  } catch (error) {
    const { stdout = '', stderr = '' } = error as { stdout?: string; stderr?: string };
    throw new Error(
      `${file} ${args.join(' ')} failed: ${error}\n${stdout.slice(-4000)}\n${stderr}`,
    );
  }
}

/** Paths in the package, without the leading '.', with their mode string. */
function parseListing(listing: string): Map<string, string> {
  const files = new Map<string, string>();
  for (const line of listing.split('\n')) {
    const match = /^(\S+)\s+\S+\s+\d+\s+\S+\s+\S+\s+\.(\/.*?)(?: -> .*)?$/.exec(line);
    if (match?.[1] && match[2]) files.set(match[2].replace(/\/$/, '') || '/', match[1]);
  }
  return files;
}

describe('debian package', { skip: SKIP, timeout: BUILD_TIMEOUT_MS + 5 * 60_000 }, () => {
  let work: string;
  let deb: string;
  let files: Map<string, string>;
  let unpacked: string;

  before(
    async () => {
      work = await mkdtemp(join(tmpdir(), 'diststore-deb-'));
      const { stdout } = await sh('bash', [join(ROOT, 'scripts/build-deb.sh'), join(work, 'out')]);
      deb = stdout.trim().split('\n').at(-1) ?? '';
      assert.match(deb, /\/diststore_[^/]+\.deb$/, `the script's last line names the .deb`);
      files = parseListing((await sh('dpkg-deb', ['-c', deb])).stdout);
      unpacked = join(work, 'root');
      await sh('dpkg-deb', ['-x', deb, unpacked]);
    },
    { timeout: BUILD_TIMEOUT_MS },
  );

  after(async () => {
    if (work) await rm(work, { recursive: true, force: true });
  });

  /** Where the package puts its units (debhelper's choice differs between releases). */
  const unitDir = () =>
    files.has('/usr/lib/systemd/system/diststore.service')
      ? 'usr/lib/systemd/system'
      : 'lib/systemd/system';

  test('holds the app, its production dependencies, wrappers, units and settings', () => {
    const expected = [
      '/usr/lib/diststore/package.json',
      '/usr/lib/diststore/dist/server/main.js',
      '/usr/lib/diststore/dist/cli/main.js',
      '/usr/lib/diststore/node_modules/lmdb/package.json',
      '/usr/bin/diststored',
      '/usr/bin/diststore',
      '/etc/default/diststore',
      '/usr/lib/sysusers.d/diststore.conf',
    ];
    for (const path of expected) assert.ok(files.has(path), `${path} is in the package`);
    for (const unit of ['diststore.service', 'diststore@.service']) {
      assert.ok(
        files.has(`/lib/systemd/system/${unit}`) || files.has(`/usr/lib/systemd/system/${unit}`),
        `${unit} is in the package`,
      );
    }
    for (const wrapper of ['/usr/bin/diststored', '/usr/bin/diststore']) {
      assert.equal(files.get(wrapper), '-rwxr-xr-x', `${wrapper} is executable`);
    }
    const paths = [...files.keys()];
    assert.ok(
      paths.some((p) =>
        /\/node_modules\/@lmdb\/lmdb-linux-[^/]+\/node\.[^/]+\.glibc\.node$/.test(p),
      ),
      "lmdb's prebuilt glibc addon is in the package",
    );
    assert.deepEqual(
      paths.filter((p) => p.endsWith('.musl.node')),
      [],
      'no musl addons',
    );
    const ownFiles = paths.filter((p) => !p.startsWith('/usr/lib/diststore/node_modules/'));
    const notRun = ownFiles.filter((p) => /\/(test|scripts|bench)(\/|$)|\.test\.[jt]s$/.test(p));
    assert.deepEqual(notRun, [], 'no test or benchmark code in the package');
    const compiled = paths.filter((p) => p.startsWith('/usr/lib/diststore/dist/'));
    assert.deepEqual(
      compiled.filter(
        (p) => !/^\/usr\/lib\/diststore\/dist(\/(server|cluster|cli)(\/.*)?)?$/.test(p),
      ),
      [],
      'dist/ holds only server/, cluster/ and cli/',
    );
    for (const dev of ['typescript', 'tsx', '@biomejs', '@types/node']) {
      assert.ok(!files.has(`/usr/lib/diststore/node_modules/${dev}`), `no dev dependency ${dev}`);
    }
  });

  test('wrappers exec node on entry files that are in the package', async () => {
    for (const [wrapper, entry] of [
      ['diststored', '/usr/lib/diststore/dist/server/main.js'],
      ['diststore', '/usr/lib/diststore/dist/cli/main.js'],
    ] as const) {
      const text = await readFile(join(unpacked, 'usr/bin', wrapper), 'utf8');
      assert.match(text, /^#!\/bin\/sh\n/);
      assert.ok(text.includes(`exec /usr/bin/node ${entry} "$@"`), `${wrapper} runs ${entry}`);
    }
    const help = await sh(process.execPath, [
      join(unpacked, 'usr/lib/diststore/dist/cli/main.js'),
      '--help',
    ]);
    assert.match(help.stdout, /diststore/);
  });

  test('control fields and conffiles', async () => {
    const field = async (name: string) => (await sh('dpkg-deb', ['-f', deb, name])).stdout.trim();
    const arch = (await sh('dpkg', ['--print-architecture'])).stdout.trim();
    assert.equal(await field('Package'), 'diststore');
    assert.equal(await field('Architecture'), arch);
    // 20.19: pm2 loads the ES-module ecosystem file through require() (package.json engines).
    assert.match(await field('Depends'), /\bnodejs \(>= 20\.19\)/);
    const conffiles = (await sh('dpkg-deb', ['-I', deb, 'conffiles'])).stdout;
    assert.deepEqual(conffiles.trim().split('\n'), ['/etc/default/diststore']);
  });

  test('/etc/default/diststore lists every DISTSTORE_* setting of server/config.ts', async () => {
    const config = await readFile(join(ROOT, 'server/config.ts'), 'utf8');
    const names = new Set<string>();
    for (const m of config.matchAll(/\bopt\(\s*'--[^']*',\s*'([A-Z0-9_]+)'/g)) {
      names.add(`DISTSTORE_${m[1]}`);
    }
    for (const m of config.matchAll(/\bDISTSTORE_[A-Z0-9_]+/g)) names.add(m[0]);
    names.delete('DISTSTORE_TEST_DROP_INVALIDATIONS'); // a test hook, named but not offered
    assert.ok(names.size >= 20, `found the settings of config.ts (${[...names].join(' ')})`);
    const defaults = await readFile(join(unpacked, 'etc/default/diststore'), 'utf8');
    const missing = [...names].filter((name) => !new RegExp(`^#${name}=`, 'm').test(defaults));
    assert.deepEqual(missing, [], 'debian/diststore.default lacks a commented line for these');
    for (const line of ['#DISTSTORE_BIND=0.0.0.0', '#DISTSTORE_BIND=127.0.0.1']) {
      assert.ok(defaults.includes(`\n${line}\n`), `has ${line}`);
    }
    const active = defaults.split('\n').filter((l) => l.trim() !== '' && !l.startsWith('#'));
    assert.deepEqual(active, [], 'every line is commented: the defaults apply');
  });

  test('lintian reports no errors', { timeout: 5 * 60_000 }, async (t) => {
    // lintian exits non-zero when it reports errors; the output is what is checked.
    const result = await run('lintian', ['--info', deb], { maxBuffer: 64 * 1024 * 1024 }).catch(
      (error: { stdout?: string; stderr?: string }) => ({
        stdout: error.stdout ?? '',
        stderr: error.stderr ?? '',
      }),
    );
    const lines = result.stdout.split('\n').filter((l) => /^[EWIX]: /.test(l));
    for (const line of lines) t.diagnostic(line);
    assert.deepEqual(
      lines.filter((l) => l.startsWith('E: ')),
      [],
    );
  });

  test('systemd-analyze verify accepts both units', async () => {
    // A root holding the package and this host's units (for the targets the units name), so
    // that verify finds ExecStart, the targets and, through MANPATH, the Documentation= page.
    const root = join(work, 'verify-root');
    await cp(unpacked, root, { recursive: true, verbatimSymlinks: true });
    await cp('/lib/systemd/system', join(root, unitDir()), {
      recursive: true,
      force: false,
      verbatimSymlinks: true,
    });
    const env = { ...process.env, MANPATH: join(root, 'usr/share/man') };
    const { stderr } = await sh(
      'systemd-analyze',
      ['verify', `--root=${root}`, 'diststore.service', 'diststore@test.service'],
      env,
    );
    assert.equal(stderr, '', 'no complaints about the units');
  });

  test('systemd-analyze security finds only what the units explain they leave open', async () => {
    const unit = join(unpacked, unitDir(), 'diststore.service');
    const { stdout } = await sh('systemd-analyze', [
      'security',
      '--offline=true',
      '--no-pager',
      unit,
    ]);
    const open = stdout
      .split('\n')
      .filter((line) => line.startsWith('✗'))
      .map((line) => line.slice(2).split(/\s+/)[0] ?? '');
    for (const setting of [
      'PrivateUsers=',
      'SystemCallFilter=~@privileged',
      'SystemCallFilter=~@resources',
      'UMask=',
      'PrivateMounts=',
    ]) {
      assert.ok(!open.includes(setting), `${setting} is set (open: ${open.join(' ')})`);
    }
    const text = await readFile(unit, 'utf8');
    for (const left of open) {
      const name = left.replace(/[=~].*$/, '');
      if (name === 'DeviceAllow') continue; // ProtectClock= leaves the RTC readable
      assert.ok(text.includes(name.split('/')[0] ?? name), `the unit explains why ${left} is open`);
    }
    assert.match(text, /^MemoryMax=/m);
    assert.match(text, /^LoadCredential=diststore-secret$/m);
  });

  test("the packaged daemon serves on loopback under the unit's syscall filter and stops cleanly", async () => {
    const dataDir = join(work, 'data');
    const port = await freePort('tcp');
    const env = Object.fromEntries(
      Object.entries(process.env).filter(([name]) => !name.startsWith('DISTSTORE_')),
    );
    // The unit's SystemCallFilter=, applied through libseccomp as systemd would apply it.
    const child: ChildProcess = spawn(
      'python3',
      [
        join(ROOT, 'test/integration/syscall-filter.py'),
        join(unpacked, unitDir(), 'diststore.service'),
        process.execPath,
        join(unpacked, 'usr/lib/diststore/dist/server/main.js'),
        '--port',
        String(port),
        '--cluster',
        `deb${process.pid}-${Math.random().toString(36).slice(2, 8)}`,
        '--multicast-port',
        String(await freePort('udp')),
        '--multicast-interface',
        '127.0.0.1',
        '--data-dir',
        dataDir,
        '--log-level',
        'warn',
      ],
      { env, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let output = '';
    child.stdout?.on('data', (chunk) => {
      output += chunk;
    });
    child.stderr?.on('data', (chunk) => {
      output += chunk;
    });
    const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
    let code: number | null;
    try {
      const url = (path: string) => `http://127.0.0.1:${port}${path}`;
      await waitFor(
        async () => {
          if (child.exitCode !== null) throw new Error(`exited with ${child.exitCode}`);
          const health = (await (await fetch(url('/health'))).json()) as { state?: string };
          return health.state === 'ready';
        },
        'the packaged daemon to be ready',
        15_000,
      ).catch((error) => {
        throw new Error(`${error.message}\n${output}`);
      });
      const post = await fetch(url('/post'), {
        method: 'POST',
        body: new URLSearchParams({ key: 'packaged', value: 'works' }),
      });
      assert.equal(post.status, 200, await post.clone().text());
      const get = await fetch(url('/get/packaged'));
      assert.equal(get.status, 200);
      assert.equal(await get.text(), 'works');
      const { stat } = await import('node:fs/promises');
      assert.equal(((await stat(join(dataDir, 'data.mdb'))).mode & 0o777).toString(8), '600');
    } finally {
      // Longer than the daemon's 5 s drain; SIGKILL only if it hangs.
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      child.kill('SIGTERM');
      code = await exited;
      clearTimeout(timer);
    }
    assert.equal(code, 0, `SIGTERM stops the daemon with exit code 0\n${output}`);
  });
});
