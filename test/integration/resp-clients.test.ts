import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import type { Redis } from 'ioredis';
import { requireTools } from '../support/require-tool.js';
import { useFleet } from '../support/use-fleet.js';
import { waitFor } from '../support/wait-for.js';
import { ioredis, REDIS_CLI, redisCli } from './resp-support.js';

/** The RESP port with real clients (ioredis, Debian's redis-cli) on a 3-node fleet. */
describe('RESP port with real clients', () => {
  const clients: Redis[] = [];
  // Registered first: the clients go before the fleet stops (hooks run in this order).
  after(() => {
    for (const c of clients) c.disconnect();
  });
  const fleet = useFleet(3, { resp: true });
  const respPort = (index: number) => fleet.node(index).respPort;
  /** An ioredis client of node `index`, closed after the tests. */
  const client = (index: number, options = {}) => {
    const c = ioredis(respPort(index), options);
    clients.push(c);
    return c;
  };

  let notMaster: string;
  before(async () => {
    const masters = await fleet.settled();
    notMaster = fleet.nodes.map((n) => n.id).find((id) => !masters.ids.includes(id)) as string;
  });

  test('ioredis: GET, SET with EX/PX/NX/XX, DEL, EXISTS, MGET, MSET, TTL, PTTL', async () => {
    const r = client(0);
    assert.equal(await r.set('greeting', 'hello'), 'OK');
    assert.equal(await r.get('greeting'), 'hello');
    assert.equal(await r.get('nobody-has-this'), null);
    assert.equal(await r.set('greeting', 'again', 'NX'), null);
    assert.equal(await r.get('greeting'), 'hello');
    assert.equal(await r.set('greeting', 'replaced', 'XX'), 'OK');
    assert.equal(await r.get('greeting'), 'replaced');
    assert.equal(await r.set('absent-xx', 'v', 'XX'), null);
    assert.equal(await r.get('absent-xx'), null);
    assert.equal(await r.set('fresh-nx', 'v', 'NX'), 'OK');

    assert.equal(await r.set('session', 'abc', 'EX', 100), 'OK');
    const ttl = await r.ttl('session');
    assert.ok(ttl >= 99 && ttl <= 100, `TTL ${ttl}`);
    const pttl = await r.pttl('session');
    assert.ok(pttl > 98_000 && pttl <= 100_000, `PTTL ${pttl}`);
    assert.equal(await r.ttl('greeting'), -1);
    assert.equal(await r.ttl('nobody-has-this'), -2);
    assert.equal(await r.pttl('nobody-has-this'), -2);
    assert.equal(await r.set('short', 'gone soon', 'PX', 300), 'OK');
    assert.equal(await r.get('short'), 'gone soon');
    await waitFor(async () => (await r.get('short')) === null, 'the PX 300 key to expire');

    assert.equal(await r.mset('m1', 'one', 'm2', 'two'), 'OK');
    assert.deepEqual(await r.mget('m1', 'nobody-has-this', 'm2'), ['one', null, 'two']);
    assert.equal(await r.exists('m1', 'm2', 'nobody-has-this', 'm1'), 3);
    assert.equal(await r.del('m1', 'nobody-has-this'), 1);
    assert.equal(await r.exists('m1'), 0);
    assert.equal(await r.get('m1'), null);
    await assert.rejects(r.set('x', 'y', 'GET'), /does not take GET/);
    await assert.rejects(r.set('x', 'y', 'EX', 0), /invalid expire time/);
    await assert.rejects(r.call('SET', 'x', 'y', 'NX', 'XX'), /syntax error/);
  });

  test('ioredis: KEYS, SCAN, DBSIZE over this node; GETLOCAL, SETLOCAL, DS.VERSION, DS.STATUS', async () => {
    // The member (not a master): masters hold every key, a member only its own.
    const member = fleet.nodes.findIndex((n) => n.id === notMaster);
    const r = client(member);
    await r.mset('scan:a', '1', 'scan:b', '2', 'scan:c', '3', 'other', '4');
    assert.deepEqual((await r.keys('scan:*')).sort(), ['scan:a', 'scan:b', 'scan:c']);
    assert.deepEqual((await r.keys('scan:[ab]')).sort(), ['scan:a', 'scan:b']);
    const scanned: string[] = [];
    for await (const keys of r.scanStream({ match: 'scan:*', count: 1 })) {
      scanned.push(...(keys as string[]));
    }
    assert.deepEqual(scanned.sort(), ['scan:a', 'scan:b', 'scan:c']);
    const keysHere = await r.keys('*');
    // DBSIZE is a count: the PX key of the first test expired, and counts until it is swept.
    await waitFor(
      async () => (await r.dbsize()) === keysHere.length,
      'DBSIZE to count the keys KEYS lists',
    );

    assert.equal(await r.call('SETLOCAL', 'only-here', 'local value'), 'OK');
    assert.equal(await r.call('GETLOCAL', 'only-here'), 'local value');
    const other = client((member + 1) % 3);
    assert.equal(await other.call('GETLOCAL', 'only-here'), null);

    const version = (await r.call('DS.VERSION', 'scan:a')) as string;
    assert.match(version, /^\d+\.\d+\.127\.0\.0\.1:\d+$/);
    const status = await (await fleet.node(1).get('/get/scan:a')).headers.get(
      'x-diststore-version',
    );
    assert.equal(status, version);
    assert.equal(await r.call('DS.VERSION', 'nobody-has-this'), null);
    const dsStatus = JSON.parse((await r.call('DS.STATUS')) as string);
    assert.equal(dsStatus.node.id, notMaster);
    assert.equal(dsStatus.node.role, 'member');
    assert.equal(dsStatus.members.length, 3);
  });

  test('ioredis: PING, ECHO, SELECT, CLIENT SETNAME/GETNAME/ID/INFO, INFO, QUIT', async () => {
    const r = client(0, { connectionName: 'resp-test' });
    assert.equal(await r.ping(), 'PONG');
    assert.equal(await r.ping('hi'), 'hi');
    assert.equal(await r.echo('echoed'), 'echoed');
    assert.equal(await r.select(0), 'OK');
    await assert.rejects(r.select(1), /DB index is out of range/);
    assert.equal(await r.client('GETNAME'), 'resp-test');
    assert.equal(await r.client('SETNAME', 'renamed'), 'OK');
    assert.equal(await r.client('GETNAME'), 'renamed');
    await assert.rejects(r.client('SETNAME', 'has space'), /cannot contain spaces/);
    const id = (await r.client('ID')) as number;
    assert.ok(Number.isInteger(id) && id > 0);
    const info = (await r.client('INFO')) as string;
    assert.match(info, new RegExp(`^id=${id} .*name=renamed .*resp=[23] lib-name=ioredis`));
    const serverInfo = await r.info();
    assert.match(serverInfo, /# Server\r\nredis_version:7\.0\.0\r\n/);
    assert.match(serverInfo, /loading:0/);
    assert.match(serverInfo, new RegExp(`node_id:${fleet.node(0).id.replaceAll('.', '\\.')}`));
    assert.match(serverInfo, /state:ready/);
    assert.match(await r.info('keyspace'), /^# Keyspace\r\ndb0:keys=\d+/);
    assert.equal(await r.quit(), 'OK');
  });

  test('pipelined commands are answered in order, misses that ask the cluster included', async () => {
    const writer = client(0);
    await writer.mset('pipe:remote', 'from node 0');
    const r = client(2);
    const pipeline = r.pipeline();
    const expected: (string | null)[] = [];
    for (let i = 0; i < 300; i++) {
      pipeline.set(`pipe:${i}`, `value ${i}`);
      expected.push('OK');
      pipeline.get(`pipe:${i}`);
      expected.push(`value ${i}`);
      if (i % 50 === 0) {
        // A key node 2 lacks: its reply waits for a lookup while later ones are ready.
        pipeline.get(i === 0 ? 'pipe:remote' : `pipe:absent:${i}`);
        expected.push(i === 0 ? 'from node 0' : null);
      }
    }
    const results = await pipeline.exec();
    assert.ok(results);
    assert.deepEqual(
      results.map(([error, value]) => (error ? String(error) : value)),
      expected,
    );
  });

  test('binary values and keys with CR, LF, NUL and non-ASCII text are kept exactly', async () => {
    const r = client(1);
    const value = Buffer.concat([randomBytes(4096), Buffer.from('\r\n$5\r\n*1\r\n\0')]);
    const key = 'bin\r\nkey\0 ünïcode ✓';
    assert.equal(await r.set(key, value), 'OK');
    assert.ok((await r.getBuffer(key))?.equals(value));
    // The same bytes over HTTP from another node.
    const answer = await fleet.node(2).get(`/get?key=${encodeURIComponent(key)}`);
    assert.equal(answer.status, 200);
    assert.ok(Buffer.from(await answer.arrayBuffer()).equals(value));
    // A key that is not UTF-8 is refused: diststore keys are text.
    await assert.rejects(r.set(Buffer.from([0xff, 0xfe]), 'v'), /not valid UTF-8/);
  });

  test('written over RESP, read over HTTP on another node, and the other way round', async () => {
    const r0 = client(0);
    assert.equal(await r0.set('cross:resp', 'written over RESP'), 'OK');
    const overHttp = await fleet.node(1).get('/get/cross:resp');
    assert.equal(overHttp.status, 200);
    assert.equal(await overHttp.text(), 'written over RESP');

    const posted = await fleet
      .node(1)
      .post('/post', { key: 'cross:http', value: 'written over HTTP' });
    assert.equal(posted.status, 200);
    assert.equal(await client(2).get('cross:http'), 'written over HTTP');

    // A delete over RESP is seen over HTTP everywhere.
    assert.equal(await r0.del('cross:http'), 1);
    for (const node of fleet.nodes) {
      await waitFor(async () => (await node.get('/get/cross:http')).status === 404, 'the delete');
    }
  });

  test('SET NX races on three nodes: exactly one client wins', async () => {
    const racers = Array.from({ length: 12 }, (_, i) => client(i % 3));
    await Promise.all(racers.map((r) => r.ping()));
    for (let round = 0; round < 3; round++) {
      const key = `lock:${round}`;
      const answers = await Promise.all(racers.map((r, i) => r.set(key, `racer ${i}`, 'NX')));
      const winners = answers.flatMap((answer, i) => (answer === 'OK' ? [i] : []));
      assert.equal(winners.length, 1, `round ${round}: ${JSON.stringify(answers)}`);
      assert.ok(answers.every((a) => a === 'OK' || a === null));
      for (const r of racers.slice(0, 3)) assert.equal(await r.get(key), `racer ${winners[0]}`);
    }
  });

  test('/metrics counts RESP commands by name and refusals by reason', async () => {
    const r = client(0);
    await r.get('greeting');
    await assert.rejects(r.call('NO-SUCH-COMMAND'), /unknown command/);
    await assert.rejects(r.set('k'.repeat(2000), 'v'), /the key is 2000 bytes/);
    const node = fleet.node(0);
    assert.ok((await node.metric('diststore_resp_commands_total', 'command="get"')) >= 1);
    assert.ok((await node.metric('diststore_resp_commands_total', 'command="unknown"')) >= 1);
    assert.ok(
      (await node.metric('diststore_resp_refusals_total', 'reason="unknown_command"')) >= 1,
    );
    assert.ok((await node.metric('diststore_resp_refusals_total', 'reason="key_too_long"')) >= 1);
    assert.ok((await node.metric('diststore_resp_connections')) >= 1);
  });

  describe('redis-cli', () => {
    const skip = requireTools('RESP tests with redis-cli', [REDIS_CLI], ['redis-tools']);

    test('every command, as an operator types them', { skip }, async () => {
      const port = respPort(1);
      const cli = async (...args: string[]) => {
        const { stdout, code } = await redisCli(port, args);
        assert.equal(code, 0);
        return stdout.trimEnd();
      };
      assert.equal(await cli('PING'), 'PONG');
      assert.equal(await cli('SET', 'cli:k', 'from redis-cli', 'EX', '60'), 'OK');
      assert.equal(await cli('GET', 'cli:k'), 'from redis-cli');
      assert.match(await cli('TTL', 'cli:k'), /^(59|60)$/);
      assert.match(await cli('PTTL', 'cli:k'), /^\d{5}$/);
      assert.equal(await cli('SET', 'cli:k', 'x', 'NX'), '');
      // As in Redis, a SET without a TTL clears the one the key had.
      assert.equal(await cli('SET', 'cli:k', 'second', 'XX'), 'OK');
      assert.equal(await cli('TTL', 'cli:k'), '-1');
      assert.equal(await cli('MSET', 'cli:a', '1', 'cli:b', '2'), 'OK');
      assert.equal(await cli('MGET', 'cli:a', 'cli:none', 'cli:b'), '1\n\n2');
      assert.equal(await cli('EXISTS', 'cli:a', 'cli:none'), '1');
      assert.equal(
        await cli('KEYS', 'cli:?').then((s) => s.split('\n').sort().join()),
        'cli:a,cli:b,cli:k',
      );
      assert.equal(
        (await cli('--scan', '--pattern', 'cli:*')).split('\n').sort().join(),
        'cli:a,cli:b,cli:k',
      );
      assert.match(await cli('DBSIZE'), /^\d+$/);
      assert.equal(await cli('DEL', 'cli:a', 'cli:none'), '1');
      assert.equal(await cli('ECHO', 'echo me'), 'echo me');
      assert.equal(await cli('SELECT', '0'), 'OK');
      assert.equal(await cli('SETLOCAL', 'cli:local', 'here'), 'OK');
      assert.equal(await cli('GETLOCAL', 'cli:local'), 'here');
      assert.match(await cli('DS.VERSION', 'cli:k'), /^\d+\.\d+\./);
      assert.match(await cli('DS.STATUS'), /"state":"ready"/);
      assert.match(await cli('INFO', 'diststore'), /^# Diststore\r\nnode_id:/);
      assert.match(await cli('CLIENT', 'ID'), /^\d+$/);
      assert.match(await cli('CLIENT', 'INFO'), /^id=\d+ addr=127\.0\.0\.1:\d+ /);
      assert.equal(await cli('CLIENT', 'GETNAME'), '');
      assert.match(await cli('COMMAND', 'COUNT'), /^\d+$/);
      assert.match(await cli('COMMAND', 'DOCS', 'get'), /^get\nsummary\n/);
      assert.match(
        await cli('NOSUCH', 'a'),
        /ERR unknown command 'NOSUCH', with args beginning with: 'a'/,
      );
      assert.match(await cli('LPUSH', 'cli:k', 'x'), /^WRONGTYPE /);
      // Several commands on one connection: CLIENT SETNAME sticks to it.
      const { stdout } = await redisCli(port, [], 'CLIENT SETNAME piped\nCLIENT GETNAME\n');
      assert.equal(stdout, 'OK\npiped\n');
      // The value written over redis-cli is the one HTTP serves on another node.
      assert.equal(await (await fleet.node(0).get('/get/cli:k')).text(), 'second');
    });

    test('RESP3 after HELLO 3 (redis-cli -3)', { skip }, async () => {
      const { stdout } = await redisCli(
        respPort(0),
        ['-3', '--no-raw'],
        'HELLO 3\nGET nobody-has-this\nCONFIG GET save\nSET r3 v\nGET r3\n',
      );
      const lines = stdout.split('\n');
      assert.ok(lines.includes('1# "server" => "redis"'), stdout);
      assert.ok(lines.includes('3# "proto" => (integer) 3'), stdout);
      assert.ok(lines.includes('(nil)'), stdout);
      assert.ok(lines.includes('1# "save" => ""'), stdout);
      assert.ok(lines.includes('"v"'), stdout);
    });

    const noPty = requireTools(
      'interactive redis-cli (run in a pseudo-terminal)',
      ['python3'],
      ['python3'],
    );
    test('interactive redis-cli: help and hints come from COMMAND DOCS', {
      skip: skip || noPty,
    }, async () => {
      // redis-cli is interactive only on a terminal; python's pty module gives it one and
      // answers the cursor-position queries of its line editor.
      const driver = `
import os, pty, re, select, sys, time
pid, fd = pty.fork()
if pid == 0:
    os.execv(${JSON.stringify(REDIS_CLI)}, ['redis-cli', '-p', sys.argv[1]])
out = b''
def read(seconds):
    global out
    end = time.time() + seconds
    while time.time() < end:
        ready, _, _ = select.select([fd], [], [], 0.05)
        if not ready: continue
        try: chunk = os.read(fd, 65536)
        except OSError: return False
        out += chunk
        for _ in range(chunk.count(b'\\x1b[6n')): os.write(fd, b'\\x1b[1;40R')
    return True
for line in sys.argv[2:]:
    read(0.5)
    os.write(fd, line.encode() + b'\\r')
read(5)  # until redis-cli exits after quit (the read fails then)
os.waitpid(pid, 0)
sys.stdout.write(re.sub(r'\\x1b\\[[0-9;]*[A-Za-z]', '', out.decode(errors='replace')))
`;
      const { spawn } = await import('node:child_process');
      const child = spawn('python3', [
        '-c',
        driver,
        String(respPort(2)),
        'set interactive yes',
        'get interactive',
        'help set',
        'quit',
      ]);
      let output = '';
      child.stdout.on('data', (chunk) => {
        output += chunk;
      });
      const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
      const code = await new Promise((resolve) => child.on('close', resolve));
      clearTimeout(timer);
      assert.equal(code, 0, output);
      assert.match(output, /\nOK\r?\n/);
      assert.match(output, /"yes"/);
      assert.match(output, /SET key value \[EX seconds\|PX milliseconds\] \[NX\|XX\]/);
      assert.match(output, /summary: Stores a value here and on both masters/);
    });
  });
});
