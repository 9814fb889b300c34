import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { waitFor } from '../support/wait-for.js';
import { ioredis } from './resp-support.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const PORTS = [8181, 8182, 8183];

/** What `npm start` runs: pm2-runtime with ecosystem.config.js, in the foreground. */
describe('the npm start fleet (pm2-runtime, ecosystem.config.js)', () => {
  let runtime: ReturnType<typeof spawn>;
  let output = '';
  const pm2Home = mkdtempSync(join(tmpdir(), 'diststore-pm2-'));
  const dataDir = mkdtempSync(join(tmpdir(), 'diststore-pm2-data-'));
  const cli = (...args: string[]) =>
    execFileSync(process.execPath, [join(ROOT, 'dist/cli/main.js'), ...args], { encoding: 'utf8' });

  before(async () => {
    execFileSync(process.execPath, [join(ROOT, 'node_modules/typescript/bin/tsc'), '-p', ROOT]);
    runtime = spawn(join(ROOT, 'node_modules/.bin/pm2-runtime'), ['start', 'ecosystem.config.js'], {
      cwd: ROOT,
      // Its own pm2 home and data dirs, so a developer's running fleet and data are not touched.
      env: { ...process.env, PM2_HOME: pm2Home, DISTSTORE_FLEET_DATA: dataDir },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    runtime.stdout?.on('data', (chunk) => {
      output += chunk;
    });
    runtime.stderr?.on('data', (chunk) => {
      output += chunk;
    });
    for (const port of PORTS) {
      await waitFor(
        async () => (await fetch(`http://127.0.0.1:${port}/ready`)).status === 200,
        `node ${port} to be ready`,
        30_000,
      ).catch((error) => {
        throw new Error(`${error.message}\n${output.slice(-3000)}`);
      });
    }
    await waitFor(async () => {
      const status = (await (await fetch('http://127.0.0.1:8181/status')).json()) as {
        masters: { ids: string[] };
      };
      return status.masters.ids.length === 2;
    }, 'two masters');
  });
  after(async () => {
    if (runtime.exitCode === null) {
      runtime.kill('SIGINT');
      await new Promise((resolve) => runtime.once('exit', resolve));
    }
    rmSync(pm2Home, { recursive: true, force: true });
    rmSync(dataDir, { recursive: true, force: true });
  });

  test('curl -d key=a -d value=1 :8181/post, then :8183/get/a prints 1', async () => {
    const posted = await fetch('http://127.0.0.1:8181/post', {
      method: 'POST',
      body: new URLSearchParams({ key: 'a', value: '1' }),
    });
    assert.equal(posted.status, 200);
    assert.equal(await (await fetch('http://127.0.0.1:8183/get/a')).text(), '1');
  });

  test('the Redis protocol on 6381–6383: SET on one node, GET on another', async () => {
    const [first, third] = [ioredis(6381), ioredis(6383)];
    try {
      assert.equal(await first.set('over-resp', 'hello'), 'OK');
      assert.equal(await third.get('over-resp'), 'hello');
      assert.equal(await third.get('a'), '1');
    } finally {
      first.disconnect();
      third.disconnect();
    }
  });

  test('the CLI, the page, the metrics and the health routes work against it', async () => {
    cli('--node', 'http://127.0.0.1:8182', 'post', 'from-cli', 'hello');
    assert.equal(cli('--node', 'http://127.0.0.1:8183', 'get', 'from-cli'), 'hello');
    const page = await (await fetch('http://127.0.0.1:8181/')).text();
    assert.match(page, /diststore/);
    assert.match(await (await fetch('http://127.0.0.1:8182/metrics')).text(), /diststore_entries/);
    assert.equal((await fetch('http://127.0.0.1:8183/health')).status, 200);
  });

  test('Ctrl-C stops the fleet cleanly', async () => {
    runtime.kill('SIGINT');
    const code = await new Promise((resolve) => runtime.once('exit', resolve));
    assert.equal(code, 0, output.slice(-2000));
    for (const port of PORTS) {
      await assert.rejects(fetch(`http://127.0.0.1:${port}/health`), `node ${port} stopped`);
    }
  });
});
