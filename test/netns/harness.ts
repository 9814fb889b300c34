import { execFile, execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { after, before } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import type { NodeStatus } from '../../cluster/node-status.js';
import { agreedMasters } from '../support/fleet.js';
import { skipUnless } from '../support/require-tool.js';
import { waitFor } from '../support/wait-for.js';

/**
 * Drives scripts/netns-fleet from tests: real nodes, each in its own network namespace with
 * its own address and the same ports, multicast across a bridge, links that can be cut.
 */

const SCRIPT = fileURLToPath(new URL('../../scripts/netns-fleet', import.meta.url));
const run = promisify(execFile);
/**
 * The longest any one HTTP request of a test may take: a cut node never answers, and a write
 * during a failover legitimately waits for a peer timeout, a probe and a retry.
 */
const REQUEST_TIMEOUT_MS = 10_000;

let skipReason: string | undefined | null = null;

/** Fleets not yet down, taken down synchronously if the test process exits or is stopped. */
const upFleets = new Set<NetnsFleet>();
const SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;

function downAll(): void {
  for (const fleet of upFleets) fleet.downSync();
}

function downAllAndDie(signal: NodeJS.Signals): void {
  downAll();
  for (const s of SIGNALS) process.off(s, downAllAndDie);
  process.kill(process.pid, signal);
}

function track(fleet: NetnsFleet): void {
  if (upFleets.size === 0) {
    process.on('exit', downAll);
    for (const s of SIGNALS) process.on(s, downAllAndDie);
  }
  upFleets.add(fleet);
}

function untrack(fleet: NetnsFleet): void {
  upFleets.delete(fleet);
  if (upFleets.size === 0) {
    process.off('exit', downAll);
    for (const s of SIGNALS) process.off(s, downAllAndDie);
  }
}

/**
 * Why these tests cannot run here (not root, no iproute2, no namespaces), or undefined;
 * said loudly once (test/support/require-tool.ts), and a failure under CI's switch.
 */
export function netnsSkipReason(): string | undefined {
  if (skipReason !== null) return skipReason;
  let why: string | undefined;
  try {
    execFileSync(SCRIPT, ['check'], { stdio: ['ignore', 'pipe', 'pipe'] });
  } catch (error) {
    const { stdout, stderr, message } = error as { stdout?: Buffer; stderr?: Buffer } & Error;
    why = `${stdout ?? ''}${stderr ?? ''}`.trim() || message;
  }
  skipReason = skipUnless('NETNS TESTS', 'run as root with apt-get install iproute2', why);
  return skipReason;
}

/** What `scripts/netns-fleet --json up` prints: what it made. */
export interface NetnsFleetInfo {
  fleet: string;
  prefix: string;
  /** The fleet's state dir: pid files, node logs, the secret. */
  state: string;
  switch: { namespace: string; bridges: string[]; address: string };
  /** The link from this (the root) namespace into the switch. */
  root: { link: string; address: string; prefixLength: number };
  nodes: { index: number; namespace: string; address: string; port: number; http: string }[];
}

/** Runs `scripts/netns-fleet up`: namespaces and links for `count` nodes, none started. */
export async function netnsUp(count: number, name: string): Promise<NetnsFleetInfo> {
  const { stdout } = await run(SCRIPT, ['--json', 'up', String(count), name]);
  const info = JSON.parse(stdout) as NetnsFleetInfo;
  if (info.nodes?.length !== count) throw new Error(`unexpected output of up:\n${stdout}`);
  return info;
}

/** Runs `scripts/netns-fleet down`: stops the nodes, removes what `up` made. */
export async function netnsDown(name: string): Promise<void> {
  await run(SCRIPT, ['down', name]);
}

/** One node of a namespace fleet, reached over the root namespace's link into the switch. */
export class NetnsNode {
  constructor(
    readonly index: number,
    readonly address: string,
    readonly port: number,
  ) {}

  get id(): string {
    return `${this.address}:${this.port}`;
  }

  url(path: string): string {
    return `http://${this.id}${path}`;
  }

  get(path: string): Promise<Response> {
    return fetch(this.url(path), { signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS) });
  }

  post(path: string, fields: Record<string, string>): Promise<Response> {
    return fetch(this.url(path), {
      method: 'POST',
      body: new URLSearchParams(fields),
      signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
    });
  }

  async status(): Promise<NodeStatus> {
    return (await (await this.get('/status')).json()) as NodeStatus;
  }
}

export interface NetnsFleetOptions {
  /** Flags for every node after the addressing ones the script sets. */
  args?: string[];
  /** Extra flags for node `index` (after `args`). */
  perNode?: (index: number) => string[];
  /** --announce-ms of every node (default 200). */
  announceMs?: number;
}

/** A fleet made by `scripts/netns-fleet up`; `down()` removes everything it made. */
export class NetnsFleet {
  private downed = false;

  private constructor(
    readonly name: string,
    readonly nodes: NetnsNode[],
    private readonly logDir: string,
    private readonly options: NetnsFleetOptions,
  ) {
    // A test process that exits or is stopped before its after hook leaves nothing behind.
    track(this);
  }

  /** Creates the namespaces and the network for `count` nodes (none started yet). */
  static async up(
    count: number,
    label: string,
    options: NetnsFleetOptions = {},
  ): Promise<NetnsFleet> {
    const name = `${label}-${process.pid}-${Math.random().toString(36).slice(2, 6)}`;
    const info = await netnsUp(count, name);
    const nodes = info.nodes.map((n) => new NetnsNode(n.index, n.address, n.port));
    const logDir = info.state;
    return new NetnsFleet(name, nodes, logDir, options);
  }

  node(index: number): NetnsNode {
    const node = this.nodes[index];
    if (!node) throw new Error(`no node ${index} in a fleet of ${this.nodes.length}`);
    return node;
  }

