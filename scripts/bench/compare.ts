// Usage: node --import tsx scripts/bench/compare.ts RESULTS.json...
// Prints one markdown table of the headline figures of several bench runs (bench-results.json
// files, e.g. of successive commits), one row per run, so that what a change bought can be
// read off runs of the bench rather than typed in.
import { readFileSync } from 'node:fs';
import type { CpuPerRequest } from './cpu.js';
import type { BenchResults } from './report.js';

const USAGE = 'usage: node --import tsx scripts/bench/compare.ts RESULTS.json...';

const total = (cpu: CpuPerRequest) => Object.values(cpu).reduce((a, b) => a + b, 0);
const ms = (n: number) => n.toFixed(2);
const cpuMs = (n: number) => n.toFixed(3);

const columns: [string, (r: BenchResults) => string][] = [
  ['run', (r) => `${r.revision} (${r.mode})`],
  ['get-local ÷ hono', (r) => `${(r.getLocal.rps / r.hono.rps).toFixed(2)}×`],
  [
    'get-local CPU/req ms (hono)',
    (r) => `${cpuMs(total(r.getLocal.cpu))} (${cpuMs(total(r.hono.cpu))})`,
  ],
  [
    'remote read p50 / p99 ms',
    (r) => `${ms(r.remoteReads.remote.p50Ms)} / ${ms(r.remoteReads.remote.p99Ms)}`,
  ],
  ['remote read CPU/req ms, fleet', (r) => cpuMs(total(r.remoteReads.remote.cpu))],
  ['absent p99 ms', (r) => ms(r.absent.p99Ms)],
  ['POST req/s', (r) => Math.round(r.post.rps).toLocaleString('en-US')],
  ['POST p99 ms', (r) => ms(r.post.p99Ms)],
  ['POST CPU/req ms, fleet', (r) => cpuMs(total(r.post.cpu))],
  [
    'RESP GET ÷ Redis',
    (r) => (r.resp ? `${(r.resp.diststore.get.rps / r.resp.redis.get.rps).toFixed(2)}×` : '—'),
  ],
  [
    'RESP GET -P 16 ÷ Redis',
    (r) =>
      r.resp
        ? `${(r.resp.diststore.getPipelined.rps / r.resp.redis.getPipelined.rps).toFixed(2)}×`
        : '—',
  ],
  [
    'RESP SET req/s (p99 ms)',
    (r) =>
      r.resp
        ? `${Math.round(r.resp.diststore.set.rps).toLocaleString('en-US')} (${ms(r.resp.diststore.set.p99Ms)})`
        : '—',
  ],
  ['sync s (keys)', (r) => `${r.sync.seconds.toFixed(2)} (${r.sync.keys.toLocaleString('en-US')})`],
  [
    'RSS ÷ raw at the memory step',
    (r) =>
      r.loaded ? `${(r.loaded.memory.rssBytes / r.loaded.memory.rawBytes).toFixed(2)}×` : '—',
  ],
  ['others’ CPU', (r) => `${(100 * r.machine.othersCpuShare).toFixed(0)} %`],
];

const files = process.argv.slice(2);
if (files.length === 0 || files.includes('--help')) {
  process.stderr.write(`${USAGE}\n`);
  process.exit(files.length === 0 ? 2 : 0);
}
const runs = files.map((file) => JSON.parse(readFileSync(file, 'utf8')) as BenchResults);
const line = (cells: string[]) => `| ${cells.join(' | ')} |`;
process.stdout.write(
  `${[
    line(columns.map(([name]) => name)),
    line(columns.map(() => '---')),
    ...runs.map((run) => line(columns.map(([, cell]) => cell(run)))),
  ].join('\n')}\n`,
);
