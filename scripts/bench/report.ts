import type { CpuPerRequest } from './cpu.js';
import type { DataDirResult, NodeMemory, OnDiskReads } from './data-dir.js';
import type { Latency } from './latency.js';
import type { ConcurrentMisses, Reads, RemoteReads } from './lookups.js';
import type { Machine } from './machine.js';
import type { LoadedMemory, Memory } from './memory.js';
import type { RespComparison, RespRun } from './resp.js';
import type { SecretReads } from './secret-reads.js';
import type { Settings } from './settings.js';
import type { SyncResult } from './sync.js';
import type { Served } from './throughput.js';

/** What one round measures: every step but the single-node memory step. */
export type Round = Pick<
  BenchResults,
  | 'bareHttp'
  | 'hono'
  | 'getLocal'
  | 'remoteReads'
  | 'absent'
  | 'lookupOutcomes'
  | 'post'
  | 'resp'
  | 'concurrentMisses'
  | 'sync'
  | 'onDisk'
  | 'withSecret'
>;

/**
 * Everything a bench measured, written as JSON so that runs can be compared. The measurements
 * are the medians over `runs`, field by field (see median.ts).
 */
export interface BenchResults {
  mode: Settings['mode'];
  /** git describe --always --dirty of the code measured. */
  revision: string;
  startedAt: string;
  machine: Machine;
  settings: Settings;
  bareHttp: Served;
  hono: Served;
  getLocal: Served;
  remoteReads: RemoteReads;
  absent: Reads;
  /** The reader's lookups by outcome after the remote and absent reads (warm-ups included). */
  lookupOutcomes: Record<string, number>;
  post: Served;
  /** Redis and the RESP port under redis-benchmark (absent in results of older runs). */
  resp?: RespComparison;
  concurrentMisses: ConcurrentMisses;
  sync: SyncResult;
  /** The round's read steps on a fleet with data dirs (absent in results of older runs). */
  onDisk?: OnDiskReads;
  /** The remote and absent reads on a fleet with a cluster secret (absent in older runs). */
  withSecret?: SecretReads;
  /** The single-node memory step; absent with --quick. */
  loaded?: LoadedMemory | undefined;
  /** A node started on a filled data dir (absent in results of older runs). */
  dataDir?: DataDirResult | undefined;
  /** Each round's own measurements. */
  runs: Round[];
  /** Seconds each step took, in order. */
  steps: Record<string, number>;
  totalSeconds: number;
}

export type Verdict = 'PASS' | 'MISS' | 'SKIP' | '';

export interface Row {
  measurement: string;
  result: string;
  target: string;
  verdict: Verdict;
}

const int = (n: number) => Math.round(n).toLocaleString('en-US');
const ms = (n: number) => `${n < 10 ? n.toFixed(2) : n.toFixed(1)} ms`;
const cpuMs = (n: number) => `${n.toFixed(3)} ms`;
const mib = (bytes: number) => `${(bytes / 2 ** 20).toFixed(1)} MiB`;
const times = (n: number) => `${n.toFixed(2)}×`;
const verdict = (ok: boolean): Verdict => (ok ? 'PASS' : 'MISS');

/** Rate and latency; the server's CPU time per request when one process served. */
function throughput(t: Served): string {
  const failed = t.errors + t.badStatus;
  const cpu = Object.values(t.cpu);
  const own = cpu.length === 1 ? ` · ${cpuMs(cpu[0] ?? 0)} CPU/req` : '';
  return `${int(t.rps)} req/s · p50 ${ms(t.p50Ms)} · p99 ${ms(t.p99Ms)}${own}${failed ? ` · ${int(failed)} failed` : ''}`;
}

/** A redis-benchmark figure: rate, latency, and the CPU of the one process that served. */
function respFigure(t: RespRun): string {
  const cpu = Object.values(t.cpu);
  const own = cpu.length === 1 ? ` · ${cpuMs(cpu[0] ?? 0)} CPU/req` : '';
  return `${int(t.rps)} req/s · p50 ${ms(t.p50Ms)} · p99 ${ms(t.p99Ms)}${own}`;
}

