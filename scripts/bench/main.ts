// Usage: node --import tsx scripts/bench/main.ts [--quick] [--out FILE] [--data-dir-keys N]
//   (npm run bench; --data-dir-keys sets the entries of the data-dir step, 10000000 for 10 M)
// Starts what it measures (two baseline servers, diststore fleets on 127.0.0.1), drives them
// with wrk, prints one table and writes the results as JSON (default bench-results.json).
// Exit codes: 0 measured (whatever the verdicts), 1 a step failed, 2 usage, 130 Ctrl-C.
import { mkdirSync, writeFileSync } from 'node:fs';
import { availableParallelism, loadavg } from 'node:os';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { cpuTicks, othersShare } from './cpu.js';
import { dataDirNode, dataDirReads } from './data-dir.js';
import { BenchFleet, daemonBuilt } from './fleet.js';
import { absentReads, concurrentMisses, firstRemoteReads, lookupOutcomes } from './lookups.js';
import { cpuModel } from './machine.js';
import { medianOf } from './median.js';
import { loadedNodeMemory } from './memory.js';
import { childrenOutput, killAllOnExit, run } from './processes.js';
import { redisBenchmarkVersion } from './redis-benchmark.js';
import {
  type BenchResults,
  type Round,
  renderHeader,
  renderTable,
  rows,
  UDP_FLOOR,
} from './report.js';
import { respVsRedis } from './resp.js';
import { secretReads } from './secret-reads.js';
import { fullSettings, quickSettings, type Settings } from './settings.js';
import { syncNewMaster } from './sync.js';
import {
  baselineServer,
  getLocalHits,
  replicatedPosts,
  type Served,
  servedInTurn,
  udpSink,
} from './throughput.js';
import { wrkVersion } from './wrk.js';

const USAGE =
  'usage: node --import tsx scripts/bench/main.ts [--quick] [--out FILE] [--data-dir-keys N]';
const DEFAULT_OUT = fileURLToPath(new URL('../../bench-results.json', import.meta.url));

function parseArgs(argv: string[]): { quick: boolean; out: string; dataDirKeys?: number } {
  let quick = false;
  let out = DEFAULT_OUT;
  let dataDirKeys: number | undefined;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '--quick') quick = true;
    else if (arg === '--out' && argv[i + 1]) out = argv[++i] as string;
    else if (arg === '--data-dir-keys' && /^\d+$/.test(argv[i + 1] ?? '')) {
      dataDirKeys = Number(argv[++i]);
    } else if (arg === '--help' || arg === '-h') {
      process.stdout.write(`${USAGE}\n`);
      process.exit(0);
    } else {
      process.stderr.write(`bench: unknown argument ${arg}\n${USAGE}\n`);
      process.exit(2);
    }
  }
  return { quick, out, ...(dataDirKeys !== undefined && { dataDirKeys }) };
}

async function main(): Promise<void> {
  const { quick, out, dataDirKeys } = parseArgs(process.argv.slice(2));
  killAllOnExit();
  const wrk = await wrkVersion();
  if (!wrk) throw new Error('wrk is not installed: apt-get install -y wrk');
  if (!daemonBuilt()) throw new Error('dist/server/main.js is missing: run npm run build');
  const redis = await redisBenchmarkVersion();
  if (!redis) {
    throw new Error(
      'redis-benchmark is not installed: apt-get install -y redis-tools redis-server',
    );
  }
  const settings = {
    ...(quick ? quickSettings() : fullSettings()),
    ...(dataDirKeys !== undefined && { dataDirKeys }),
  };
  const revision = await run('git', ['describe', '--always', '--dirty'], { timeoutMs: 5000 }).then(
    (out) => out.trim(),
    () => 'unknown',
  );
  const load = loadavg()[0] ?? 0;
  if (load > 1) {
    process.stderr.write(`bench: load average ${load.toFixed(2)}: other processes use the CPU\n`);
  }
  const ticks = cpuTicks();
  const begun = performance.now();
  const steps: Record<string, number> = {};
  const step = async <T>(name: string, work: () => Promise<T>): Promise<T> => {
    process.stderr.write(`bench: ${name}…`);
    const started = performance.now();
    const result = await work();
    steps[name] = (performance.now() - started) / 1000;
    process.stderr.write(` ${steps[name]?.toFixed(1)} s\n`);
    return result;
  };

  // Each round measures everything but the 1 M memory step; the table shows the medians.
  const rounds: Round[] = [];
  for (let round = 1; round <= settings.runs; round++) {
    const of = settings.runs > 1 ? ` (run ${round} of ${settings.runs})` : '';
    rounds.push(await measureRound(settings, (name, work) => step(`${name}${of}`, work)));
  }
  const median = medianOf(rounds);
  const loaded =
    settings.memoryKeys > 0
      ? await step(`memory at ${settings.memoryKeys} keys`, () => loadedNodeMemory(settings))
      : undefined;
  const dataDir =
    settings.dataDirKeys > 0
      ? await step(`a data dir of ${settings.dataDirKeys} keys`, () =>
          dataDirNode(settings.dataDirKeys),
        )
      : undefined;

  const results: BenchResults = {
    mode: settings.mode,
    revision,
    startedAt: new Date(Date.now() - (performance.now() - begun)).toISOString(),
    machine: {
      nproc: availableParallelism(),
      cpu: cpuModel(),
      node: process.version,
      wrk,
      redis,
      othersCpuShare: othersShare(ticks, cpuTicks()),
    },
    settings,
    ...median,
    loaded,
    dataDir,
    runs: rounds,
    steps,
    totalSeconds: (performance.now() - begun) / 1000,
  };
  const table = rows(results);
  process.stdout.write(`\n${renderHeader(results)}\n\n${renderTable(table)}\n`);
  mkdirSync(dirname(out), { recursive: true });
  writeFileSync(out, `${JSON.stringify({ ...results, table }, null, 2)}\n`);
  process.stderr.write(`bench: results written to ${out}\n`);
}

