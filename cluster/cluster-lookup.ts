import type { Logger } from 'pino';
import type { Clock } from './clock.js';
import type { Entry } from './entry.js';
import { Lookup } from './lookup.js';
import type { Mastership } from './mastership.js';
import type { Membership } from './membership.js';
import type { Metrics } from './metrics.js';
import type { Peers } from './protocol.js';
import type { Refusals } from './refusals.js';
import type { Transport } from './transport.js';
import type { NodeState } from './wire.js';

/** What a node's lookup is wired to. */
export interface ClusterLookupParts {
  selfId: string;
  timeoutMs: number;
  transport: Transport;
  peers: Peers;
  mastership: Mastership;
  membership: Membership;
  refusals: Refusals;
  metrics: Metrics;
  log: Logger;
  clock: Clock;
  /** The node's own state: a master that is not ready cannot settle a miss. */
  state(): NodeState;
  /** Whether this node's clock keeps it from hearing members it knows of (DistNode). */
  cutOff(): boolean;
}

/**
 * A node's Lookup (lookup.ts) wired to its cluster: who-has queries over multicast, values
 * fetched from peers (counted, their versions checked), and misses settled only by the ready
 * masters of a majority's set.
 */
export function clusterLookup(parts: ClusterLookupParts): Lookup {
  const { selfId, transport, peers, mastership, membership, refusals, metrics, log, clock } = parts;

  /** Masters whose `absent` answers settle a miss (see Lookup). */
  const mastersToHear = (): string[] | undefined => {
    // A minority's masters (this side of a partition) lack what the majority wrote: their
    // silence, or ours, is no miss.
    if (!mastership.set.quorum) return undefined;
    // Nor can a node that hears nobody for its clock: its masters are not the cluster's.
    if (parts.cutOff()) return undefined;
    const others = mastership.set.ids.filter((id) => id !== selfId);
    // A master still joining or syncing may lack keys: its silence settles nothing, and
    // neither does ours alone while another master could hold what we lack.
    if (others.some((id) => membership.get(id)?.state !== 'ready')) return undefined;
    if (others.length === 0 && !(mastership.isMaster && parts.state() === 'ready')) {
      return undefined;
    }
    return others;
  };

  /** Fetches a key from another node, counted by result. */
  const fetchFrom = async (http: string, node: string, key: string, asMaster = false) => {
    try {
      const entry: Entry | undefined = await peers.fetch(http, key, asMaster);
      if (entry) refusals.admitOrThrow('fetch', entry.version, `${key} from ${node}`);
      // Where each read's value came from, for tracing a stale read (--log-level debug).
      log.debug({ peer: node, key, version: entry?.version, asMaster }, 'fetched');
      metrics.fetches.inc({ result: entry ? 'ok' : 'gone' });
      return entry;
    } catch (error) {
      metrics.fetches.inc({ result: 'error' });
      log.warn({ peer: node, err: error }, 'fetch failed');
      throw error;
    }
  };

  return new Lookup({
    timeoutMs: parts.timeoutMs,
    ask: (hash) => {
      metrics.whoHasQueries.inc();
      transport.multicast({ kind: 'who-has', keyHash: hash });
    },
    mastersToHear,
    settles: (master) => membership.get(master)?.state === 'ready',
    fetch: (answer, key) => fetchFrom(answer.http, answer.node, key),
    fetchEarly: (key, hash) => {
      // Spread over the ready masters by key; none when one is not ready (it may lack keys).
      const masters = mastersToHear();
      const from = masters?.[hash.charCodeAt(0) % masters.length];
      const http = from && mastership.httpOf(from);
      return from && http ? { from, entry: fetchFrom(http, from, key, true) } : undefined;
    },
    onOutcome: (outcome, ms) => {
      metrics.lookups.inc({ outcome });
      metrics.lookupSeconds.observe(ms / 1000);
    },
    setTimer: (fn, ms) => clock.setTimeout(fn, ms),
    clearTimer: (timer) => clock.clearTimeout(timer),
  });
}
