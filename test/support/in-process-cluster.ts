import { pino } from 'pino';
import type { Clock, TimerHandle } from '../../cluster/clock.js';
import type { CompactionResult } from '../../cluster/data-file-compaction.js';
import type { DurableStore } from '../../cluster/durable-store.js';
import { ManualClock } from '../../cluster/manual-clock.js';
import { MemoryNetwork } from '../../cluster/memory-peers.js';
import { MemoryBus } from '../../cluster/memory-transport.js';
import { DistNode } from '../../cluster/node.js';
import { localNodeOptions, type NodeOptions } from '../../cluster/node-options.js';
import { MemoryPrimary } from '../../cluster/primary-tier.js';
import { keyHash, type Message } from '../../cluster/wire.js';

/** The nodes' logs, shown with DISTSTORE_TEST_LOG=info (as for the fleet's processes). */
const silent = pino({ level: process.env.DISTSTORE_TEST_LOG ?? 'silent' });

/**
 * One node alone in memory (no sockets), on the real clock: for tests of what it serves
 * through `app.request`.
 */
export function soloNode(id: string, overrides: Partial<NodeOptions> = {}, logger = silent) {
  const options = localNodeOptions(id, overrides);
  const network = new MemoryNetwork();
  const node = new DistNode(options, {
    transport: new MemoryBus().transport(id),
    peers: network.peers(options.http),
    logger,
  });
  network.register(node);
  return node;
}

/**
 * A whole cluster in one process, on in-memory packets and peers and a manual clock: its
 * elections, syncs and re-sends run in simulated time, deterministically, in milliseconds.
 * Nodes are named by id; their HTTP address is `<id>.invalid:1`.
 */
export class InProcessCluster {
  readonly clock = new ManualClock();
  readonly bus = new MemoryBus();
  readonly network = new MemoryNetwork();
  private readonly nodes = new Map<string, DistNode>();
  /** Which side of a partition each node is on; none: everyone reaches everyone. */
  private sides: Map<string, number> | undefined;
  /** Nodes stopped as by SIGSTOP (see pause). */
  private readonly paused = new Set<string>();
  /** Each node's wall clock minus the cluster's (see startWith). */
  private readonly skews = new Map<string, number>();
  /** Packets a test drops on their way (a lost invalidation, say). */
  lose: (message: Message, from: string, to: string) => boolean = () => false;

  constructor(private readonly overrides: Partial<NodeOptions> = {}) {
    this.bus.reachable = (from, to, message) =>
      this.reaches(from, to) && !this.lose(message, from, to);
    this.network.reachable = (from, to) => this.reaches(idOf(from), idOf(to));
  }

  /**
   * Packets are refused as with a cluster secret when their sender's clock is more than
   * `windowMs` from the receiver's (signing.ts); nodes' HTTP requests are not checked here.
   */
  signPackets(windowMs = 10_000): void {
    this.bus.refusedStamp = (from, to) => {
      const aheadMs = (this.skews.get(from) ?? 0) - (this.skews.get(to) ?? 0);
      return Math.abs(aheadMs) > windowMs ? aheadMs : undefined;
    };
  }

  /** Steps a running node's wall clock by `byMs`, as NTP or an operator would. */
  stepClock(id: string, byMs: number): void {
    this.skews.set(id, (this.skews.get(id) ?? 0) + byMs);
  }

  /** Builds and starts nodes (their join window passes in simulated time). */
  start(...ids: string[]): Promise<DistNode[]> {
    return this.startWith({}, ...ids);
  }

  /**
   * Starts nodes with a durable store each (`durable(id)`), as after a restart, and with a
   * wall clock `skewMs` off the cluster's (`skewMs(id)`, ms; timers keep the shared time).
   */
  async startWith(
    {
      durable,
      skewMs,
    }: { durable?: (id: string) => DurableStore; skewMs?: (id: string) => number },
    ...ids: string[]
  ): Promise<DistNode[]> {
    const nodes = ids.map((id) => {
      this.skews.set(id, skewMs?.(id) ?? 0);
      const options = localNodeOptions(id, this.overrides);
      const node = new DistNode(options, {
        transport: this.bus.transport(id),
        peers: this.network.peers(options.http),
        durable: durable?.(id),
        logger: silent,
        clock: this.pausable(
          id,
          skewed(this.clock, () => this.skews.get(id) ?? 0),
        ),
      });
      this.network.register(node);
      this.nodes.set(id, node);
      return node;
    });
    await this.run(Promise.all(nodes.map((node) => node.start())), `${ids.join(', ')} joining`);
    return nodes;
  }

  node(id: string): DistNode {
    const node = this.nodes.get(id);
    if (!node) throw new Error(`no node ${id} in this cluster`);
    return node;
  }

  /** Every node still running. */
  get running(): DistNode[] {
    return [...this.nodes.values()];
  }

  /** Stops a node without a goodbye, as a crash would: the others notice its silence. */
  async kill(id: string): Promise<void> {
    const node = this.node(id);
    this.nodes.delete(id);
    await node.close();
  }

