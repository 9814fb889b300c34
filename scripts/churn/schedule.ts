import { type Rng, seededRng } from './prng.js';

/**
 * The fault schedule of a churn run, drawn from a seed: which fault, how long it lasts, the
 * quiet gap after it, and whether it aims at a master. Which node that is depends on the
 * master set when the fault begins, so a step carries a random `pick` the runner applies to
 * the candidates it finds then (same seed, same steps, same choices on the same cluster state).
 */

export type FaultKind = 'kill9' | 'sigterm' | 'pause' | 'partition' | 'cut';

export const FAULT_KINDS: readonly FaultKind[] = ['kill9', 'sigterm', 'pause', 'partition', 'cut'];

export interface FaultStep {
  /** 1-based position in the schedule. */
  step: number;
  kind: FaultKind;
  /** Aim at a master (about half of the steps). */
  targetsMaster: boolean;
  /** Chooses the target among the candidates found when the step begins. */
  pick: number;
  /** For a partition: how many nodes are on the minority side (1 or 2). */
  sideSize: number;
  /** Chooses the other nodes of a two-node minority side. */
  sidePick: number;
  /** How long the fault lasts before it is undone (restart, SIGCONT, heal). */
  holdMs: number;
  /** Quiet time after the fault is undone, before the next one. */
  gapMs: number;
}

export interface ScheduleOptions {
  seed: number;
  steps: number;
  /** Range of a fault's duration (default 1500–4000 ms). */
  holdMs?: [number, number];
  /** Range of the gap after a fault (default 500–2500 ms). */
  gapMs?: [number, number];
}

/** The schedule for a seed: the same options always give the same steps. */
export function makeSchedule({
  seed,
  steps,
  holdMs = [1500, 4000],
  gapMs = [500, 2500],
}: ScheduleOptions): FaultStep[] {
  if (!Number.isInteger(seed)) throw new Error(`seed must be an integer, got ${seed}`);
  if (!Number.isInteger(steps) || steps < 1) throw new Error(`steps must be ≥ 1, got ${steps}`);
  const rng: Rng = seededRng(seed);
  return Array.from({ length: steps }, (_, i) => ({
    step: i + 1,
    kind: rng.pick(FAULT_KINDS),
    targetsMaster: rng.next() < 0.5,
    pick: rng.int(0, 1_000_000),
    sideSize: rng.int(1, 2),
    sidePick: rng.int(0, 1_000_000),
    holdMs: rng.int(holdMs[0], holdMs[1]),
    gapMs: rng.int(gapMs[0], gapMs[1]),
  }));
}

/** The node a step aims at: a master when it targets one (and one is known), else another. */
export function chooseTarget(step: FaultStep, nodeCount: number, masters: number[]): number {
  const others = range(nodeCount).filter((i) => !masters.includes(i));
  const pool = step.targetsMaster && masters.length > 0 ? masters : others;
  const candidates = pool.length > 0 ? pool : range(nodeCount);
  return candidates[step.pick % candidates.length] as number;
}

/**
 * The minority side of a partition: the target, and for a side of two one more node that is
 * not a master (so that a master-targeted partition splits the masters, one on each side).
 */
export function chooseSide(
  step: FaultStep,
  nodeCount: number,
  masters: number[],
  target: number,
): number[] {
  if (step.sideSize < 2) return [target];
  const rest = range(nodeCount).filter((i) => i !== target && !masters.includes(i));
  const fallback = range(nodeCount).filter((i) => i !== target);
  const pool = rest.length > 0 ? rest : fallback;
  return [target, pool[step.sidePick % pool.length] as number].sort((a, b) => a - b);
}

function range(n: number): number[] {
  return Array.from({ length: n }, (_, i) => i);
}
