import { type ChildProcess, fork, spawn } from 'node:child_process';
import dgram from 'node:dgram';
import net from 'node:net';
import { fileURLToPath } from 'node:url';

/**
 * Real diststore nodes as child processes on loopback, for integration tests. Each fleet has
 * its own cluster name and multicast port, so test files can run in parallel; multicast is
 * always on the 127.0.0.1 interface.
 */

const MAIN = fileURLToPath(new URL('../../server/main.ts', import.meta.url));

type Truthy<T> = Exclude<T, undefined | null | false | 0 | ''>;

/** Polls until `check` returns a truthy value; fails with `what` after the deadline. */
export async function waitFor<T>(
  check: () => T | Promise<T>,
  what: string,
  timeoutMs = 10_000,
): Promise<Truthy<T>> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const value = await check();
      if (value) return value as Truthy<T>;
    } catch (error) {
      lastError = error;
    }
    if (Date.now() > deadline) {
      throw new Error(
        `timed out after ${timeoutMs} ms waiting for ${what}${lastError ? `: ${lastError}` : ''}`,
      );
    }
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

/** Runs the daemon until it exits by itself; returns its exit code and stderr. */
export function runDaemon(
  args: string[],
  env: Record<string, string> = {},
): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', MAIN, ...args], {
      env: { ...process.env, ...env },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (chunk) => {
      stderr += chunk;
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stderr });
    });
  });
}

/**
 * The master set every status agrees on, if all nodes are ready and share one full set
 * drawn from `ids`; undefined otherwise. Used by every fleet helper's `settled()`.
 */
export function agreedMasters<S extends Pick<Status, 'node' | 'masters'>>(
  statuses: S[],
  ids: string[],
): S['masters'] | undefined {
  const first = statuses[0]?.masters;
  const agreed = statuses.every(
    (s) =>
      s.node.state === 'ready' &&
      s.masters.epoch === first?.epoch &&
      s.masters.ids.join() === first.ids.join() &&
      s.masters.ids.length === Math.min(2, statuses.length) &&
      s.masters.ids.every((id) => ids.includes(id)),
  );
  return agreed ? first : undefined;
}

