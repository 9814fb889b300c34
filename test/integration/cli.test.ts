import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { freePort } from '../support/free-port.js';
import { useFleet } from '../support/use-fleet.js';

const CLI = fileURLToPath(new URL('../../cli/main.ts', import.meta.url));

interface Run {
  code: number | null;
  stdout: Buffer;
  stderr: string;
}

interface RunOptions {
  /** Bytes on the CLI's standard input (default: none, closed at once). */
  stdin?: Buffer;
  /** DISTSTORE_NODE for the child; the test runner's own is never inherited. */
  node?: string;
  /** DISTSTORE_TOKEN for the child; likewise never inherited. */
  token?: string;
}

/** Runs the diststore CLI as a user would, as a child process; bounded by a kill timer. */
function cli(args: string[], options: RunOptions = {}): Promise<Run> {
  const env = { ...process.env };
  delete env.DISTSTORE_NODE;
  delete env.DISTSTORE_TOKEN;
  if (options.node !== undefined) env.DISTSTORE_NODE = options.node;
  if (options.token !== undefined) env.DISTSTORE_TOKEN = options.token;
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', CLI, ...args], {
      env,
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    const stdout: Buffer[] = [];
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => stdout.push(chunk));
    child.stderr.on('data', (chunk) => {
      stderr += chunk;
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout: Buffer.concat(stdout), stderr });
    });
    child.stdin.end(options.stdin);
  });
}