/** Redis's rows and the RESP port's, each load side by side with its ratio and target. */
export function respRows(r: RespComparison, connections: number): Row[] {
  const table: Row[] = [];
  const loads = [
    ['GET hit', 'get', '≥ 0.80× Redis', 0.8],
    ['GET hit, pipelined -P 16', 'getPipelined', '≥ 0.50× Redis', 0.5],
    ['SET (diststore: replicated to both masters)', 'set', '≥ 15,000 req/s, p99 ≤ 10 ms', 0],
    ['SET, pipelined -P 16 (diststore: replicated)', 'setPipelined', '', 0],
  ] as const;
  for (const [what, field, target, ratio] of loads) {
    const redis = r.redis[field];
    const ours = r.diststore[field];
    const x = ours.rps / redis.rps;
    const met =
      field === 'set' ? ours.rps >= 15_000 && ours.p99Ms <= 10 : ratio > 0 ? x >= ratio : undefined;
    table.push(
      {
        measurement: `Redis 7 (redis-server), ${what.replace(/ \(diststore.*\)/, '')} (${connections} conns)`,
        result: respFigure(redis),
        target: '',
        verdict: '',
      },
      {
        measurement: `RESP port, ${what} (${connections} conns)`,
        result: `${respFigure(ours)} · ${times(x)} Redis`,
        target,
        verdict: met === undefined ? '' : verdict(met && r.diststoreRefused === 0),
      },
    );
    if (Object.keys(ours.cpu).length > 1) table.push(cpuRow(ours.cpu));
  }
  if (r.diststoreRefused > 0) {
    table.push({
      measurement: '  RESP commands answered with an error during these runs',
      result: int(r.diststoreRefused),
      target: '0',
      verdict: 'MISS',
    });
  }
  return table;
}

/** A row of the CPU time each node spent per request, and their sum. */
function cpuRow(cpu: CpuPerRequest): Row {
  const parts = Object.entries(cpu).map(([label, value]) => `${label} ${cpuMs(value)}`);
  const total = Object.values(cpu).reduce((a, b) => a + b, 0);
  return {
    measurement: '  CPU time per request, by node',
    result: `${parts.join(' · ')} · total ${cpuMs(total)}`,
    target: '',
    verdict: '',
  };
}

/** The label of the bare UDP receiver watched beside the nodes in the absent-key step. */
export const UDP_FLOOR = 'bare UDP receiver';

/** The diststore nodes' CPU, without the bare UDP receiver beside them. */
function nodesOnly(cpu: CpuPerRequest): CpuPerRequest {
  return Object.fromEntries(Object.entries(cpu).filter(([label]) => label !== UDP_FLOOR));
}

/** What others' misses cost: a member that holds none of the keys, and each master. */
function missCostRow(cpu: CpuPerRequest): Row {
  const bystander = cpu.bystander ?? 0;
  const masters = Object.entries(cpu).filter(([label]) => label.startsWith('master'));
  const worstMaster = Math.max(...masters.map(([, value]) => value));
  return {
    measurement: '  CPU per miss of another node: a bystander, the costlier master',
    result: `bystander ${us(bystander)} (a bare UDP receiver of the same datagrams ${us(cpu[UDP_FLOOR] ?? 0)}) · master ${us(worstMaster)}`,
    target: 'bystander ≤ 10 µs, master ≤ 100 µs',
    verdict: verdict(bystander <= 0.01 && worstMaster <= 0.1),
  };
}

function us(ms: number): string {
  return `${(ms * 1000).toFixed(1)} µs`;
}

function latency(l: Latency): string {
  return `p50 ${ms(l.p50Ms)} · p99 ${ms(l.p99Ms)} · max ${ms(l.maxMs)}`;
}

function memoryRow(what: string, m: Memory): Row {
  return {
    measurement: `memory, ${int(m.entries)} entries, ${what}`,
    result: `RSS ${mib(m.rssBytes)} · heap ${mib(m.heapUsedBytes)} · external ${mib(m.externalBytes)} · RSS ${times(m.rssBytes / m.rawBytes)} raw (${mib(m.rawBytes)})`,
    target: '',
    verdict: '',
  };
}

