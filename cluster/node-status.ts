import type { StorageState } from './durable-store.js';
import type { MasterSet } from './election.js';
import type { Membership } from './membership.js';
import type { ProcessMemory } from './process-memory.js';
import type { Store } from './store.js';
import type { NodeState } from './wire.js';

/** What /status says of the node itself. */
export interface NodeIdentity {
  id: string;
  http: string;
  cluster: string;
  boot: string;
  state: NodeState;
  role: 'master' | 'member';
}

/** The JSON view of a node and its cluster, for /status, the page and the CLI. */
export function nodeStatus(view: {
  node: NodeIdentity;
  masters: MasterSet;
  membership: Membership;
  store: Store;
  /** Whether this node can store writes (see LocalData.storage). */
  storage: StorageState | 'memory';
  memory: ProcessMemory;
  /** The data dir's file and map sizes; undefined without one. */
  disk: { fileBytes: number; mapBytes: number } | undefined;
  /** This node's clock minus the cluster's median (undefined: no other clock heard yet). */
  /** `unheard`: members whose packets this node refuses for their stamps (UntimelyMembers). */
  clock: { offsetMs: number | undefined; maxOffsetMs: number; off: boolean; unheard: string[] };
  /** Now on the monotonic clock, which members' `lastSeen` is on (Clock.monotonic). */
  now: number;
}) {
  const { node, masters, membership, store, storage, memory, disk, clock, now } = view;
  const seconds = (ms: number | undefined) => (ms === undefined ? null : ms / 1000);
  const ours = clock.offsetMs ?? 0;
  return {
    node,
    storage,
    clock: {
      offsetSeconds: seconds(clock.offsetMs),
      maxOffsetSeconds: clock.maxOffsetMs / 1000,
      off: clock.off,
      unheard: clock.unheard,
    },
    masters: { epoch: masters.epoch, ids: [...masters.ids], quorum: masters.quorum },
    members: membership.all().map((m) => ({
      id: m.id,
      http: m.http,
      keys: m.keys,
      state: m.state,
      master: masters.ids.includes(m.id),
      alive: m.id === node.id || membership.isAlive(m.id),
      lastSeenMs: m.id === node.id ? 0 : now - m.lastSeen,
      // Its clock minus the cluster's median: its offset from us plus ours.
      clockOffsetSeconds:
        m.id === node.id
          ? seconds(clock.offsetMs)
          : seconds(m.clockOffsetMs === undefined ? undefined : m.clockOffsetMs + ours),
    })),
    store: {
      primary: store.primaryCount,
      cached: store.cachedCount,
      primaryBytes: store.bytes.primary,
      cachedBytes: store.bytes.cached,
    },
    memory: {
      rssBytes: memory.rss,
      anonBytes: memory.anon ?? null,
      heapUsedBytes: memory.heapUsed,
      externalBytes: memory.external,
      dataFileBytes: disk?.fileBytes ?? null,
      dataMapBytes: disk?.mapBytes ?? null,
    },
  };
}

/** The JSON body of `GET /status`: the node, its master set, the members it knows, its store. */
export type NodeStatus = ReturnType<typeof nodeStatus>;
