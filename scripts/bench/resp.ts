import { spawn } from 'node:child_process';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { freePort } from '../../test/support/free-port.js';
import { waitFor } from '../../test/support/wait-for.js';
import type { CpuPerRequest, Watched } from './cpu.js';
import type { BenchNode } from './fleet.js';
import { inTurn, joined, slicesOf } from './in-turn.js';
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

/**
 * One load on Redis and on diststore, side by side: an unmeasured warm-up of each, then runs
 * taken in turn (inTurn), each sized from its warm-up's rate to last a slice
 * (redis-benchmark stops after a count, not a time), `settings.seconds` in all for each.
 * Rates and CPU over all of a side's runs; p50 and p99 the medians of its runs', max the
 * highest.
 */
async function measuredInTurn(
  sides: { options: Omit<RedisBenchmarkOptions, 'requests'>; watched: Watched[] }[],
  settings: Settings,
): Promise<RespRun[]> {
  const quick = settings.mode === 'quick';
  const { slices, seconds } = slicesOf(settings);
  const sized = [];
  for (const side of sides) {
    const warmRequests = (side.options.pipeline > 1 ? 5 : 1) * (quick ? 4000 : 20_000);
    const warm = await redisBenchmark({ ...side.options, requests: warmRequests });
    // Bounded both ways, whatever the warm-up's rate.
    const requests = Math.min(600_000, Math.max(1000, Math.round(warm.rps * seconds)));
    sized.push({ ...side, options: { ...side.options, requests } });
  }
  const taken = await inTurn(
    sized,
    slices,
    async ({ options }) => {
      const run = await redisBenchmark(options);
      return { ...run, seconds: run.requests / run.rps };
    },
    (run) => run.requests,
  );
  return taken.map(({ runs, cpu }) => ({ ...joined(runs), cpu }));
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

/** One load on each server, in turn (measuredInTurn). */
function measureLoad(
  targets: Target[],
  [, test, pipeline]: (typeof LOADS)[number],
  settings: Settings,
): Promise<RespRun[]> {
  const sides = targets.map((target) => ({
    options: {
      port: target.port,
      connections: settings.connections,
      valueBytes: VALUE.length,
      test,
      pipeline,
      ...(test === 'set' && { keyspace: SET_KEYSPACE }),
    },
    watched: test === 'get' ? target.readers : target.writers,
  }));
  return measuredInTurn(sides, settings);
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
 * same loads, each load run on both in turn (measuredInTurn): this machine's speed drifts by
 * tens of percent within a minute, and by up to twice within seconds (docs/performance.md);
 * a ratio of two runs far apart measured the drift as much as the servers.
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
      const [onRedis, onDiststore] = (await step(`Redis and the RESP port, ${label}, in turn`, () =>
        measureLoad([redis, diststore], load, settings),
      )) as [RespRun, RespRun];
      sides.redis[name] = onRedis;
      sides.diststore[name] = onDiststore;
    }
    const refused = (await reader.metric('diststore_resp_refusals_total')) - refusedBefore;
    return { ...sides, diststoreRefused: refused };
  });
}
