import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { agreementProblems, check, type Report } from './checker.js';
import { ChurnFleet, randomSecret } from './churn-fleet.js';
import type { Fault, History, Round } from './history.js';
import { Poller } from './poll.js';
import { chooseSide, chooseTarget, type FaultStep, makeSchedule } from './schedule.js';
import { startWorkload } from './workload.js';

/**
 * One churn run: a 5-node namespace fleet with data dirs, the seeded fault schedule applied
 * one fault at a time under the concurrent workload, then the convergence rounds polled after
 * the last heal, then the checker. The fleet goes down however the run ends.
 */

export interface ChurnOptions {
  seed: number;
  steps: number;
  nodes?: number;
  keys?: number;
  writers?: number;
  readers?: number;
  announceMs?: number;
  holdMs?: [number, number];
  gapMs?: [number, number];
  /** How long to poll for agreement after the last heal before giving up. */
  agreementTimeoutMs?: number;
  /** Progress lines. */
  log?: (line: string) => void;
  /** Each node's log (JSON lines) is written to `<logsTo>-n<i>.log` before the fleet goes. */
  logsTo?: string;
  /** The nodes' --log-level (default: DISTSTORE_TEST_LOG, else info). */
  logLevel?: string;
}

export interface ChurnResult {
  history: History;
  report: Report;
}

/** Runs one seeded schedule end to end and judges it; an error names the seed to replay. */
export async function runChurn(options: ChurnOptions): Promise<ChurnResult> {
  try {
    return await runSchedule(options);
  } catch (error) {
    const { seed, steps } = options;
    throw new Error(
      `churn run of seed ${seed} failed: ${(error as Error).message}\nreplay: npm run churn -- --seed ${seed} --steps ${steps}`,
      { cause: error },
    );
  }
}

async function runSchedule({
  seed,
  steps,
  nodes = 5,
  keys: keyCount = 40,
  writers = 8,
  readers = 3,
  announceMs = 200,
  holdMs,
  gapMs,
  agreementTimeoutMs = 30_000,
  log = () => {},
  logsTo,
  logLevel,
}: ChurnOptions): Promise<ChurnResult> {
  const schedule = makeSchedule({ seed, steps, holdMs, gapMs });
  const keys = Array.from({ length: keyCount }, (_, i) => `k${i}`);
  const dataRoot = mkdtempSync(join(tmpdir(), `diststore-churn-${seed}-`));
  let fleet: ChurnFleet | undefined;
  try {
    fleet = await ChurnFleet.up({
      count: nodes,
      dataRoot,
      secret: randomSecret(),
      announceMs,
      logLevel,
    });
    const t0 = performance.now();
    const startedAt = Date.now();
    const now = () => Math.round((performance.now() - t0) * 10) / 10;
    const budget = schedule.reduce((sum, s) => sum + s.holdMs + s.gapMs + 40_000, 0);
    const workload = startWorkload({
      nodes: fleet.urls,
      keys,
      writers,
      readers,
      seed,
      now,
      deadlineMs: budget,
    });
    const faults: Fault[] = [];
    try {
      for (const step of schedule) {
        const last = step.step === schedule.length;
        // The last fault is undone with the workload halted, so that agreement is measured
        // on a quiet cluster.
        const halt = last ? workload.halt : () => {};
        const fault = await applyFault(fleet, step, nodes, now, log, halt);
        faults.push(fault);
        if (!last) await sleep(step.gapMs);
      }
    } catch (error) {
      await workload.stop();
      throw error;
    }
    const stopping = workload.stop();
    const lastHeal = faults.at(-1)?.end ?? now();
    // Polled from the heal on, while operations sent before it still finish (a read or write
    // sent into the partition may wait seconds for its answer): agreement is judged against
    // every acknowledged write once they all have their answers, and not before.
    let quiet: number | undefined;
    const drained = stopping.then(() => {
      quiet = now();
    });
    // Awaited after the polling; until then a failure must not count as unhandled.
    drained.catch(() => {});
    const rounds: Round[] = [];
    const partial = { nodeCount: nodes, keys, ops: workload.ops };
    const poller = new Poller(fleet.urls);
    try {
      while (now() - lastHeal < agreementTimeoutMs) {
        const round = await poller.round(keys, now);
        rounds.push(round);
        if (quiet !== undefined && agreementProblems(round, partial).length === 0) break;
      }
    } finally {
      poller.close();
    }
    await drained;
    log(
      `last heal at ${(lastHeal / 1000).toFixed(1)} s, quiet at ${((quiet ?? now()) / 1000).toFixed(1)} s; ${workload.ops.length} operations`,
    );
    const history: History = {
      seed,
      steps,
      nodeCount: nodes,
      keys,
      ops: workload.ops,
      faults,
      lastHeal,
      quiet: quiet ?? now(),
      rounds,
      finalMasters: await fleet.masterSets(),
      startedAt,
    };
    return { history, report: check(history) };
  } finally {
    if (fleet && logsTo) {
      fleet.fleet.nodes.forEach((_, i) => {
        writeFileSync(`${logsTo}-n${i}.log`, fleet?.fleet.log(i) ?? '');
      });
    }
    await fleet?.down();
    rmSync(dataRoot, { recursive: true, force: true });
  }
}

/** Begins a fault, holds it, undoes it; `beforeUndo` runs just before it is undone. */
async function applyFault(
  fleet: ChurnFleet,
  step: FaultStep,
  nodeCount: number,
  now: () => number,
  log: (line: string) => void,
  beforeUndo: () => void,
): Promise<Fault> {
  const masters = await fleet.masters();
  const target = chooseTarget(step, nodeCount, masters);
  const nodes = step.kind === 'partition' ? chooseSide(step, nodeCount, masters, target) : [target];
  const f = fleet.fleet;
  const start = now();
  log(
    `step ${step.step} ${step.kind} {${nodes.join(',')}} masters {${masters.join(',')}} for ${step.holdMs} ms`,
  );
  if (step.kind === 'kill9') await f.kill(target, 'KILL');
  else if (step.kind === 'sigterm') await f.kill(target, 'TERM');
  else if (step.kind === 'pause') await f.pause(target);
  else if (step.kind === 'partition') await f.partition(nodes);
  else await f.cut(target);
  await sleep(step.holdMs);
  beforeUndo();
  if (step.kind === 'kill9' || step.kind === 'sigterm') await fleet.start(target);
  else if (step.kind === 'pause') await f.resume(target);
  else await f.heal();
  return {
    step: step.step,
    kind: step.kind,
    nodes,
    masters: nodes.filter((n) => masters.includes(n)),
    masterSet: masters,
    start,
    end: now(),
  };
}

/** Every node's /get of every key, once (all at the same time). */
function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