/** One row of a node's memory with a data dir: what no file backs, RSS, heap, the lmdb file. */
function diskMemoryRow(what: string, m: NodeMemory, raw: number): Row {
  return {
    measurement: `memory, ${int(m.entries)} entries in a data dir, ${what}`,
    result: `RssAnon ${mib(m.anonBytes)} (${times(m.anonBytes / raw)} raw) · RSS ${mib(m.rssBytes)} (${times(m.rssBytes / raw)}) · heap ${mib(m.heapUsedBytes)} · file ${mib(m.dataFileBytes)}`,
    target: '',
    verdict: '',
  };
}

/** The reads on a fleet with data dirs, beside those of a memory-only fleet measured in turn. */
function onDiskRows(r: BenchResults): Row[] {
  if (!r.onDisk) return [];
  const { getLocal, remoteReads, memory } = r.onDisk;
  const remote = remoteReads.remote;
  const memoryRemote = memory.remoteReads.remote;
  return [
    {
      measurement: `get-local hit, fleet with data dirs (${r.settings.connections} conns)`,
      result: `${throughput(getLocal)} · ${times(getLocal.rps / memory.getLocal.rps)} memory-only (${int(memory.getLocal.rps)} req/s in turn)`,
      target: '≥ 1.00× memory-only',
      verdict: verdict(getLocal.rps >= memory.getLocal.rps),
    },
    {
      measurement: '  first read from another node, fleet with data dirs',
      result: `${latency(remote)} (memory-only in turn p50 ${ms(memoryRemote.p50Ms)} · p99 ${ms(memoryRemote.p99Ms)})`,
      target: 'p50, p99 ≤ memory-only',
      verdict: verdict(remote.p50Ms <= memoryRemote.p50Ms && remote.p99Ms <= memoryRemote.p99Ms),
    },
  ];
}

/** The reads on a fleet with a cluster secret, beside the same reads without one. */
function secretRows(r: BenchResults): Row[] {
  if (!r.withSecret) return [];
  const row = (what: string, signed: Reads, plain: Reads): Row => ({
    measurement: `  ${what}, fleet with a cluster secret`,
    result: `${latency(signed)} · CPU ${cpuMs(fleetCpu(signed.cpu))} a read (no secret: p50 ${ms(plain.p50Ms)} · CPU ${cpuMs(fleetCpu(plain.cpu))})`,
    target: '',
    verdict: '',
  });
  return [
    row('first read from another node', r.withSecret.remote, r.remoteReads.remote),
    row('get of a key absent everywhere', r.withSecret.absent, r.absent),
  ];
}

/** CPU per read of the three nodes both fleets have (the masters and the reader). */
function fleetCpu(cpu: CpuPerRequest): number {
  return Object.entries(cpu)
    .filter(([label]) => label.startsWith('master') || label === 'member 1')
    .reduce((sum, [, value]) => sum + value, 0);
}

/** The data-dir step's rows: a node on a filled data dir, its memory, reads and a sync from it. */
export function dataDirNodeRows(d: DataDirResult): Row[] {
  const ten = d.keys >= 10_000_000;
  const heapTarget = (m: NodeMemory) =>
    ten ? { target: 'heap < 512 MiB', verdict: verdict(m.heapUsedBytes < 512 * 1024 * 1024) } : {};
  return [
    {
      measurement: `a node on a data dir of ${int(d.keys)} entries: ready after`,
      result: `${d.readySeconds.toFixed(2)} s (on an empty data dir ${d.emptyReadySeconds.toFixed(2)} s) · filling the dir ${d.fillSeconds.toFixed(1)} s`,
      target: '≈ the empty node',
      verdict: verdict(d.readySeconds <= d.emptyReadySeconds + 0.5),
    },
    diskMemoryRow('when ready', d.whenReady, d.rawBytes),
    {
      measurement: '  its data file compacted (rewritten in key order) once started',
      result: d.compaction
        ? `${d.compaction.seconds.toFixed(1)} s after ready · file ${mib(d.whenReady.dataFileBytes)} → ${mib(d.compaction.fileBytes)}`
        : 'not compacted',
      target: '',
      verdict: '',
    },
    {
      ...diskMemoryRow(`after ${int(d.reads)} random get-local reads`, d.afterReads, d.rawBytes),
      target: 'RssAnon ≤ 1.5× raw, RSS ≤ 3×',
      verdict: verdict(
        d.afterReads.anonBytes <= 1.5 * d.rawBytes && d.afterReads.rssBytes <= 3 * d.rawBytes,
      ),
    },
    {
      measurement: '  those reads, 16 in flight',
      result: `${d.readSeconds.toFixed(1)} s · ${int(d.reads / d.readSeconds)} reads/s`,
      target: '',
      verdict: '',
    },
    {
      measurement: `sync of a new master from a data dir (${int(d.keys)} keys)`,
      result: `${d.sync.seconds.toFixed(1)} s · ${int(d.sync.entriesPerSecond)} entries/s · ${int(d.sync.entries)} entries`,
      target: '≥ 80,000 entries/s',
      verdict: verdict(d.sync.entriesPerSecond >= 80_000 && d.sync.entries === d.keys),
    },
    {
      ...diskMemoryRow('the master it synced from', d.holderAfterSync, d.rawBytes),
      ...heapTarget(d.holderAfterSync),
    },
    {
      ...diskMemoryRow('the new master after its sync', d.newcomer, d.rawBytes),
      ...heapTarget(d.newcomer),
    },
  ];
}