async function measureRound(
  settings: Settings,
  step: <T>(name: string, work: () => Promise<T>) => Promise<T>,
): Promise<Round> {
  const baselines = await step('start the baselines (bare node:http, hono hello)', () =>
    Promise.all([baselineServer('bare-http'), baselineServer('hono-hello')]),
  );
  const fleet = await step('start a 3-node fleet', () => BenchFleet.start(3));
  try {
    const { writer, reader, watched } = await fleet.writerAndReader();
    // The baselines and get-local in turn, the fleet up throughout: the same machine for each.
    const [bareHttp, hono, getLocal] = (await step(
      'baselines and get-local hits, in turn',
      async () => servedInTurn([...baselines, await getLocalHits(reader)], settings),
    )) as [Served, Served, Served];
    await step('stop the baselines', () => Promise.all(baselines.map((b) => b.stop?.())));
    const remoteReads = await step('first remote reads', () =>
      firstRemoteReads(writer, reader, watched, settings),
    );
    // One more member, for the absent step only: it holds none of the keys asked for, so what
    // it spends per query is what every node of a larger fleet spends on others' misses.
    const bystander = await step('start a bystander', () => fleet.add());
    // Beside it, a bare node:dgram socket in the same group: the floor under that cost.
    const sink = await step('start a bare UDP receiver', () => udpSink(fleet.multicastPort));
    const absent = await step('absent keys', async () => {
      await fleet.settled();
      return absentReads(
        reader,
        [
          ...watched,
          { label: 'bystander', pid: bystander.pid },
          { label: UDP_FLOOR, pid: sink.process.pid },
        ],
        settings,
      );
    });
    await step('stop the bystander', () => Promise.all([bystander.child.stop(), sink.stop()]));
    const outcomes = await lookupOutcomes(reader);
    const misses = await step('concurrent misses', () =>
      concurrentMisses(writer, reader, settings),
    );
    const post = await step('replicated posts', () => replicatedPosts(reader, watched, settings));
    const resp = await respVsRedis(reader, watched, settings, step);
    await step('stop the fleet', () => fleet.close());
    const onDisk = await step('the same reads on a data-dir fleet', () => dataDirReads(settings));
    const withSecret = await step('the same reads with a cluster secret', () =>
      secretReads(settings),
    );
    const sync = await step(`sync of ${settings.syncKeys} keys`, () => syncNewMaster(settings));
    return {
      bareHttp,
      hono,
      getLocal,
      remoteReads,
      absent,
      lookupOutcomes: outcomes,
      concurrentMisses: misses,
      post,
      resp,
      sync,
      onDisk,
      withSecret,
    };
  } finally {
    await Promise.all([fleet.close(), ...baselines.map((b) => b.stop?.())]);
  }
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    process.stderr.write(`\nbench failed: ${error instanceof Error ? error.message : error}\n`);
    process.stderr.write(`${childrenOutput()}\n`);
    process.exit(1);
  },
);
