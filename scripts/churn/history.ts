import type { FaultKind } from './schedule.js';

/**
 * What a churn run records, and all the checker reads: every client operation, every fault
 * with the time it was active, and the rounds of reads polled after the last heal. Times are
 * milliseconds since the run began (one monotonic clock for everything).
 */

/** One client request: a write (`POST /post`) or a read (`GET /get`). */
export interface Op {
  type: 'write' | 'read';
  /** Which client issued it, e.g. `w3` or `r1`. */
  client: string;
  /** Index of the node it was sent to. */
  node: number;
  key: string;
  /** For a write, the value sent; for a read, the value answered (200 only). */
  value?: string;
  start: number;
  end: number;
  /** HTTP status, or 0 when no answer came (refused, reset, timed out). */
  status: number;
  /** The version answered: a write's JSON `version`, a read's `x-diststore-version`. */
  version?: string;
  /** The error code of a non-200 answer, or why no answer came. */
  error?: string;
}

/** One fault, from the moment it began to the moment it was undone. */
export interface Fault {
  step: number;
  kind: FaultKind;
  /** Nodes it hit (for a partition, the minority side). */
  nodes: number[];
  /** Which of them were masters when it began. */
  masters: number[];
  /** The master set (node indices) most nodes reported when it began. */
  masterSet: number[];
  start: number;
  /** When it was undone: restarted node answering /health, SIGCONT sent, links healed. */
  end: number;
}

/** A node's answer for one key in a convergence round (`version` undefined: 404). */
export interface Observation {
  node: number;
  key: string;
  status: number;
  version?: string;
  value?: string;
}

/** Every node's answer for every key, polled once after the last heal. */
export interface Round {
  start: number;
  end: number;
  observations: Observation[];
}

export interface History {
  seed: number;
  steps: number;
  nodeCount: number;
  keys: string[];
  ops: Op[];
  faults: Fault[];
  /** When the last fault was undone (the workload halted just before). */
  lastHeal: number;
  /** When the last request in flight at the halt had its answer; rounds start after it. */
  quiet: number;
  rounds: Round[];
  /** Each node's master set (`epoch:id,id`) after the last round, or why it did not answer. */
  finalMasters: string[];
  /** Wall-clock ms at time 0 of the history, to find its times in the nodes' logs. */
  startedAt?: number;
}
