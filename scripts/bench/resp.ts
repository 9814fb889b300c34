import { spawn } from 'node:child_process';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { freePort } from '../../test/support/free-port.js';
import { waitFor } from '../../test/support/wait-for.js';
import { type CpuPerRequest, cpuPerRequest, type Watched } from './cpu.js';
import type { BenchNode } from './fleet.js';
import { Child } from './processes.js';
import {
  type RedisBenchmarkOptions,
  type RedisBenchmarkResult,
  redisBenchmark,
} from './redis-benchmark.js';
import type { Settings } from './settings.js';
import { VALUE } from './throughput.js';

/** A redis-benchmark run with the CPU time the servers spent per request. */
export interface RespRun extends RedisBenchmarkResult {
  cpu: CpuPerRequest;
}

/** The four loads, on Redis or on diststore's RESP port. */
export interface RespSide {
  get: RespRun;
  getPipelined: RespRun;
  set: RespRun;
  setPipelined: RespRun;
}

/** Redis and diststore under the same redis-benchmark loads, in one round. */
export interface RespComparison {
  redis: RespSide;
  diststore: RespSide;
  /** Commands diststore answered with an error during its runs (redis-benchmark counts none). */
  diststoreRefused: number;
}

/** The key redis-benchmark's GET reads when not given -r. */
const GET_KEY = 'key:__rand_int__';
/** Keys SET writes (-r): distinct keys, each replicated on diststore. */
const SET_KEYSPACE = 100_000;
const PIPELINE = 16;

/** Sends one command and returns the first line of its answer. */
async function command(port: number, args: string[]): Promise<string> {
  const socket = net.connect(port, '127.0.0.1');
  try {
    let answer = '';
    socket.on('data', (chunk) => {
      answer += chunk;
    });
    socket.on('error', () => {});
    socket.write(
      `*${args.length}\r\n${args.map((a) => `$${Buffer.byteLength(a)}\r\n${a}\r\n`).join('')}`,
    );
    await waitFor(() => answer.includes('\r\n'), `an answer to ${args[0]} on ${port}`, 5000);
    return answer.slice(0, answer.indexOf('\r\n'));
  } finally {
    socket.destroy();
  }
}

/** An unmeasured warm-up, then a run sized from it to last about `settings.seconds`. */
async function warmAndMeasure(
  options: Omit<RedisBenchmarkOptions, 'requests'>,
  watched: Watched[],
  settings: Settings,
): Promise<RespRun> {
  const quick = settings.mode === 'quick';
  const warmRequests = (options.pipeline > 1 ? 5 : 1) * (quick ? 4000 : 20_000);
  const warm = await redisBenchmark({ ...options, requests: warmRequests });
  // redis-benchmark stops after a count, not a time: bounded both ways.
  const requests = Math.min(3_000_000, Math.max(5000, Math.round(warm.rps * settings.seconds)));
  const { result, cpu } = await cpuPerRequest(
    watched,
    () => redisBenchmark({ ...options, requests }),
    (r) => r.requests,
  );
  return { ...result, cpu };
}

/** The four loads: GET of one key and SET of distinct keys, plain and pipelined (-P 16). */
const LOADS = [
  ['get', 'get', 1],
  ['getPipelined', 'get', PIPELINE],
  ['set', 'set', 1],
  ['setPipelined', 'set', PIPELINE],
] as const;

/** A server under test: its RESP port, and the processes whose CPU reads and writes cost. */
interface Target {
  port: number;
  readers: Watched[];
  writers: Watched[];
}

/** Stores the GET key (100 bytes) before the loads. */
async function prepare(target: Target): Promise<void> {
  const stored = await command(target.port, ['SET', GET_KEY, VALUE]);
  if (stored !== '+OK') throw new Error(`SET of the GET key on ${target.port}: ${stored}`);
}

/** One load on one server. */
function measureLoad(
  target: Target,
  [, test, pipeline]: (typeof LOADS)[number],
  settings: Settings,
): Promise<RespRun> {
  const options = {
    port: target.port,
    connections: settings.connections,
    valueBytes: VALUE.length,
    test,
    pipeline,
    ...(test === 'set' && { keyspace: SET_KEYSPACE }),
  };
  return warmAndMeasure(options, test === 'get' ? target.readers : target.writers, settings);
}

/** Debian's redis-server, no persistence, on 127.0.0.1 and a free port, until `use` is done. */
async function withRedis<T>(use: (redis: Target) => Promise<T>): Promise<T> {
  const port = await freePort('tcp');
  const server = new Child(
    'redis-server',
    spawn(
      'redis-server',
      [
        ['--port', String(port)],
        ['--bind', '127.0.0.1'],
        ['--save', ''],
        ['--appendonly', 'no'],
        ['--dir', tmpdir()],
        ['--logfile', ''],
      ].flat(),
      { stdio: ['ignore', 'pipe', 'pipe'] },
    ),
  );
  try {
    await waitFor(
      () => command(port, ['PING']).then((a) => a === '+PONG'),
      'redis-server to answer PING',
      10_000,
    );
    const watched = [{ label: 'redis', pid: server.process.pid }];
    return await use({ port, readers: watched, writers: watched });
  } finally {
    await server.stop('SIGTERM', 5000);
  }
}

/**
 * Redis and a member's RESP port (GET hits its own copy, SET goes to both masters) under the
 * same loads, each load run on Redis and at once on diststore: this machine's speed drifts by
 * tens of percent within a minute (docs/performance.md), and a ratio of two runs far apart
 * measured the drift as much as the servers.
 */
export async function respVsRedis(
  reader: BenchNode,
  fleet: Watched[],
  settings: Settings,
  step: <T>(name: string, work: () => Promise<T>) => Promise<T>,
): Promise<RespComparison> {
  const diststore: Target = {
    port: reader.respPort,
    readers: [{ label: 'node', pid: reader.child.process.pid }],
    writers: fleet,
  };
  const refusedBefore = await reader.metric('diststore_resp_refusals_total');
  return withRedis(async (redis) => {
    await prepare(redis);
    await prepare(diststore);
    const sides = { redis: {} as RespSide, diststore: {} as RespSide };
    for (const load of LOADS) {
      const [name, test, pipeline] = load;
      const label = `${test.toUpperCase()}${pipeline > 1 ? ` -P ${pipeline}` : ''}`;
      sides.redis[name] = await step(`Redis ${label}`, () => measureLoad(redis, load, settings));
      sides.diststore[name] = await step(`RESP port ${label}`, () =>
        measureLoad(diststore, load, settings),
      );
    }
    const refused = (await reader.metric('diststore_resp_refusals_total')) - refusedBefore;
    return { ...sides, diststoreRefused: refused };
  });
}
