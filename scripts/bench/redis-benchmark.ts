import { run } from './processes.js';

/** One redis-benchmark run: its figures from the CSV line. */
export interface RedisBenchmarkResult {
  requests: number;
  rps: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
}

export interface RedisBenchmarkOptions {
  port: number;
  test: 'get' | 'set';
  requests: number;
  connections: number;
  /** Commands each connection sends before reading the answers (-P); 1: none. */
  pipeline: number;
  valueBytes: number;
  /** -r: keys drawn from this many (`key:000000012345`); 0 or absent: the one key. */
  keyspace?: number;
}

/** redis-benchmark's version, or undefined when it is not installed. */
export async function redisBenchmarkVersion(): Promise<string | undefined> {
  try {
    return (await run('redis-benchmark', ['--version'], { timeoutMs: 5000 })).trim();
  } catch {
    return undefined;
  }
}

/** Runs Debian's redis-benchmark against 127.0.0.1:port and reads its --csv line. */
export async function redisBenchmark(
  options: RedisBenchmarkOptions,
): Promise<RedisBenchmarkResult> {
  const args = [
    ['-h', '127.0.0.1'],
    ['-p', String(options.port)],
    ['-c', String(options.connections)],
    ['-n', String(options.requests)],
    ['-d', String(options.valueBytes)],
    ['-P', String(options.pipeline)],
    ['-t', options.test],
    options.keyspace ? ['-r', String(options.keyspace)] : [],
    ['--csv'],
  ].flat();
  // Bounded by the request count; the time limit only guards against a server that stalls.
  const out = await run('redis-benchmark', args, { timeoutMs: 180_000 });
  const line = out
    .split('\n')
    .find((l) => l.toUpperCase().startsWith(`"${options.test.toUpperCase()}"`));
  if (!line) throw new Error(`redis-benchmark printed no ${options.test} line:\n${out}`);
  // "test","rps","avg_latency_ms","min_latency_ms","p50_latency_ms","p95_latency_ms","p99_latency_ms","max_latency_ms"
  const [, rps, , , p50, , p99, max] = line
    .split(',')
    .map((cell) => Number(cell.replaceAll('"', '')));
  return {
    requests: options.requests,
    rps: rps ?? 0,
    p50Ms: p50 ?? 0,
    p99Ms: p99 ?? 0,
    maxMs: max ?? 0,
  };
}