  /**
   * Starts node `index` in its namespace and waits until it answers /health. A node stopped a
   * moment ago may still be draining (up to 5 s after SIGTERM) or not yet reaped: the script
   * refuses to start a node that is still running, so this tries again until it is gone.
   */
  async start(index: number, timeoutMs = 30_000): Promise<NetnsNode> {
    const { options } = this;
    const args = [
      '--announce-ms',
      String(options.announceMs ?? 200),
      '--log-level',
      process.env.DISTSTORE_TEST_LOG ?? 'info',
      ...(options.args ?? []),
      ...(options.perNode?.(index) ?? []),
    ];
    const deadline = Date.now() + timeoutMs;
    await waitFor(
      async () => {
        try {
          await this.script('start', String(index), '--', ...args);
          return true;
        } catch (error) {
          if (/running already/.test(String((error as { stderr?: string }).stderr))) return false;
          throw error;
        }
      },
      `node ${index}'s old process to exit`,
      Math.max(1000, deadline - Date.now() - 1000),
    );
    const node = this.node(index);
    await waitFor(
      async () => (await node.get('/health')).ok,
      () =>
        `node ${index} (${node.id}) to answer /health; its log:\n${this.log(index).slice(-4000)}`,
      Math.max(1000, deadline - Date.now()),
    );
    return node;
  }

  async startAll(): Promise<void> {
    await Promise.all(this.nodes.map((n) => this.start(n.index)));
  }

  kill(index: number, signal = 'KILL'): Promise<void> {
    return this.script('kill', String(index), signal);
  }

  /** SIGSTOP: the process stalls, its sockets stay open. */
  pause(index: number): Promise<void> {
    return this.script('pause', String(index));
  }

  resume(index: number): Promise<void> {
    return this.script('resume', String(index));
  }

  /** Takes node `index`'s link down at the switch. */
  cut(index: number): Promise<void> {
    return this.script('cut', String(index));
  }

  /** Splits the fleet: `side` on one bridge, every other node on the other. */
  partition(side: number[]): Promise<void> {
    return this.script('partition', ...side.map(String));
  }

  /** Every link up, every node on one bridge again. */
  heal(): Promise<void> {
    return this.script('heal');
  }

  /**
   * Waits until every node of `group` is ready and they agree on one full master set drawn
   * from the group; returns it.
   */
  settled(group: NetnsNode[] = this.nodes, timeoutMs = 10_000): Promise<NodeStatus['masters']> {
    const ids = group.map((n) => n.id);
    return waitFor(
      async () => agreedMasters(await Promise.all(group.map((n) => n.status())), ids),
      `nodes ${group.map((n) => n.index).join(',')} to agree on masters among themselves`,
      timeoutMs,
    );
  }

  /** The node's log file (JSON lines). */
  log(index: number): string {
    try {
      return readFileSync(`${this.logDir}/n${index}.log`, 'utf8');
    } catch {
      return '';
    }
  }

  /** Stops every node and removes every namespace and link of the fleet; safe to call twice. */
  async down(): Promise<void> {
    if (this.downed) return;
    this.downed = true;
    if (process.env.DISTSTORE_TEST_LOG) {
      for (const node of this.nodes)
        process.stderr.write(`--- node ${node.index} (${node.id}) ---\n${this.log(node.index)}`);
    }
    try {
      await netnsDown(this.name);
    } finally {
      untrack(this);
    }
  }

  /** down() for an exiting process: blocks until the script is done. */
  downSync(): void {
    if (this.downed) return;
    this.downed = true;
    untrack(this);
    execFileSync(SCRIPT, ['down', this.name], { stdio: 'ignore' });
  }

  private async script(command: string, ...args: string[]): Promise<void> {
    await run(SCRIPT, [command, this.name, ...args]);
  }
}

/**
 * Registers, in the enclosing describe, a `before` hook that brings up `count` nodes and
 * waits for them to agree on masters, and an `after` hook that takes the fleet down.
 * Returns a getter for the fleet.
 */
export function useNetnsFleet(
  count: number,
  label: string,
  options: NetnsFleetOptions = {},
): () => NetnsFleet {
  let fleet: NetnsFleet | undefined;
  before(async () => {
    fleet = await NetnsFleet.up(count, label, options);
    await fleet.startAll();
    await fleet.settled();
  });
  after(() => fleet?.down());
  return () => {
    if (!fleet) throw new Error('the netns fleet is not up');
    return fleet;
  };
}

/** Reads a value and its version; undefined when the node answers 404, `(503 <code>)` for both on a 503. */
export async function readVersion(
  node: NetnsNode,
  route: '/get' | '/get-local',
  key: string,
): Promise<{ version: string; value: string } | undefined> {
  const response = await node.get(`${route}?key=${encodeURIComponent(key)}`);
  if (response.status === 404) {
    await response.body?.cancel();
    return undefined;
  }
  if (response.status === 503) {
    // Not settled yet (a lookup no master could answer, a node syncing): honest, and retried
    // by the caller's poll like any answer that is not the one expected.
    const { code } = (await response.json()) as { code?: string };
    return { version: `(503 ${code})`, value: `(503 ${code})` };
  }
  if (!response.ok) throw new Error(`${route} ${key} on ${node.id}: HTTP ${response.status}`);
  const value = await response.text();
  return { version: response.headers.get('x-diststore-version') ?? '', value };
}

/** Posts a write; returns its version. */
export async function write(node: NetnsNode, key: string, value: string): Promise<string> {
  const response = await node.post('/post', { key, value });
  const body = await response.text();
  if (response.status !== 200) throw new Error(`write of ${key} on ${node.id}: ${body}`);
  return (JSON.parse(body) as { version: string }).version;
}