/** The table's rows, each with its target and whether it was met. */
export function rows(r: BenchResults): Row[] {
  const conns = `${r.settings.connections} conns`;
  const clean = (t: Served) => t.errors + t.badStatus === 0;
  const c = r.concurrentMisses;
  const s = r.sync;
  const fullSync = s.keys >= 100_000;
  const [victim, survivor, newcomer] = s.memory;
  const table: Row[] = [
    {
      measurement: `baseline: bare node:http, GET (${conns})`,
      result: throughput(r.bareHttp),
      target: '',
      verdict: '',
    },
    {
      measurement: `baseline: hono hello, GET (${conns})`,
      result: throughput(r.hono),
      target: '',
      verdict: '',
    },
    {
      measurement: `get-local hit (${conns})`,
      result: throughput(r.getLocal),
      target: '',
      verdict: '',
    },
    {
      measurement: 'get-local hit ÷ baselines',
      result: `${times(r.getLocal.rps / r.bareHttp.rps)} bare · ${times(r.getLocal.rps / r.hono.rps)} hono`,
      target: '≥ 0.90× hono',
      verdict: verdict(clean(r.getLocal) && r.getLocal.rps >= 0.9 * r.hono.rps),
    },
    {
      measurement: `first read from another node (${int(r.remoteReads.remote.count)} keys, one at a time)`,
      result: latency(r.remoteReads.remote),
      target: 'p50 ≤ 0.5 ms, p99 ≤ 5 ms',
      verdict: verdict(r.remoteReads.remote.p50Ms <= 0.5 && r.remoteReads.remote.p99Ms <= 5),
    },
    cpuRow(r.remoteReads.remote.cpu),
    {
      measurement: '  same client, get-local hit (the floor)',
      result: latency(r.remoteReads.local),
      target: '',
      verdict: '',
    },
    {
      measurement: `get of a key absent everywhere (${int(r.absent.count)} keys, one at a time)`,
      result: latency(r.absent),
      target: 'p99 ≤ 5 ms',
      verdict: verdict(r.absent.p99Ms <= 5),
    },
    cpuRow(nodesOnly(r.absent.cpu)),
    ...(r.absent.cpu.bystander === undefined ? [] : [missCostRow(r.absent.cpu)]),
    {
      measurement: '  lookups on the reader so far, by outcome',
      // timeout is always shown: a lookup that waited out --lookup-timeout-ms is a finding.
      result: Object.entries({ timeout: 0, ...r.lookupOutcomes })
        .map(([outcome, n]) => `${outcome} ${int(n)}`)
        .join(' · '),
      target: '',
      verdict: '',
    },
    ...secretRows(r),
    {
      measurement: `POST replicated to both masters (${conns})`,
      result: throughput(r.post),
      target: '≥ 15,000 req/s, p99 ≤ 10 ms',
      verdict: verdict(clean(r.post) && r.post.rps >= 15_000 && r.post.p99Ms <= 10),
    },
    cpuRow(r.post.cpu),
    ...(r.resp ? respRows(r.resp, r.settings.connections) : []),
    {
      measurement: `${int(c.gets)} concurrent gets of a key the node lacks`,
      result: `${int(c.queries)} who-has ${c.queries === 1 ? 'query' : 'queries'} · ${int(c.fetches)} ${c.fetches === 1 ? 'fetch' : 'fetches'} · ${int(c.ok)} answered 200 in ${ms(c.ms)}`,
      target: '1 query, 1 fetch',
      verdict: verdict(c.queries === 1 && c.fetches === 1 && c.ok === c.gets),
    },
    {
      measurement: `sync of a new master (${int(s.keys)} keys)`,
      result: `${s.seconds.toFixed(2)} s · ${int(s.entriesPerSecond)} entries/s · ready ${s.readyAfterSeconds.toFixed(2)} s after the SIGTERM`,
      target: '≤ 3 s for 100,000 keys',
      verdict: fullSync ? verdict(s.seconds <= 3 && s.entries === s.keys) : 'SKIP',
    },
    {
      measurement: `  loading them: POST /post on a master (${r.settings.loadConcurrency} in flight)`,
      result: `${s.loadSeconds.toFixed(1)} s · ${int(s.keys / s.loadSeconds)} keys/s`,
      target: '',
      verdict: '',
    },
  ];
  if (victim && survivor && newcomer) {
    table.push(
      memoryRow('master (then stopped)', victim),
      memoryRow('surviving master', survivor),
      memoryRow('new master after its sync', newcomer),
    );
  }
  const loaded = r.loaded;
  if (loaded) {
    table.push(
      {
        measurement: `  loading ${int(loaded.keys)} keys: POST /post-local on one node (${r.settings.loadConcurrency} in flight)`,
        result: `${loaded.loadSeconds.toFixed(1)} s · ${int(loaded.keys / loaded.loadSeconds)} keys/s`,
        target: '',
        verdict: '',
      },
      {
        ...memoryRow('one node', loaded.memory),
        target: 'RSS ≤ 3× raw bytes',
        verdict: verdict(loaded.memory.rssBytes <= 3 * loaded.memory.rawBytes),
      },
    );
  } else {
    table.push({
      measurement: 'memory, 1,000,000 entries, one node',
      result: `skipped (--${r.mode})`,
      target: 'RSS ≤ 3× raw bytes',
      verdict: 'SKIP',
    });
  }
  table.push(...onDiskRows(r), ...(r.dataDir ? dataDirNodeRows(r.dataDir) : []));
  return table;
}

