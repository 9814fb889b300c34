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

/** GET of one key and SET of distinct keys, plain and pipelined (-P 16), 100-byte values. */
async function fourLoads(
  port: number,
  readers: Watched[],
  writers: Watched[],
  settings: Settings,
): Promise<RespSide> {
  const stored = await command(port, ['SET', GET_KEY, VALUE]);
  if (stored !== '+OK') throw new Error(`SET of the GET key on ${port}: ${stored}`);
  const base = { port, connections: settings.connections, valueBytes: VALUE.length };
  const get = { ...base, test: 'get' as const };
  const set = { ...base, test: 'set' as const, keyspace: SET_KEYSPACE };
  return {
    get: await warmAndMeasure({ ...get, pipeline: 1 }, readers, settings),
    getPipelined: await warmAndMeasure({ ...get, pipeline: PIPELINE }, readers, settings),
    set: await warmAndMeasure({ ...set, pipeline: 1 }, writers, settings),
    setPipelined: await warmAndMeasure({ ...set, pipeline: PIPELINE }, writers, settings),
  };
}

/** Debian's redis-server, no persistence, on 127.0.0.1 and a free port, measured, stopped. */
export async function redisBaseline(settings: Settings): Promise<RespSide> {
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
    return await fourLoads(port, watched, watched, settings);
  } finally {
    await server.stop('SIGTERM', 5000);
  }
}

/** The same loads on a member's RESP port: GET hits its own copy, SET goes to both masters. */
export async function diststoreResp(
  reader: BenchNode,
  fleet: Watched[],
  settings: Settings,
): Promise<{ side: RespSide; refused: number }> {
  const refusedBefore = await reader.metric('diststore_resp_refusals_total');
  const node = [{ label: 'node', pid: reader.child.process.pid }];
  const side = await fourLoads(reader.respPort, node, fleet, settings);
  const refused = (await reader.metric('diststore_resp_refusals_total')) - refusedBefore;
  return { side, refused };
}

/** Redis first, then diststore, in the same round. */
export async function respVsRedis(
  reader: BenchNode,
  fleet: Watched[],
  settings: Settings,
  step: <T>(name: string, work: () => Promise<T>) => Promise<T>,
): Promise<RespComparison> {
  const redis = await step('Redis (redis-server) under redis-benchmark', () =>
    redisBaseline(settings),
  );
  const { side, refused } = await step('RESP port under redis-benchmark', () =>
    diststoreResp(reader, fleet, settings),
  );
  return { redis, diststore: side, diststoreRefused: refused };
}
