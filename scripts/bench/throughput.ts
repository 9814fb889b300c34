import { fileURLToPath } from 'node:url';
import { freePort } from '../../test/support/free-port.js';
import { type CpuPerRequest, cpuPerRequest, type Watched } from './cpu.js';
import type { BenchNode } from './fleet.js';
import { call } from './http-client.js';
import { inTurn, joined, slicesOf } from './in-turn.js';
import { type Child, forkReady } from './processes.js';
import type { Settings } from './settings.js';
import { type Throughput, wrk } from './wrk.js';

/** 100 bytes, the value size of every measurement. */
export const VALUE = 'v'.repeat(100);

/** A wrk run, with the CPU time the servers spent per request. */
export interface Served extends Throughput {
  cpu: CpuPerRequest;
}

/** An unmeasured warm-up run, then the measured one, of the same load. */
async function warmAndMeasure(
  settings: Settings,
  url: string,
  watched: Watched[],
  post?: { keyPrefix: string },
): Promise<Served> {
  // A bound on the keys a POST run creates: far above any rate reached here.
  const cap = (seconds: number) => ({ maxRequestsPerThread: seconds * 100_000 });
  const base = { url, connections: settings.connections };
  await wrk({
    ...base,
    seconds: settings.warmupSeconds,
    ...(post && { post: { keyPrefix: `${post.keyPrefix}-warm`, ...cap(settings.warmupSeconds) } }),
  });
  const { result, cpu } = await cpuPerRequest(
    watched,
    () =>
      wrk({
        ...base,
        seconds: settings.seconds,
        ...(post && { post: { keyPrefix: post.keyPrefix, ...cap(settings.seconds) } }),
      }),
    (t) => t.requests,
  );
  return { ...result, cpu };
}

/** A baseline server (servers/<name>.ts) in its own process, until stopped. */
export async function baselineServer(name: 'bare-http' | 'hono-hello'): Promise<Loaded> {
  const port = await freePort('tcp');
  const script = fileURLToPath(new URL(`./servers/${name}.ts`, import.meta.url));
  const server = await forkReady(name, script, [String(port)], ['--import', 'tsx']);
  return {
    url: `http://127.0.0.1:${port}/`,
    watched: [{ label: 'server', pid: server.process.pid }],
    stop: () => server.stop(),
  };
}

/** A GET load's target: its URL and the processes whose CPU it costs. */
export interface Loaded {
  url: string;
  watched: Watched[];
  stop?: () => Promise<unknown>;
}

/**
 * GET loads on several servers, side by side: each warmed up, then measured in slices taken in
 * turn (inTurn), `settings.seconds` in all for each. Rates and CPU over all of a server's
 * slices; p50 and p99 the medians of its slices', max the highest.
 */
export async function servedInTurn(targets: Loaded[], settings: Settings): Promise<Served[]> {
  const base = { connections: settings.connections };
  for (const { url } of targets) await wrk({ ...base, url, seconds: settings.warmupSeconds });
  const { slices, seconds } = slicesOf(settings);
  const taken = await inTurn(
    targets,
    slices,
    ({ url }) => wrk({ ...base, url, seconds }),
    (run) => run.requests,
  );
  return taken.map(({ runs, cpu }) => ({
    ...joined(runs),
    errors: runs.reduce((total, run) => total + run.errors, 0),
    badStatus: runs.reduce((total, run) => total + run.badStatus, 0),
    cpu,
  }));
}

/** A bare UDP receiver in a bench fleet's multicast group (see servers/udp-sink.ts). */
export function udpSink(multicastPort: number): Promise<Child> {
  const script = fileURLToPath(new URL('./servers/udp-sink.ts', import.meta.url));
  return forkReady('udp-sink', script, [String(multicastPort)], ['--import', 'tsx']);
}

/** GET /get-local of a key the node holds (stored now), as a load for servedInTurn. */
export async function getLocalHits(node: BenchNode): Promise<Loaded> {
  const written = await call(node.agent, node.port, '/post-local', { key: 'hit', value: VALUE });
  if (written.status !== 200) throw new Error(`post-local: HTTP ${written.status}`);
  return {
    url: `http://127.0.0.1:${node.port}/get-local/hit`,
    watched: [{ label: 'node', pid: node.child.process.pid }],
  };
}

/** POST /post of distinct keys on a node that is not a master: each goes to both masters. */
export async function replicatedPosts(
  node: BenchNode,
  fleet: Watched[],
  settings: Settings,
): Promise<Served> {
  return warmAndMeasure(settings, `http://127.0.0.1:${node.port}/post`, fleet, {
    keyPrefix: 'wrk',
  });
}
