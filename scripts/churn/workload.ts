import type { Op } from './history.js';
import { seededRng } from './prng.js';

/**
 * The concurrent workload of a churn run: writers post unique values and readers get keys,
 * each through a random node, every request recorded with its start, end, node and answer.
 * Bounded: it stops when told, after `maxOps` requests per client, or at `deadlineMs`.
 */

export interface WorkloadOptions {
  /** Base URLs of the nodes (`http://198.18.0.1:8181`), by index. */
  nodes: string[];
  keys: string[];
  writers?: number;
  readers?: number;
  seed: number;
  /** Milliseconds since the run began (the history's clock). */
  now: () => number;
  /**
   * Longest wait for one answer; a paused or cut node never answers, and a write during a
   * failover legitimately waits for a peer timeout, a probe and a retry (as in the harness).
   */
  requestTimeoutMs?: number;
  /** Pause between one client's requests (keeps a 2-core machine usable). */
  thinkMs?: [number, number];
  maxOps?: number;
  /** On the history's clock: no request starts after it. */
  deadlineMs: number;
}

export interface Workload {
  readonly ops: Op[];
  /** No request starts after this; those in flight go on. */
  halt(): void;
  /** Stops issuing requests and waits for those in flight (each bounded by its timeout). */
  stop(): Promise<void>;
}

/** Starts the clients; they run until stop() or their bounds. */
export function startWorkload({
  nodes,
  keys,
  writers = 8,
  readers = 3,
  seed,
  now,
  requestTimeoutMs = 10_000,
  thinkMs = [10, 60],
  maxOps = 20_000,
  deadlineMs,
}: WorkloadOptions): Workload {
  if (nodes.length === 0 || keys.length === 0) throw new Error('workload: no nodes or no keys');
  const ops: Op[] = [];
  let stopped = false;
  const client = async (name: string, index: number, type: Op['type']) => {
    // Each client its own stream, derived from the run's seed.
    const rng = seededRng(seed * 31 + index + (type === 'write' ? 0 : 1000));
    for (let i = 0; i < maxOps && !stopped && now() < deadlineMs; i++) {
      const node = rng.int(0, nodes.length - 1);
      const key = rng.pick(keys);
      const base = nodes[node] as string;
      ops.push(
        type === 'write'
          ? await writeOp(base, name, node, key, `${name}-${i}`, now, requestTimeoutMs)
          : await readOp(base, name, node, key, now, requestTimeoutMs),
      );
      await sleep(rng.int(thinkMs[0], thinkMs[1]));
    }
  };
  const running = Promise.all([
    ...Array.from({ length: writers }, (_, w) => client(`w${w}`, w, 'write')),
    ...Array.from({ length: readers }, (_, r) => client(`r${r}`, r, 'read')),
  ]);
  return {
    ops,
    halt() {
      stopped = true;
    },
    async stop() {
      stopped = true;
      await running;
    },
  };
}

async function writeOp(
  base: string,
  client: string,
  node: number,
  key: string,
  value: string,
  now: () => number,
  timeoutMs: number,
): Promise<Op> {
  const start = now();
  try {
    const response = await fetch(`${base}/post`, {
      method: 'POST',
      body: new URLSearchParams({ key, value }),
      signal: AbortSignal.timeout(timeoutMs),
    });
    const body = (await response.json().catch(() => ({}))) as { version?: string; code?: string };
    const op: Op = { type: 'write', client, node, key, value, start, end: now(), status: 0 };
    op.status = response.status;
    if (response.status === 200) op.version = body.version;
    else op.error = body.code ?? `http-${response.status}`;
    return op;
  } catch (error) {
    return {
      type: 'write',
      client,
      node,
      key,
      value,
      start,
      end: now(),
      status: 0,
      error: why(error),
    };
  }
}

async function readOp(
  base: string,
  client: string,
  node: number,
  key: string,
  now: () => number,
  timeoutMs: number,
): Promise<Op> {
  const start = now();
  try {
    const response = await fetch(`${base}/get?key=${encodeURIComponent(key)}`, {
      signal: AbortSignal.timeout(timeoutMs),
    });
    const text = await response.text();
    const op: Op = { type: 'read', client, node, key, start, end: now(), status: response.status };
    if (response.status === 200) {
      op.value = text;
      op.version = response.headers.get('x-diststore-version') ?? undefined;
    } else {
      op.error = errorCode(text) ?? `http-${response.status}`;
    }
    return op;
  } catch (error) {
    return { type: 'read', client, node, key, start, end: now(), status: 0, error: why(error) };
  }
}

/** The `code` of a JSON error answer. */
function errorCode(text: string): string | undefined {
  try {
    return (JSON.parse(text) as { code?: string }).code;
  } catch {
    return undefined;
  }
}

/** A short reason a request got no answer: `timeout`, `ECONNREFUSED`, … */
export function why(error: unknown): string {
  const e = error as { name?: string; cause?: { code?: string } };
  if (e.name === 'TimeoutError' || e.name === 'AbortError') return 'timeout';
  return e.cause?.code ?? e.name ?? 'error';
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
