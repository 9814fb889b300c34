import type { MasterSet } from './election.js';
import type { Membership } from './membership.js';
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
  now: number;
}) {
  const { node, masters, membership, store, now } = view;
  return {
    node,
    masters: { epoch: masters.epoch, ids: [...masters.ids], quorum: masters.quorum },
    members: membership.all().map((m) => ({
      id: m.id,
      http: m.http,
      keys: m.keys,
      state: m.state,
      master: masters.ids.includes(m.id),
      alive: m.id === node.id || membership.isAlive(m.id),
      lastSeenMs: m.id === node.id ? 0 : now - m.lastSeen,
    })),
    store: {
      primary: store.primaryCount,
      cached: store.cachedCount,
      primaryBytes: store.bytes.primary,
      cachedBytes: store.bytes.cached,
    },
  };
}

/** The JSON body of `GET /status`: the node, its master set, the members it knows, its store. */
export type NodeStatus = ReturnType<typeof nodeStatus>;
