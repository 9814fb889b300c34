import { type CpuPerRequest, cpuPerRequest, type Watched } from './cpu.js';
import type { BenchNode } from './fleet.js';
import { call, keepAliveAgent } from './http-client.js';
import { inTurn } from './in-turn.js';
import { type Latency, summarize, timeEach, timeSamples } from './latency.js';
import { loadKeys } from './loader.js';
import type { Settings } from './settings.js';
import { VALUE } from './throughput.js';

/** Each timed loop gives up after this long, whatever its count. */
const LOOP_DEADLINE_MS = 120_000;

/** Latencies of reads, with the CPU time each node of the fleet spent per read. */
export interface Reads extends Latency {
  cpu: CpuPerRequest;
}

export interface RemoteReads {
  /** GET /get of keys only the masters hold: who-has multicast, answer, fetch, answer. */
  remote: Reads;
  /** The same client and node, GET /get-local of a held key: the floor under `remote`. */
  local: Latency;
}

/** Times reads one after another, and the fleet's CPU time per read. */
async function timedReads(
  fleet: Watched[],
  count: number,
  read: (i: number) => Promise<void>,
): Promise<Reads> {
  const { result, cpu } = await cpuPerRequest(
    fleet,
    () => timeEach(count, LOOP_DEADLINE_MS, read),
    (l) => l.count,
  );
  return { ...result, cpu };
}

async function expect(
  node: BenchNode,
  path: string,
  status: number,
  check?: (body: string) => boolean,
): Promise<void> {
  const answer = await call(node.agent, node.port, path);
  if (answer.status !== status || (check && !check(answer.body))) {
    throw new Error(
      `GET ${path} on ${node.id}: HTTP ${answer.status} ${answer.body.slice(0, 200)}`,
    );
  }
}

/** A fleet to read from: its writer (a master), its reader (a member), the processes watched. */
export interface ReadingFleet {
  writer: BenchNode;
  reader: BenchNode;
  watched: Watched[];
}

/**
 * GET /get on `reader` of keys only the masters hold, one at a time: each a who-has multicast,
 * the answers, a fetch from a master, the answer. Warmed up first on keys not measured after.
 */
export async function firstRemoteReads(
  writer: BenchNode,
  reader: BenchNode,
  fleet: Watched[],
  settings: Settings,
): Promise<RemoteReads> {
  const [reads] = await remoteReadsInTurn([{ writer, reader, watched: fleet }], settings);
  return reads as RemoteReads;
}

/** Reads of a block of remoteReadsInTurn, taken on one fleet before the next fleet's. */
const READS_PER_BLOCK = 250;

/**
 * firstRemoteReads on several fleets, side by side: the timed reads in blocks of
 * READS_PER_BLOCK taken in turn (inTurn).
 */
export async function remoteReadsInTurn(
  fleets: ReadingFleet[],
  settings: Settings,
): Promise<RemoteReads[]> {
  const { warmupReads, remoteReads } = settings;
  const isValue = (body: string) => body === VALUE;
  const read = (fleet: ReadingFleet, i: number) =>
    expect(fleet.reader, `/get/remote-${i}`, 200, isValue);
  for (const { writer } of fleets) {
    await loadKeys({
      port: writer.port,
      path: '/post',
      count: warmupReads + remoteReads,
      key: (i) => `remote-${i}`,
      value: VALUE,
      concurrency: 16,
      deadlineMs: LOOP_DEADLINE_MS,
    });
  }
  // Warm-up: JIT and the reader's connections to the masters, on keys not measured after.
  for (const fleet of fleets) for (let i = 0; i < warmupReads; i++) await read(fleet, i);
  const blocks = Math.ceil(remoteReads / READS_PER_BLOCK);
  const taken = await inTurn(
    fleets,
    blocks,
    (fleet, block) => {
      const from = block * READS_PER_BLOCK;
      const count = Math.min(READS_PER_BLOCK, remoteReads - from);
      return timeSamples(count, LOOP_DEADLINE_MS, (i) => read(fleet, warmupReads + from + i));
    },
    (samples) => samples.length,
  );
  const results: RemoteReads[] = [];
  for (const { side, runs, cpu } of taken) {
    const local = await timeEach(remoteReads, LOOP_DEADLINE_MS, () =>
      expect(side.reader, '/get-local/remote-0', 200, isValue),
    );
    results.push({ remote: { ...summarize(runs.flat()), cpu }, local });
  }
  return results;
}

/** Reads on `reader` of distinct keys nobody holds, one at a time. */
export async function absentReads(
  reader: BenchNode,
  fleet: Watched[],
  settings: Settings,
): Promise<Reads> {
  for (let i = 0; i < settings.warmupReads; i++) await expect(reader, `/get/warm-absent-${i}`, 404);
  return timedReads(fleet, settings.absentReads, (i) => expect(reader, `/get/absent-${i}`, 404));
}

/** The reader's diststore_lookups_total by outcome: a `timeout` is a lookup that waited it out. */
export async function lookupOutcomes(reader: BenchNode): Promise<Record<string, number>> {
  const outcomes: Record<string, number> = {};
  for (const [series, value] of await reader.metrics()) {
    const outcome = /^diststore_lookups_total\{outcome="([^"]+)"\}$/.exec(series)?.[1];
    if (outcome) outcomes[outcome] = value;
  }
  return outcomes;
}

export interface ConcurrentMisses {
  gets: number;
  /** Answers 200 with the value. */
  ok: number;
  /** Counted on the reader's /metrics around the burst. */
  queries: number;
  fetches: number;
  /** From the first request sent to the last answer. */
  ms: number;
}

/**
 * `settings.concurrentGets` simultaneous GET /get of one key `reader` lacks, each on its own
 * connection opened beforehand, so that all of them are in the node before the first lookup
 * can end. Every reader should share one who-has query and one fetch.
 */
export async function concurrentMisses(
  writer: BenchNode,
  reader: BenchNode,
  settings: Settings,
): Promise<ConcurrentMisses> {
  const gets = settings.concurrentGets;
  const written = await call(writer.agent, writer.port, '/post', { key: 'hot', value: VALUE });
  if (written.status !== 200) throw new Error(`post of hot: HTTP ${written.status}`);
  const agent = keepAliveAgent(gets);
  try {
    // Open every connection first (the server's keep-alive timeout is 5 s: plenty).
    await Promise.all(Array.from({ length: gets }, () => call(agent, reader.port, '/health')));
    const queriesBefore = await reader.metric('diststore_whohas_queries_total');
    const fetchesBefore = await reader.metric('diststore_fetches_total');
    const started = performance.now();
    const answers = await Promise.all(
      Array.from({ length: gets }, () => call(agent, reader.port, '/get/hot')),
    );
    const ms = performance.now() - started;
    return {
      gets,
      ok: answers.filter((a) => a.status === 200 && a.body === VALUE).length,
      queries: (await reader.metric('diststore_whohas_queries_total')) - queriesBefore,
      fetches: (await reader.metric('diststore_fetches_total')) - fetchesBefore,
      ms,
    };
  } finally {
    agent.destroy();
  }
}
