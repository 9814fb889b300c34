import { call, keepAliveAgent } from './http-client.js';

export interface LoadOptions {
  port: number;
  /** /post (replicated) or /post-local. */
  path: string;
  count: number;
  key: (i: number) => string;
  value: string;
  concurrency: number;
  /** The load fails if it is not done by then. */
  deadlineMs: number;
}

/** Writes `count` keys with `concurrency` requests in flight on keep-alive connections. */
export async function loadKeys(options: LoadOptions): Promise<{ seconds: number }> {
  const agent = keepAliveAgent(options.concurrency);
  const started = performance.now();
  const deadline = started + options.deadlineMs;
  let next = 0;
  const worker = async () => {
    while (next < options.count) {
      if (performance.now() > deadline) {
        throw new Error(`loading ${options.count} keys: only ${next} sent by the deadline`);
      }
      const key = options.key(next++);
      const answer = await call(agent, options.port, options.path, { key, value: options.value });
      if (answer.status !== 200) {
        throw new Error(`${options.path} of ${key}: HTTP ${answer.status} ${answer.body}`);
      }
    }
  };
  try {
    await Promise.all(Array.from({ length: options.concurrency }, worker));
  } finally {
    agent.destroy();
  }
  return { seconds: (performance.now() - started) / 1000 };
}
