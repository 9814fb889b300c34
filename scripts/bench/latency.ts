/** Latencies of many requests, summarised. */
export interface Latency {
  count: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
}

/** Nearest-rank percentiles of samples in milliseconds. */
export function summarize(samples: number[]): Latency {
  const sorted = [...samples].sort((a, b) => a - b);
  const rank = (p: number) =>
    sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? 0;
  return { count: sorted.length, p50Ms: rank(50), p99Ms: rank(99), maxMs: sorted.at(-1) ?? 0 };
}

/**
 * Times `count` calls of `step`, one after another (each the only request in flight), and
 * stops early at the deadline; a step that throws ends the loop with its error.
 */
export async function timeEach(
  count: number,
  deadlineMs: number,
  step: (i: number) => Promise<void>,
): Promise<Latency> {
  return summarize(await timeSamples(count, deadlineMs, step));
}

/** timeEach's samples, in milliseconds, unsummarised. */
export async function timeSamples(
  count: number,
  deadlineMs: number,
  step: (i: number) => Promise<void>,
): Promise<number[]> {
  const samples: number[] = [];
  const deadline = performance.now() + deadlineMs;
  for (let i = 0; i < count && performance.now() < deadline; i++) {
    const started = performance.now();
    await step(i);
    samples.push(performance.now() - started);
  }
  if (samples.length < count) {
    process.stderr.write(`bench: deadline reached after ${samples.length} of ${count} requests\n`);
  }
  return samples;
}
