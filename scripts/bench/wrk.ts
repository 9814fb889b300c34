import { fileURLToPath } from 'node:url';
import { run } from './processes.js';

/** Lua scripts beside this file: report.lua prints the results, post.lua writes keys. */
const LUA_DIR = fileURLToPath(new URL('./wrk/', import.meta.url));

/** What one wrk run measured. */
export interface Throughput {
  requests: number;
  seconds: number;
  rps: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
  /** Socket errors and timeouts. */
  errors: number;
  /** Answers that were not 2xx or 3xx. */
  badStatus: number;
}

export interface WrkOptions {
  url: string;
  connections: number;
  seconds: number;
  /** post: distinct keys with 100-byte values, form-POSTed to the URL's path. */
  post?: { keyPrefix: string; maxRequestsPerThread: number };
}

/** wrk's threads: one leaves the other core to the server (2 cores here). */
const THREADS = 1;

/** Runs wrk once; it stops by itself after `seconds` (and, for posts, a request count). */
export async function wrk(options: WrkOptions): Promise<Throughput> {
  const url = new URL(options.url);
  if (url.hostname !== '127.0.0.1') throw new Error(`wrk only targets 127.0.0.1, not ${url}`);
  const script = options.post ? 'post.lua' : 'report.lua';
  const stdout = await run(
    'wrk',
    [
      `-t${THREADS}`,
      `-c${options.connections}`,
      `-d${options.seconds}s`,
      '--timeout',
      '5s',
      '-s',
      `${LUA_DIR}${script}`,
      url.href,
    ],
    {
      env: {
        ...process.env,
        BENCH_WRK_DIR: LUA_DIR,
        BENCH_PATH: url.pathname,
        BENCH_KEY_PREFIX: options.post?.keyPrefix ?? '',
        BENCH_MAX_REQUESTS: String(options.post?.maxRequestsPerThread ?? 0),
      },
      timeoutMs: (options.seconds + 30) * 1000,
    },
  );
  const line = stdout.split('\n').find((l) => l.startsWith('BENCH_WRK '));
  if (!line) throw new Error(`wrk printed no result:\n${stdout}`);
  const r = JSON.parse(line.slice('BENCH_WRK '.length)) as Record<string, number>;
  const n = (name: string) => r[name] ?? 0;
  const seconds = n('durationUs') / 1e6;
  return {
    requests: n('requests'),
    seconds,
    rps: n('requests') / seconds,
    p50Ms: n('p50Us') / 1000,
    p99Ms: n('p99Us') / 1000,
    maxMs: n('maxUs') / 1000,
    errors: n('connectErrors') + n('readErrors') + n('writeErrors') + n('timeouts'),
    badStatus: n('statusErrors'),
  };
}

/** wrk's version, or undefined when it is not installed (the bench then says how). */
export async function wrkVersion(): Promise<string | undefined> {
  try {
    // `wrk -v` prints its version, then its usage, and exits 1.
    await run('wrk', ['-v'], { timeoutMs: 5000 });
  } catch (error) {
    return /^wrk (\S+)/m.exec(String(error))?.[1];
  }
  return undefined;
}