describe('the diststore command line against a three-node fleet', () => {
  const fleet = useFleet(3);
  let dir: string;
  const at = (index: number) => ['--node', fleet.node(index).url('')];

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'diststore-cli-'));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  test('a value posted on one node is printed by get on another, with nothing added', async () => {
    const posted = await cli([...at(0), 'post', 'greeting', 'hello']);
    assert.equal(posted.code, 0, posted.stderr);
    const answer = JSON.parse(posted.stdout.toString()) as { key: string; masters: string[] };
    assert.equal(answer.key, 'greeting');
    assert.equal(answer.masters.length, 2, 'both masters acknowledged');

    const read = await cli([...at(2), 'get', 'greeting']);
    assert.equal(read.code, 0, read.stderr);
    assert.equal(read.stdout.toString(), 'hello');
    assert.equal(read.stderr, '');
  });

  test('a binary file round-trips byte for byte and keeps its content type', async () => {
    const bytes = Buffer.concat([Buffer.from([0, 255, 13, 10, 0xc3, 0x28]), randomBytes(64_000)]);
    const path = join(dir, 'blob.bin');
    await writeFile(path, bytes);
    const posted = await cli([...at(0), 'post', 'blob', '--file', path]);
    assert.equal(posted.code, 0, posted.stderr);
    const read = await cli([...at(1), 'get', 'blob']);
    assert.equal(read.code, 0, read.stderr);
    assert.ok(read.stdout.equals(bytes), 'the same bytes came back');
    const plain = await fetch(fleet.node(1).url('/get?key=blob'));
    assert.equal(plain.headers.get('content-type'), 'application/octet-stream');

    await cli([...at(0), 'post', 'logo', '--file', path, '--type', 'image/png']);
    const logo = await fetch(fleet.node(2).url('/get?key=logo'));
    assert.equal(logo.headers.get('content-type'), 'image/png');
  });

  test('the value is read from standard input when not given, or given as -', async () => {
    const bytes = Buffer.from([1, 2, 3, 0, 254, 10]);
    const piped = await cli([...at(1), 'post', 'from-stdin'], { stdin: bytes });
    assert.equal(piped.code, 0, piped.stderr);
    assert.ok((await cli([...at(2), 'get', 'from-stdin'])).stdout.equals(bytes));

    const dash = await cli([...at(1), 'post', 'from-dash', '-'], { stdin: Buffer.from('dashed') });
    assert.equal(dash.code, 0, dash.stderr);
    assert.equal((await cli([...at(0), 'get', 'from-dash'])).stdout.toString(), 'dashed');
  });

  test('get-local prints only what this node holds', async () => {
    const posted = await cli([...at(1), 'post-local', 'mine', 'here-only']);
    assert.equal(posted.code, 0, posted.stderr);
    const here = await cli([...at(1), 'get-local', 'mine']);
    assert.equal(here.code, 0, here.stderr);
    assert.equal(here.stdout.toString(), 'here-only');
    const elsewhere = await cli([...at(2), 'get-local', 'mine']);
    assert.equal(elsewhere.code, 1);
    assert.equal(elsewhere.stdout.length, 0);
    assert.match(elsewhere.stderr, /not_found/);
  });

  test('after delete, get exits 1 and says the key was not found', async () => {
    assert.equal((await cli([...at(0), 'post', 'doomed', 'x'])).code, 0);
    const deleted = await cli([...at(0), 'delete', 'doomed']);
    assert.equal(deleted.code, 0, deleted.stderr);
    assert.equal((JSON.parse(deleted.stdout.toString()) as { deleted: boolean }).deleted, true);
    for (const index of [0, 1]) {
      const read = await cli([...at(index), 'get', 'doomed']);
      assert.equal(read.code, 1, `node ${index}: ${read.stderr}`);
      assert.equal(read.stdout.length, 0);
      assert.match(read.stderr, /^diststore: .*"doomed".*404 not_found/);
    }
  });

  test('keys lists every key one per line, dot segments, slashes and unicode included', async () => {
    const keys = ['.', '..', 'a/b/c', 'ünï cödé ✓', 'with+plus&x=1'];
    const posts = await Promise.all(keys.map((key) => cli([...at(2), 'post', key, `v:${key}`])));
    for (const posted of posts) assert.equal(posted.code, 0, posted.stderr);
    const listed = await cli([...at(2), 'keys']);
    assert.equal(listed.code, 0, listed.stderr);
    const lines = listed.stdout.toString().split('\n');
    assert.equal(lines.pop(), '', 'every line ends with a newline');
    for (const key of keys) assert.ok(lines.includes(key), `listed ${key}`);
    const reads = await Promise.all(keys.map((key) => cli([...at(0), 'get', key])));
    for (const [index, key] of keys.entries()) {
      assert.equal(reads[index]?.stdout.toString(), `v:${key}`, key);
    }
  });

  test('status prints JSON showing the three members', async () => {
    const status = await cli([...at(0), 'status']);
    assert.equal(status.code, 0, status.stderr);
    const text = status.stdout.toString();
    assert.match(text, /^\{\n {2}"/, 'pretty-printed');
    const json = JSON.parse(text) as { members: { id: string }[] };
    assert.deepEqual(json.members.map((m) => m.id).sort(), fleet.nodes.map((n) => n.id).sort());
  });

  test('a second --if-absent write exits 4 naming the conflict', async () => {
    const first = await cli([...at(0), 'post', 'lock', 'me', '--if-absent']);
    assert.equal(first.code, 0, first.stderr);
    const second = await cli([...at(1), 'post', 'lock', 'you', '--if-absent']);
    assert.equal(second.code, 4);
    assert.match(second.stderr, /^diststore: post "lock": .*\(409 conflict\)\n$/);
    assert.equal((await cli([...at(2), 'get', 'lock'])).stdout.toString(), 'me');
  });

  test('a value over the node limit exits 4 with the code the node gave', async () => {
    const path = join(dir, 'big.bin');
    await writeFile(path, Buffer.alloc(1024 * 1024 + 1));
    const posted = await cli([...at(0), 'post', 'big', '--file', path]);
    assert.equal(posted.code, 4);
    assert.match(posted.stderr, /413 value_too_large/);
  });

  test('DISTSTORE_NODE names the node; --node wins over it', async () => {
    const viaEnv = await cli(['get', 'greeting'], { node: fleet.node(1).url('') });
    assert.equal(viaEnv.code, 0, viaEnv.stderr);
    assert.equal(viaEnv.stdout.toString(), 'hello');

    const nobody = `http://127.0.0.1:${await freePort('tcp')}`;
    assert.equal((await cli(['get', 'greeting'], { node: nobody })).code, 3);
    const flagWins = await cli([...at(2), 'get', 'greeting'], { node: nobody });
    assert.equal(flagWins.code, 0, flagWins.stderr);
  });

  test('a node nobody listens on, or one that never answers, exits 3', async () => {
    const nobody = `http://127.0.0.1:${await freePort('tcp')}`;
    const refused = await cli(['--node', nobody, 'get', 'greeting']);
    assert.equal(refused.code, 3);
    assert.match(refused.stderr, /^diststore: get "greeting": cannot reach .*ECONNREFUSED/);

    // Reads the request and never answers: only the time limit ends it.
    const sockets = new Set<net.Socket>();
    const silent = net.createServer((socket) => {
      sockets.add(socket);
      socket.resume();
    });
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    try {
      const { port } = silent.address() as net.AddressInfo;
      const url = `http://127.0.0.1:${port}`;
      const started = Date.now();
      const timedOut = await cli(['--node', url, '--timeout-ms', '300', 'post', 'k', 'v']);
      assert.equal(timedOut.code, 3);
      assert.match(timedOut.stderr, /no answer within 300 ms/);
      assert.ok(Date.now() - started < 10_000);
    } finally {
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => silent.close(resolve));
    }
  });

  test('usage errors exit 2 with a message and print nothing on stdout', async () => {
    const node = at(0);
    const cases = [
      [],
      ['fetch', 'k'],
      [...node, 'get'],
      [...node, 'get', 'a', 'b'],
      [...node, 'get', 'k', '--bogus'],
      [...node, 'post', 'k', 'v', '--ttl', 'soon'],
      [...node, 'post', 'k', 'v', '--file', '/etc/hostname'],
      [...node, 'post', 'k', '--file', join(dir, 'no-such-file')],
      [...node, 'post', 'k', 'v', '--if-absent', '--if-version', 'x'],
      ['--node', 'ftp://example', 'keys'],
      ['--timeout-ms', '0', 'keys'],
    ];
    const runs = await Promise.all(cases.map((args) => cli(args)));
    for (const [index, run] of runs.entries()) {
      const args = cases[index]?.join(' ');
      assert.equal(run.code, 2, `${args}: ${run.stderr}`);
      assert.match(run.stderr, /^diststore: [^\n]+\n$/, `${args}: one line`);
      assert.equal(run.stdout.length, 0, args);
    }
    const help = await cli(['--help']);
    assert.equal(help.code, 0);
    assert.match(help.stdout.toString(), /^Usage: diststore /);
  });
});

