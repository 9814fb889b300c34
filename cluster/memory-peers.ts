import { ConflictError } from './conditional.js';
import type { Entry } from './entry.js';
import { PeerError } from './errors.js';
import type { DistNode } from './node.js';
import type { ForwardedWrite, Peers, WriteResult } from './protocol.js';

/** A sync held after some entries, until released or until its source goes away. */
interface HeldSync {
  after: number;
  release: Promise<void>;
  fail: (error: Error) => void;
}

/**
 * The node-to-node requests of an in-process cluster, for unit tests of mastership, sync and
 * re-send (the HTTP side is peer-client.ts and server/internal-routes.ts). Each node gets a
 * `Peers` from `peers(http)` and is `register`ed once built; calls reach the other node's
 * methods directly, asynchronously, and fail with a PeerError like a refused connection when
 * that node is gone, cut off (`reachable`), or told to fail (`failNext`, `holdSync`).
 */
export class MemoryNetwork {
  private readonly nodes = new Map<string, DistNode>();
  private readonly failures = new Map<string, number>();
  private readonly held = new Map<string, HeldSync>();
  private readonly heldRequests = new Map<string, Promise<void>>();
  /** Whether `from` can reach `to` (a partition cuts some pairs); everyone by default. */
  reachable: (from: string, to: string) => boolean = () => true;

  /** Makes `node` answer requests addressed to its HTTP address. */
  register(node: DistNode): void {
    this.nodes.set(node.http, node);
  }

  /** The requests a node at `self` (its HTTP address) makes; closing them takes it off. */
  peers(self: string): Peers {
    const to = (peer: string, operation: string) => this.target(self, peer, operation);
    return {
      replicate: async (peer, entries) => {
        // Taken at once, as the HTTP client does to make the body.
        const sent = [...entries];
        await this.heldRequests.get(`${peer} replicate`);
        return (await to(peer, 'replicate')).applyReplicas(each(sent));
      },
      sendEntries: async (peer, entries, from) => {
        const sent = [...entries];
        await this.heldRequests.get(`${peer} send entries`);
        return (await to(peer, 'send entries')).applyEntries(each(sent), from);
      },
      conditional: async (peer, write) => forward(await to(peer, 'conditional write'), peer, write),
      fetch: async (peer, key, asMaster) => {
        const node = await to(peer, 'fetch');
        return asMaster ? node.masterEntry(key) : node.store.get(key);
      },
      newerThan: async (peer, held) => (await to(peer, 'check copies')).newerThan(held),
      sync: (peer) => this.sync(self, peer),
      probe: async (peer) => {
        try {
          return (await to(peer, 'probe')) !== undefined;
        } catch {
          return false;
        }
      },
      close: () => this.remove(self),
    };
  }

  /** The next `times` requests of `operation` (e.g. `send entries`) to `peer` fail. */
  failNext(peer: string, operation: string, times = 1): void {
    this.failures.set(`${peer} ${operation}`, times);
  }

  /**
   * Holds the requests of `operation` (`send entries`, a re-send; `replicate`, a write) to
   * `peer` made from now on until the returned function is called, as a request stuck in a
   * partition is delivered when it heals: what they carry is what was held when they were made.
   */
  hold(peer: string, operation: 'send entries' | 'replicate'): () => void {
    let release = () => {};
    this.heldRequests.set(
      `${peer} ${operation}`,
      new Promise<void>((resolve) => {
        release = resolve;
      }),
    );
    return () => {
      this.heldRequests.delete(`${peer} ${operation}`);
      release();
    };
  }

  /** How many failures told by `failNext` are still to come. */
  failuresLeft(peer: string, operation: string): number {
    return this.failures.get(`${peer} ${operation}`) ?? 0;
  }

  /**
   * Holds syncs from `peer` after `after` entries until the returned function is called;
   * a held sync fails when that peer goes away.
   */
  holdSync(peer: string, after: number): () => void {
    let release = () => {};
    let fail: (error: Error) => void = () => {};
    const released = new Promise<void>((resolve, reject) => {
      release = resolve;
      fail = reject;
    });
    released.catch(() => {}); // a hold nobody reached is not an unhandled rejection
    this.held.set(peer, { after, release: released, fail });
    return () => {
      this.held.delete(peer);
      release();
    };
  }

  private remove(http: string): void {
    this.nodes.delete(http);
    this.held.get(http)?.fail(new PeerError(http, 'sync', 'connection', 'connection reset'));
    this.held.delete(http);
  }

  private async target(from: string, peer: string, operation: string): Promise<DistNode> {
    await Promise.resolve(); // an answer never comes in the same turn as its request
    const node = this.nodes.get(peer);
    if (!node || !this.reachable(from, peer)) {
      throw new PeerError(peer, operation, 'connection', 'connection refused');
    }
    const failures = this.failures.get(`${peer} ${operation}`) ?? 0;
    if (failures > 0) {
      this.failures.set(`${peer} ${operation}`, failures - 1);
      throw PeerError.status(peer, operation, 500);
    }
    return node;
  }

  private async *sync(self: string, peer: string): AsyncGenerator<[string, Entry]> {
    const node = await this.target(self, peer, 'sync');
    let sent = 0;
    for (const item of node.store.primaryEntries()) {
      const hold = this.held.get(peer);
      if (hold && sent === hold.after) await hold.release;
      if (!this.nodes.has(peer) || !this.reachable(self, peer)) {
        throw new PeerError(peer, 'sync', 'connection', 'connection reset');
      }
      yield item;
      sent++;
    }
  }
}

async function* each(entries: Iterable<[string, Entry]>): AsyncGenerator<[string, Entry]> {
  yield* entries;
}

/** A conditional write as the deciding master's route takes it (server/internal-routes.ts). */
async function forward(node: DistNode, peer: string, write: ForwardedWrite): Promise<WriteResult> {
  const { key, value, type, ...options } = write;
  try {
    return await node.write(key, value, type, { ...options, forwarded: true });
  } catch (error) {
    if (error instanceof ConflictError) throw error;
    throw PeerError.status(peer, 'conditional write', 503);
  }
}
