import { readFileSync } from 'node:fs';

/** The machine a run measured on, and how much of its CPU other processes took meanwhile. */
export interface Machine {
  nproc: number;
  cpu: string;
  node: string;
  wrk: string;
  /** redis-benchmark's version line (its server is Debian's redis-server of the same package set). */
  redis?: string;
  /**
   * Share of all cores' time used during the run by processes the bench did not start (other
   * users' tests, builds): over a few percent, the numbers are low and not comparable.
   */
  othersCpuShare: number;
}

/** The CPU model name of /proc/cpuinfo. */
export function cpuModel(): string {
  const line = readFileSync('/proc/cpuinfo', 'utf8')
    .split('\n')
    .find((l) => l.startsWith('model name'));
  return line?.split(':')[1]?.trim() ?? 'unknown CPU';
}