describe('the command line against a node with a client token', () => {
  const TOKEN = 'cli-client-token-0123456789';
  const fleet = useFleet(1, { token: TOKEN });

  test('without the token: exit 4, naming --token and DISTSTORE_TOKEN', async () => {
    const run = await cli(['--node', fleet.node(0).url(''), 'keys']);
    assert.equal(run.code, 4);
    assert.match(run.stderr, /401 unauthorized.*--token or DISTSTORE_TOKEN/);
    const wrong = await cli([
      '--node',
      fleet.node(0).url(''),
      '--token',
      'wrong-0123456789',
      'keys',
    ]);
    assert.equal(wrong.code, 4);
  });

  test('--token or DISTSTORE_TOKEN: post, get, delete work', async () => {
    const node = ['--node', fleet.node(0).url('')];
    const post = await cli([...node, '--token', TOKEN, 'post', 'tok', 'ok']);
    assert.equal(post.code, 0, post.stderr);
    const get = await cli([...node, 'get', 'tok'], { token: TOKEN });
    assert.equal(get.code, 0, get.stderr);
    assert.equal(get.stdout.toString(), 'ok');
    const remove = await cli([...node, 'delete', 'tok'], { token: TOKEN });
    assert.equal(remove.code, 0, remove.stderr);
  });
});
