import type { ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { NodeStatus } from '../../cluster/node-status.js';
import { Fleet, type FleetOptions, type NodeProcess } from '../../test/support/fleet.js';
import type { Watched } from './cpu.js';
import { call, keepAliveAgent } from './http-client.js';
import { Child } from './processes.js';

/** The compiled daemon (`npm run build`): what is measured is what ships. */
export const DAEMON = fileURLToPath(new URL('../../dist/server/main.js', import.meta.url));

export function daemonBuilt(): boolean {
  return existsSync(DAEMON);
}

/** How the bench runs the test fleet's nodes: as they run in production. */
const BENCH_FLEET: FleetOptions = {
  // No tsx in the nodes: the compiled daemon.
  daemon: {
    script: DAEMON,
    // Node flags for the daemons, to profile them (docs/performance.md, "How to reproduce").
    execArgv: process.env.BENCH_NODE_ARGS ? process.env.BENCH_NODE_ARGS.split(' ') : [],
  },
  resp: true,
  // The daemon's default: the figures are those of a node as configured out of the box.
  announceMs: 1000,
  logLevel: 'warn',
  settleMs: 20_000,
};

/** One diststore node process of a bench fleet, read over a keep-alive agent. */
export class BenchNode {
  readonly agent = keepAliveAgent(4);

  constructor(
    private readonly node: NodeProcess,
    /** Its process, tracked so that nothing the bench starts outlives it. */
    readonly child: Child,
  ) {}

  get port(): number {
    return this.node.port;
  }

  /** The node's RESP (Redis protocol) port. */
  get respPort(): number {
    return this.node.respPort;
  }

  get id(): string {
    return this.node.id;
  }

  /** Its process id, to watch its CPU time. */
  get pid(): number | undefined {
    return this.child.process.pid;
  }

  async status(): Promise<NodeStatus> {
    const answer = await call(this.agent, this.port, '/status');
    return JSON.parse(answer.body) as NodeStatus;
  }

  /** Every series of /metrics, by `name{labels}`. */
  async metrics(): Promise<Map<string, number>> {
    const answer = await call(this.agent, this.port, '/metrics');
    const series = new Map<string, number>();
    for (const line of answer.body.split('\n')) {
      if (line.startsWith('#') || !line) continue;
      const space = line.lastIndexOf(' ');
      series.set(line.slice(0, space), Number(line.slice(space + 1)));
    }
    return series;
  }

  /** The sum of every series of one metric (all label values). */
  async metric(name: string): Promise<number> {
    let sum = 0;
    for (const [series, value] of await this.metrics()) {
      if (series === name || series.startsWith(`${name}{`)) sum += value;
    }
    return sum;
  }
}

/**
 * A diststore cluster of its own: test/support/fleet.ts's Fleet (a unique cluster name and
 * multicast port, HTTP and multicast on 127.0.0.1 only, ports the nodes pick) running the
 * compiled daemon, memory-only nodes unless given data dirs, logs at warn.
 */
export class BenchFleet {
  readonly nodes: BenchNode[] = [];
  private readonly children = new Map<ChildProcess, Child>();
  private readonly fleet: Fleet;

  /**
   * `dataDirs`: a --data-dir for each node, in start order (default: memory only); `nodeEnv`:
   * variables for every node (a cluster secret).
   */
  constructor(dataDirs?: string[], nodeEnv?: Record<string, string>) {
    this.fleet = new Fleet({
      ...BENCH_FLEET,
      ...(dataDirs && { dataDirs }),
      ...(nodeEnv && { env: nodeEnv }),
      onFork: (process, name) => this.children.set(process, new Child(name, process)),
    });
  }

  static async start(count: number, dataDirs?: string[]): Promise<BenchFleet> {
    const bench = new BenchFleet(dataDirs);
    await bench.open(count);
    return bench;
  }

  /** Starts `count` nodes and waits until they agree on their masters. */
  async open(count: number): Promise<void> {
    await this.fleet.open(count);
    this.nodes.push(...this.fleet.nodes.map((n) => this.wrap(n)));
  }

  /** The fleet's cluster name (who-has hashes depend on it). */
  get cluster(): string {
    return this.fleet.cluster;
  }

  /** Starts one more node and waits until it has joined. */
  async add(): Promise<BenchNode> {
    const node = this.wrap(await this.fleet.add());
    this.nodes.push(node);
    return node;
  }

  private wrap(node: NodeProcess): BenchNode {
    const child = this.children.get(node.child);
    if (!child) throw new Error(`node ${node.id} was not forked by this fleet`);
    return new BenchNode(node, child);
  }

  /** The UDP port of the fleet's multicast group. */
  get multicastPort(): number {
    return this.fleet.multicastPort;
  }

  /** The node started `index`-th. */
  node(index: number): BenchNode {
    const node = this.nodes[index];
    if (!node) throw new Error(`no node ${index} in a fleet of ${this.nodes.length}`);
    return node;
  }

  get alive(): BenchNode[] {
    return this.nodes.filter((n) => n.child.running);
  }

  /** Waits until every live node is ready and all agree on a full master set. */
  settled(timeoutMs?: number): Promise<NodeStatus['masters']> {
    return this.fleet.settled(timeoutMs);
  }

  /** Its masters and the nodes that are not (the readers of a lookup). */
  async roles(): Promise<{ masters: BenchNode[]; members: BenchNode[] }> {
    const { ids } = await this.settled();
    return {
      masters: this.alive.filter((n) => ids.includes(n.id)),
      members: this.alive.filter((n) => !ids.includes(n.id)),
    };
  }

  /** Every live node as a process to watch the CPU of: `master 1`, `master 2`, `member 1`… */
  async watched(): Promise<Watched[]> {
    const { masters, members } = await this.roles();
    return [
      ...masters.map((n, i) => ({ label: `master ${i + 1}`, pid: n.child.process.pid })),
      ...members.map((n, i) => ({ label: `member ${i + 1}`, pid: n.child.process.pid })),
    ];
  }

  /** A master to write through, a member to read on, and every node to watch the CPU of. */
  async writerAndReader(): Promise<{ writer: BenchNode; reader: BenchNode; watched: Watched[] }> {
    const { masters, members } = await this.roles();
    const [writer] = masters;
    const [reader] = members;
    if (!writer || !reader) throw new Error('the fleet has no master or no member');
    return { writer, reader, watched: await this.watched() };
  }

  /** Stops every node (SIGTERM, then SIGKILL after the daemon's drain time). */
  async close(): Promise<void> {
    await this.fleet.close();
    for (const node of this.nodes) node.agent.destroy();
  }
}