/** The rows as a Markdown table, padded so that it also reads in a terminal. */
export function renderTable(table: Row[]): string {
  const header: Row = {
    measurement: 'measurement',
    result: 'result',
    target: 'target',
    verdict: '',
  };
  const all = [header, ...table];
  const keys = ['measurement', 'result', 'target', 'verdict'] as const;
  const widths = keys.map((k) => Math.max(...all.map((row) => row[k].length)));
  const line = (cells: string[]) => `| ${cells.join(' | ')} |`;
  const cells = (row: Row) => keys.map((k, i) => row[k].padEnd(widths[i] ?? 0));
  return [
    line(cells(header)),
    line(widths.map((w) => '-'.repeat(w))),
    ...table.map((row) => line(cells(row))),
  ].join('\n');
}

/** The lines above the table: the machine and the run. */
export function renderHeader(r: BenchResults): string {
  return [
    `diststore bench (${r.mode}) of ${r.revision}, ${r.startedAt}, ${r.totalSeconds.toFixed(0)} s; ${r.runs.length > 1 ? `each figure the median of ${r.runs.length} runs` : 'one run'}`,
    `machine: ${r.machine.nproc} cores (nproc), ${r.machine.cpu}, node ${r.machine.node}, wrk ${r.machine.wrk}${r.machine.redis ? `, ${r.machine.redis}` : ''}`,
    `CPU used by other processes during the run: ${(100 * r.machine.othersCpuShare).toFixed(1)} % of all cores${r.machine.othersCpuShare > 0.05 ? ' (over 5 %: numbers are low, not comparable)' : ''}`,
  ].join('\n');
}
