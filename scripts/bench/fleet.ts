import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { agreedMasters, freePort, waitFor } from '../../test/integration/fleet.js';
import type { Watched } from './cpu.js';
import { call, keepAliveAgent } from './http-client.js';
import { type Child, forkReady } from './processes.js';

/** The compiled daemon (`npm run build`): what is measured is what ships. */
export const DAEMON = fileURLToPath(new URL('../../dist/server/main.js', import.meta.url));

export function daemonBuilt(): boolean {
  return existsSync(DAEMON);
}

/** The part of /status the bench reads. */
export interface Status {
  node: { id: string; state: string; role: string };
  masters: { epoch: number; ids: string[] };
  store: { primary: number; cached: number; primaryBytes: number; cachedBytes: number };
}

/** One diststore node process of a bench fleet. */
export class BenchNode {
  readonly agent = keepAliveAgent(4);

  constructor(
    readonly port: number,
    readonly child: Child,
    /** The node's RESP (Redis protocol) port. */
    readonly respPort: number,
  ) {}

  get id(): string {
    return `127.0.0.1:${this.port}`;
  }

  async status(): Promise<Status> {
    const answer = await call(this.agent, this.port, '/status');
    return JSON.parse(answer.body) as Status;
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
 * A diststore cluster of its own: a unique cluster name and a free multicast port, HTTP and
 * multicast on 127.0.0.1 only, memory-only nodes (no --data-dir), logs at warn.
 */
export class BenchFleet {
  readonly nodes: BenchNode[] = [];
  readonly cluster = `bench-${process.pid}-${Math.random().toString(36).slice(2, 8)}`;

  private constructor(private readonly multicastPort: number) {}

  static async start(count: number): Promise<BenchFleet> {
    const fleet = new BenchFleet(await freePort('udp'));
    await Promise.all(Array.from({ length: count }, () => fleet.add()));
    await fleet.settled();
    return fleet;
  }

  /** Starts one more node and waits until it has joined. */
  async add(): Promise<BenchNode> {
    const port = await freePort('tcp');
    const respPort = await freePort('tcp');
    const args = [
      ['--bind', '127.0.0.1'],
      ['--port', String(port)],
      ['--resp-port', String(respPort)],
      ['--cluster', this.cluster],
      ['--multicast-port', String(this.multicastPort)],
      ['--multicast-interface', '127.0.0.1'],
      ['--log-level', 'warn'],
    ].flat();
    // No tsx in the nodes: the compiled daemon, as it runs in production.
    const child = await forkReady(`node :${port}`, DAEMON, args, []);
    const node = new BenchNode(port, child, respPort);
    this.nodes.push(node);
    return node;
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
  async settled(timeoutMs = 20_000): Promise<Status['masters']> {
    return waitFor(
      async () =>
        agreedMasters(
          await Promise.all(this.alive.map((n) => n.status())),
          this.alive.map((n) => n.id),
        ),
      'the bench fleet to agree on its masters',
      timeoutMs,
    );
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

  /** Stops every node (SIGTERM, then SIGKILL after the daemon's drain time). */
  async close(): Promise<void> {
    await Promise.all(this.nodes.map((n) => n.child.stop('SIGTERM')));
    for (const node of this.nodes) node.agent.destroy();
  }
}
