import { type ChildProcess, fork, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { NodeStatus } from '../../cluster/node-status.js';
import { isReadyMessage, type ReadyMessage } from '../../server/ready-message.js';
import { freePort } from './free-port.js';
import { waitFor } from './wait-for.js';

/**
 * Real diststore nodes as child processes on loopback, for integration tests and the bench.
 * Each fleet has its own cluster name and multicast port, so test files can run in parallel;
 * HTTP and multicast are always on 127.0.0.1. Nodes listen on port 0 and report the port they
 * bound, so no two fleets race for a free port.
 */

const MAIN = fileURLToPath(new URL('../../server/main.ts', import.meta.url));
/** Longest a node may take from fork to its ready message (tsx compiles on a loaded machine). */
const READY_TIMEOUT_MS = 30_000;

/**
 * The test process's environment without the daemon's own variables (DISTSTORE_SECRET, say,
 * exported in a developer's shell): a node under test gets only what its test gives it.
 * The tests' own (DISTSTORE_TEST_*) stay.
 */
function hermeticEnv(): NodeJS.ProcessEnv {
  return Object.fromEntries(
    Object.entries(process.env).filter(
      ([name]) => !name.startsWith('DISTSTORE_') || name.startsWith('DISTSTORE_TEST_'),
    ),
  );
}

/** Runs the daemon until it exits by itself; returns its exit code and stderr. */
export function runDaemon(
  args: string[],
  env: Record<string, string> = {},
): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', MAIN, ...args], {
      env: { ...hermeticEnv(), ...env },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (chunk) => {
      stderr += chunk;
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
    // 'close': at 'exit' the last of stderr may still be unread in the pipe.
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stderr });
    });
  });
}

/**
 * The master set every status agrees on, if all nodes are ready and share one full set
 * drawn from `ids`; undefined otherwise. Used by every fleet helper's `settled()`.
 */