  /**
   * Stops a node as SIGSTOP would: its timers do not fire, it hears and sends nothing (its
   * socket's queue overflowed, the worst case) and requests to it fail. `resume` continues it
   * where it was: its overdue timers fire at their next turn.
   */
  pause(id: string): void {
    this.paused.add(id);
  }

  resume(id: string): void {
    this.paused.delete(id);
  }

  /** Cuts the cluster into sides that hear and reach only their own members. */
  partition(...sides: string[][]): void {
    this.sides = new Map(sides.flatMap((ids, side) => ids.map((id) => [id, side] as const)));
  }

  heal(): void {
    this.sides = undefined;
  }

  /** Lets simulated time pass. */
  advance(ms: number): Promise<void> {
    return this.clock.advance(ms);
  }

  /**
   * Lets simulated time pass, 10 ms at a time, until `condition` holds; fails after
   * `withinMs` of simulated time, naming `what`.
   */
  async until(
    condition: () => boolean | Promise<boolean>,
    what: string,
    withinMs = 5_000,
  ): Promise<void> {
    const deadline = this.clock.now() + withinMs;
    while (!(await condition())) {
      if (this.clock.now() >= deadline) {
        throw new Error(`not within ${withinMs} ms of simulated time: ${what}`);
      }
      await this.clock.advance(10);
    }
  }

  /** Lets simulated time pass until `work` (a write, a read) is done; its result. */
  async run<T>(work: Promise<T>, what = 'the work', withinMs = 5_000): Promise<T> {
    let done = false;
    const settled = work.finally(() => {
      done = true;
    });
    settled.catch(() => {}); // failures are the caller's, from the await below
    await this.until(() => done, what, withinMs);
    return settled;
  }

  /** Whether every running node (or those named) agrees on one set of `count` masters. */
  agreed(count = 2, ids?: string[]): boolean {
    const nodes = ids ? ids.map((id) => this.node(id)) : this.running;
    const [first] = nodes;
    return nodes.every(
      (n) =>
        n.masterSet.ids.length === count &&
        n.masterSet.epoch === first?.masterSet.epoch &&
        n.masterSet.ids.join() === first?.masterSet.ids.join(),
    );
  }

  async close(): Promise<void> {
    await Promise.all(this.running.map((node) => node.close()));
    this.nodes.clear();
  }

  private reaches(from: string, to: string): boolean {
    if (this.paused.has(from) || this.paused.has(to)) return false;
    return !this.sides || this.sides.get(from) === this.sides.get(to);
  }

  /** A node's clock whose timers wait while the node is paused (see pause). */
  private pausable(id: string, clock: Clock): Clock {
    type Held = TimerHandle & { current?: TimerHandle };
    // A one-shot timer due while paused fires once the node runs again (checked every 10 ms).
    const later = (handle: Held, fn: () => void, ms: number) => {
      handle.current = clock.setTimeout(() => {
        if (this.paused.has(id)) later(handle, fn, 10);
        else fn();
      }, ms);
    };
    return {
      now: () => clock.now(),
      monotonic: () => clock.monotonic(),
      setTimeout: (fn, ms) => {
        const handle: Held = {};
        later(handle, fn, ms);
        return handle;
      },
      clearTimeout: (handle) => clock.clearTimeout((handle as Held | undefined)?.current),
      // An interval's turns missed while paused are not made up: its next turn is late.
      setInterval: (fn, ms) =>
        clock.setInterval(() => {
          if (!this.paused.has(id)) fn();
        }, ms),
      clearInterval: (timer) => clock.clearInterval(timer),
    };
  }
}

/** A data dir in memory: kept across a node's restarts by the test that made it. */
export class MemoryDurableStore extends MemoryPrimary implements DurableStore {
  readonly storage = 'ok';
  readonly disk = { fileBytes: 0, mapBytes: 0 };

  /** `cluster`: the cluster name its keys are hashed under (localNodeOptions's by default). */
  constructor(cluster = 'local') {
    super((key) => keyHash(cluster, key));
  }

  async compact(): Promise<CompactionResult> {
    return { compacted: false, reason: 'not loose' };
  }

  async close(): Promise<void> {}
}

/** The cluster's clock, its wall time moved by `skewMs()` (a node whose clock is off, or stepped). */
function skewed(clock: ManualClock, skewMs: () => number): Clock {
  return {
    now: () => clock.now() + skewMs(),
    monotonic: () => clock.monotonic(),
    setTimeout: (fn, ms) => clock.setTimeout(fn, ms),
    clearTimeout: (timer) => clock.clearTimeout(timer),
    setInterval: (fn, ms) => clock.setInterval(fn, ms),
    clearInterval: (timer) => clock.clearInterval(timer),
  };
}

/** A node's id from its in-process HTTP address (`<id>.invalid:1`). */
function idOf(http: string): string {
  return http.slice(0, http.lastIndexOf('.invalid:'));
}
