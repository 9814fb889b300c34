/**
 * The median of several runs of one measurement, field by field: every number is the median
 * of that number over the runs; anything else (names, lists) is taken from the first run.
 */
export function medianOf<T>(runs: T[]): T {
  const first = runs[0];
  if (typeof first === 'number') return median(runs as number[]) as T;
  if (typeof first !== 'object' || first === null || Array.isArray(first)) return first as T;
  const fields = Object.keys(first).map((name) => [
    name,
    medianOf(runs.map((run) => (run as Record<string, unknown>)[name])),
  ]);
  return Object.fromEntries(fields) as T;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1
    ? (sorted[middle] as number)
    : ((sorted[middle - 1] as number) + (sorted[middle] as number)) / 2;
}