export function agreedMasters<S extends Pick<NodeStatus, 'node' | 'masters'>>(
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

/** One node process of a fleet: its output, its ports once ready, and HTTP helpers. */
export class NodeProcess {
  output = '';
  readonly exited: Promise<number | null>;
  private readyMessage: ReadyMessage | undefined;

  constructor(
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

  /** Waits for the daemon's ready message; rejects with its output if it exits or stalls. */
  ready(timeoutMs = READY_TIMEOUT_MS): Promise<ReadyMessage> {
    return new Promise((resolve, reject) => {
      const done = () => {
        clearTimeout(timer);
        this.child.off('message', onMessage);
        this.child.off('exit', onExit);
      };
      const onMessage = (message: unknown) => {
        if (!isReadyMessage(message)) return;
        done();
        this.readyMessage = message;
        resolve(message);
      };
      const onExit = (code: number | null) => {
        done();
        reject(new Error(`node exited with ${code}:\n${this.output}`));
      };
      const timer = setTimeout(() => {
        done();
        reject(new Error(`node not ready after ${timeoutMs} ms:\n${this.output}`));
      }, timeoutMs);
      this.child.on('message', onMessage);
      this.child.once('exit', onExit);
    });
  }

  private get reported(): ReadyMessage {
    if (!this.readyMessage) throw new Error('the node has not said it is ready yet');
    return this.readyMessage;
  }

  /** The HTTP port the node bound. */
  get port(): number {
    return this.reported.port;
  }

  /** The RESP port the node bound (fleets started with `resp: true`). */
  get respPort(): number {
    const { respPort } = this.reported;
    if (respPort === undefined) throw new Error(`node ${this.id} has no RESP port`);
    return respPort;
  }

  /** The node's id, as it reported it (its advertised address unless --id was given). */
  get id(): string {
    return this.reported.id;
  }

  get running(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
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

  async status(): Promise<NodeStatus> {
    return (await (await this.get('/status')).json()) as NodeStatus;
  }

  /** The value of one metric series from /metrics (0 when absent). */
  async metric(name: string, labels = ''): Promise<number> {
    const text = await (await this.get('/metrics')).text();
    const line = text
      .split('\n')
      .find((l) => l.startsWith(`${name}${labels ? `{${labels}}` : ''} `));
    return line ? Number(line.split(' ')[1]) : 0;
  }

  /** The sum of every series of a metric, whatever its labels. */
  async metricTotal(name: string): Promise<number> {
    const text = await (await this.get('/metrics')).text();
    return text
      .split('\n')
      .filter((l) => l.startsWith(`${name}{`) || l.startsWith(`${name} `))
      .reduce((sum, l) => sum + Number(l.split(' ')[1]), 0);
  }

  /** Sends a signal and waits for the process to exit; returns its exit code. */
  async stop(signal: NodeJS.Signals = 'SIGTERM'): Promise<number | null> {
    if (this.running) this.child.kill(signal);
    return this.exited;
  }
}

export interface FleetOptions {
  /** Extra flags for every node. */
  args?: string[];
  /** --announce-ms of every node. */
  announceMs?: number;
  /** A data dir for each node, in start order. */
  dataDirs?: string[];
  /** Extra flags for the node started `index`-th. */
  perNode?: (index: number) => string[];
  /** A client token for every node (given by variable, kept out of `ps`). */
  token?: string;
  /** Environment variables for every node (DISTSTORE_SECRET, say, kept out of `ps`). */
  env?: Record<string, string>;
  /** Every node also opens a RESP port (`--resp-port 0`); `node.respPort` is its port. */
  resp?: boolean;
  /** The daemon's entry and node flags; default: server/main.ts through tsx. */
  daemon?: { script: string; execArgv: string[] };
  /** --log-level of every node; default: $DISTSTORE_TEST_LOG, else warn. */
  logLevel?: string;
  /** How long `start` and `settled` wait for the nodes to agree on masters. */
  settleMs?: number;
  /** Called with each process as it is forked (the bench tracks them to kill on exit). */
  onFork?: (child: ChildProcess, name: string) => void;
}

/** A cluster of real node processes sharing one cluster name and multicast port. */
export class Fleet {
  readonly nodes: NodeProcess[] = [];
  readonly cluster = `t${process.pid}-${Math.random().toString(36).slice(2, 8)}`;
  private port: number | undefined;

  constructor(private readonly options: FleetOptions = {}) {}

  /** A fleet of `count` nodes that agree on their masters. */
  static async start(count: number, options: FleetOptions = {}): Promise<Fleet> {
    const fleet = new Fleet(options);
    await fleet.open(count);
    return fleet;
  }

  /** Starts `count` nodes and waits until they agree; on failure stops what it started. */
  async open(count: number): Promise<void> {
    try {
      this.port ??= await freePort('udp');
      await Promise.all(Array.from({ length: count }, () => this.add()));
      await this.settled();
    } catch (error) {
      // Nodes left running would keep the test process, and so the whole run, from ending.
      await this.close();
      throw error;
    }
  }

  /** The UDP port of the fleet's multicast group. */
  get multicastPort(): number {
    if (this.port === undefined) throw new Error('the fleet has not been started');
    return this.port;
  }

  /** Starts one more node and waits until it has joined. */
  async add(extraArgs: string[] = [], env: Record<string, string> = {}): Promise<NodeProcess> {
    const { options } = this;
    const index = this.nodes.length;
    const dataDir = options.dataDirs?.[index];
    const args = [
      ...(dataDir ? ['--data-dir', dataDir] : []),
      ...['--bind', '127.0.0.1', '--port', '0'],
      ...(options.resp ? ['--resp-port', '0'] : []),
      ...['--cluster', this.cluster, '--multicast-port', String(this.multicastPort)],
      ...['--multicast-interface', '127.0.0.1'],
      // 400 ms: quick failovers, yet a node starved of CPU for a second by a loaded CI machine
      // is not declared dead (3 missed announcements) at every turn.
      ...['--announce-ms', String(options.announceMs ?? 400)],
      ...['--log-level', options.logLevel ?? process.env.DISTSTORE_TEST_LOG ?? 'warn'],
      ...(options.args ?? []),
      ...(options.perNode?.(index) ?? []),
      ...extraArgs,
    ];
    const { token } = options;
    const { script, execArgv } = options.daemon ?? { script: MAIN, execArgv: ['--import', 'tsx'] };
    const child = fork(script, args, {
      execArgv,
      env: {
        ...hermeticEnv(),
        ...(token ? { DISTSTORE_CLIENT_TOKEN: token } : {}),
        ...options.env,
        ...env,
      },
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
    });
    options.onFork?.(child, `node ${index}`);
    const node = new NodeProcess(child, token, dataDir);
    // With DISTSTORE_TEST_LOG set, the nodes' logs go to the test's stderr as well.
    if (process.env.DISTSTORE_TEST_LOG) {
      child.stdout?.pipe(process.stderr);
      child.stderr?.pipe(process.stderr);
    }
    // In `nodes` before it is ready, so that close() stops it whatever happens.
    this.nodes.push(node);
    await node.ready();
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
    return this.nodes.filter((n) => n.running);
  }

  /** Waits until every live node is ready and agrees on one full master set. */
  async settled(timeoutMs = this.options.settleMs ?? 10_000): Promise<NodeStatus['masters']> {
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

  masterNodes(masters: { ids: readonly string[] }): NodeProcess[] {
    return this.nodes.filter((n) => masters.ids.includes(n.id));
  }

  /** Stops every node (SIGKILL for any that does not stop on SIGTERM); safe to call twice. */
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
