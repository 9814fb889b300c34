import { type CpuPerRequest, processCpuMs, type Watched } from './cpu.js';
import { medianOf } from './median.js';
import type { Settings } from './settings.js';

/** A load measured in turn with others runs in slices of about this many seconds. */
const SLICE_SECONDS = 2;

/** How many slices make up a load's `settings.seconds`, and how long each lasts (whole s). */
export function slicesOf(settings: Settings): { slices: number; seconds: number } {
  const slices = Math.max(1, Math.floor(settings.seconds / SLICE_SECONDS));
  // Whole seconds: wrk's -d takes no fraction.
  return { slices, seconds: Math.round(settings.seconds / slices) };
}

/**
 * Runs `measure` `rounds` times on each side, in turn, the order reversed every other round:
 * this machine can be twice as slow for a few seconds (docs/performance.md), and measured one
 * after the other such a spell fell on one side only. Gives, in the order of `sides`, each
 * side's runs and the CPU its watched processes spent during them per request (`requests`
 * counts a run's).
 */
export async function inTurn<Side extends { watched: Watched[] }, Run>(
  sides: Side[],
  rounds: number,
  measure: (side: Side, round: number) => Promise<Run>,
  requests: (run: Run) => number,
): Promise<{ side: Side; runs: Run[]; cpu: CpuPerRequest }[]> {
  const taken = sides.map((side) => ({
    side,
    runs: [] as Run[],
    cpuMs: side.watched.map(() => 0),
  }));
  for (let round = 0; round < rounds; round++) {
    for (const { side, runs, cpuMs } of round % 2 === 0 ? taken : [...taken].reverse()) {
      const before = side.watched.map(({ pid }) => processCpuMs(pid));
      runs.push(await measure(side, round));
      side.watched.forEach(({ pid }, w) => {
        cpuMs[w] = (cpuMs[w] ?? 0) + processCpuMs(pid) - (before[w] ?? 0);
      });
    }
  }
  return taken.map(({ side, runs, cpuMs }) => {
    const count = Math.max(
      1,
      runs.reduce((total, run) => total + requests(run), 0),
    );
    const cpu: CpuPerRequest = {};
    side.watched.forEach(({ label }, w) => {
      cpu[label] = (cpuMs[w] ?? 0) / count;
    });
    return { side, runs, cpu };
  });
}

/** A load generator's run, as far as joining runs goes. */
interface LoadRun {
  requests: number;
  seconds: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
}

/** Runs of one load as one: the rate over all of them, p50 and p99 the medians of theirs. */
export function joined(runs: LoadRun[]): LoadRun & { rps: number } {
  const requests = runs.reduce((total, run) => total + run.requests, 0);
  const seconds = runs.reduce((total, run) => total + run.seconds, 0);
  return {
    requests,
    seconds,
    rps: requests / seconds,
    p50Ms: medianOf(runs.map((run) => run.p50Ms)),
    p99Ms: medianOf(runs.map((run) => run.p99Ms)),
    maxMs: Math.max(...runs.map((run) => run.maxMs)),
  };
}
