import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';

/**
 * CPU time from /proc, in clock ticks (1/100 s on Linux). CPU time per request stays
 * meaningful when other processes share the cores, where wall-clock rates do not.
 */

/** CPU clock ticks used so far: by the whole machine, and by the bench with its children. */
export interface CpuTicks {
  machine: number;
  bench: number;
  at: number;
}

export function cpuTicks(): CpuTicks {
  // cpu  user nice system idle iowait irq softirq steal ...: busy is all but idle and iowait.
  const cpu = (readFileSync('/proc/stat', 'utf8').split('\n')[0] ?? '').split(/\s+/).slice(1);
  const [user, nice, system, , , irq, softirq, steal] = cpu.map(Number);
  const machine = [user, nice, system, irq, softirq, steal].reduce<number>(
    (a, b) => a + (b ?? 0),
    0,
  );
  // /proc/self/stat after the command name: utime stime cutime cstime are fields 14 to 17;
  // cutime and cstime hold the children the bench has reaped (every child, by the end).
  const self = readFileSync('/proc/self/stat', 'utf8');
  const fields = self.slice(self.lastIndexOf(')') + 2).split(' ');
  const bench = fields.slice(11, 15).reduce((a, b) => a + Number(b), 0);
  return { machine, bench, at: performance.now() };
}

/** Others' share of all cores between two readings (clock ticks are 1/100 s on Linux). */
export function othersShare(before: CpuTicks, after: CpuTicks): number {
  const others = after.machine - before.machine - (after.bench - before.bench);
  const available = ((after.at - before.at) / 1000) * 100 * availableParallelism();
  return Math.max(0, others / available);
}

/** CPU time a running process has used so far, in ms (0 once it is gone). */
export function processCpuMs(pid: number | undefined): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) * 10;
  } catch {
    return 0;
  }
}

/** A process whose CPU time a measurement reports, by a label such as `master 1`. */
export interface Watched {
  label: string;
  pid: number | undefined;
}

/** CPU ms per request of each watched process, by label. */
export type CpuPerRequest = Record<string, number>;

/** Runs `work` (which returns how many requests it made) and each process's CPU per request. */
export async function cpuPerRequest<T>(
  watched: Watched[],
  work: () => Promise<T>,
  requests: (result: T) => number,
): Promise<{ result: T; cpu: CpuPerRequest }> {
  const before = watched.map((w) => processCpuMs(w.pid));
  const result = await work();
  const n = Math.max(1, requests(result));
  const cpu: CpuPerRequest = {};
  for (const [i, w] of watched.entries()) {
    cpu[w.label] = (processCpuMs(w.pid) - (before[i] ?? 0)) / n;
  }
  return { result, cpu };
}