/** A port nobody is using right now (TCP or UDP on 127.0.0.1). */
export async function freePort(kind: 'tcp' | 'udp'): Promise<number> {
  if (kind === 'udp') {
    const socket = dgram.createSocket('udp4');
    await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
    const { port } = socket.address();
    await new Promise<void>((resolve) => socket.close(resolve));
    return port;
  }
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

export class NodeProcess {
  output = '';
  exited: Promise<number | null>;

  constructor(
    readonly port: number,
    readonly child: ChildProcess,
    /** The node's client token, sent by get/post/status/metric. */
    readonly token?: string,
    /** The --data-dir the fleet gave it, if any. */
    readonly dataDir?: string,
  ) {
    child.stdout?.on('data', (chunk) => {
      this.output += chunk;
    });
    child.stderr?.on('data', (chunk) => {
      this.output += chunk;
    });
    this.exited = new Promise((resolve) => child.once('exit', (code) => resolve(code)));
  }

  get id(): string {
    return `127.0.0.1:${this.port}`;
  }

  url(path: string): string {
    return `http://127.0.0.1:${this.port}${path}`;
  }

  /** The Authorization header of the node's client token, if it has one. */
  get auth(): Record<string, string> {
    return this.token ? { authorization: `Bearer ${this.token}` } : {};
  }

  async get(path: string): Promise<Response> {
    return fetch(this.url(path), { headers: this.auth });
  }

  async post(path: string, fields: Record<string, string>): Promise<Response> {
    return fetch(this.url(path), {
      method: 'POST',
      body: new URLSearchParams(fields),
      headers: this.auth,
    });
  }

  async status(): Promise<Status> {
    return (await (await this.get('/status')).json()) as Status;
  }

  /** The value of one metric series from /metrics (0 when absent). */
  async metric(name: string, labels = ''): Promise<number> {
    const text = await (await this.get('/metrics')).text();
    const line = text
      .split('\n')
      .find((l) => l.startsWith(`${name}${labels ? `{${labels}}` : ''} `));
    return line ? Number(line.split(' ')[1]) : 0;
  }

  /** Sends a signal and waits for the process to exit; returns its exit code. */
  async stop(signal: NodeJS.Signals = 'SIGTERM'): Promise<number | null> {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill(signal);
    return this.exited;
  }
}

export interface Status {
  node: { id: string; state: string; role: string };
  masters: { epoch: number; ids: string[] };
  members: { id: string; keys: number; state: string; alive: boolean; master: boolean }[];
  store: { primary: number; cached: number; primaryBytes: number; cachedBytes: number };
}

export interface FleetOptions {
  /** Extra flags for every node. */
  args?: string[];
  announceMs?: number;
  /** A data dir for each node, in start order. */
  dataDirs?: string[];
  /** Extra flags for the node started `index`-th. */
  perNode?: (index: number) => string[];
  /** A client token for every node (given by variable, kept out of `ps`). */
  token?: string;
}

/** A cluster of real node processes sharing one cluster name and multicast port. */
export class Fleet {
  readonly nodes: NodeProcess[] = [];
  readonly cluster = `t${process.pid}-${Math.random().toString(36).slice(2, 8)}`;
  /** Nodes being started but not yet in `nodes` (for the data dir order). */
  private starting = 0;

  private constructor(
    readonly multicastPort: number,
    private readonly options: FleetOptions,
  ) {}

  static async start(count: number, options: FleetOptions = {}): Promise<Fleet> {
    const fleet = new Fleet(await freePort('udp'), options);
    try {
      await Promise.all(Array.from({ length: count }, () => fleet.add()));
      await fleet.settled();
    } catch (error) {
      // Nodes left running would keep the test process, and so the whole run, from ending.
      await fleet.close();
      throw error;
    }
    return fleet;
  }

  /** Starts one more node and waits until it has joined. */
  async add(extraArgs: string[] = [], env: Record<string, string> = {}): Promise<NodeProcess> {
    const index = this.nodes.length + this.starting++;
    const dataDir = this.options.dataDirs?.[index];
    const port = await freePort('tcp');
    const args = [
      ...(dataDir ? ['--data-dir', dataDir] : []),
      '--port',
      String(port),
      '--cluster',
      this.cluster,
      '--multicast-port',
      String(this.multicastPort),
      '--multicast-interface',
      '127.0.0.1',
      '--announce-ms',
      // 400 ms: quick failovers, yet a node starved of CPU for a second by a loaded CI machine
      // is not declared dead (3 missed announcements) at every turn.
      String(this.options.announceMs ?? 400),
      '--log-level',
      process.env.DISTSTORE_TEST_LOG ?? 'warn',
      ...(this.options.args ?? []),
      ...(this.options.perNode?.(index) ?? []),
      ...extraArgs,
    ];
    const token = this.options.token;
    const child = fork(MAIN, args, {
      execArgv: ['--import', 'tsx'],
      env: { ...process.env, ...(token ? { DISTSTORE_CLIENT_TOKEN: token } : {}), ...env },
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
    });
    const node = new NodeProcess(port, child, token, dataDir);
    this.starting--;
    // With DISTSTORE_TEST_LOG set, the nodes' logs go to the test's stderr as well.
    if (process.env.DISTSTORE_TEST_LOG) {
      child.stdout?.pipe(process.stderr);
      child.stderr?.pipe(process.stderr);
    }
    this.nodes.push(node);
    await new Promise<void>((resolve, reject) => {
      child.once('message', (message) =>
        message === 'ready' ? resolve() : reject(new Error(String(message))),
      );
      child.once('exit', (code) =>
        reject(new Error(`node ${port} exited with ${code}:\n${node.output}`)),
      );
    });
    return node;
  }

  /** The node started `index`-th. */
  node(index: number): NodeProcess {
    const node = this.nodes[index];
    if (!node) throw new Error(`no node ${index} in a fleet of ${this.nodes.length}`);
    return node;
  }

  /** Nodes still running. */
  get alive(): NodeProcess[] {
    return this.nodes.filter((n) => n.child.exitCode === null && n.child.signalCode === null);
  }

  /** Waits until every live node is ready and agrees on one full master set. */
  async settled(timeoutMs = 10_000): Promise<Status['masters']> {
    return waitFor(
      async () =>
        agreedMasters(
          await Promise.all(this.alive.map((n) => n.status())),
          this.alive.map((n) => n.id),
        ),
      'the fleet to agree on its masters',
      timeoutMs,
    );
  }

  masterNodes(masters: Status['masters']): NodeProcess[] {
    return this.nodes.filter((n) => masters.ids.includes(n.id));
  }

  /** Stops every node (SIGKILL for any that does not stop on SIGTERM). */
  async close(): Promise<void> {
    await Promise.all(
      this.alive.map(async (node) => {
        const timer = setTimeout(() => node.child.kill('SIGKILL'), 8000);
        await node.stop('SIGTERM');
        clearTimeout(timer);
      }),
    );
  }
}
