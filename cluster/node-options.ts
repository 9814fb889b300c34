import type { Logger } from 'pino';
import type { Clock } from './clock.js';
import type { Condition } from './conditional.js';
import type { DurableStore } from './durable-store.js';
import type { Metrics } from './metrics.js';
import type { Peers, WriteAcks } from './protocol.js';
import type { Transport } from './transport.js';

/** What a node needs to know about itself and its cluster. */
export interface NodeOptions {
  /** Unique, stable node id; defaults to the advertised HTTP address. */
  id: string;
  /** `host:port` other nodes reach this node's HTTP server at. */
  http: string;
  cluster: string;
  lookupTimeoutMs: number;
  announceMs: number;
  /** How long a cached copy of another node's entry is served before it is asked for again. */
  cacheTtlSeconds: number;
  /** Bounds of the cached-copy tier (0: no limit). */
  cacheMaxKeys: number;
  cacheMaxBytes: number;
  /** Seconds a tombstone is kept; a node away for longer may bring a deleted key back. */
  tombstoneTtlSeconds: number;
  writeAcks: WriteAcks;
  /** How long to collect census answers at start before electing. */
  joinWindowMs: number;
  /** Test hook: ignore invalidation packets, as if every one were lost. */
  ignoreInvalidations?: boolean;
  /** Accept who-has answers whose advertised address is not the packet's source (NAT). */
  allowAddressMismatch?: boolean;
  /** How far ahead of our clock a version from another node may be (default 60 s). */
  maxClockSkewMs?: number;
  /** How far this node's clock may be from the cluster's median before it says so (default 1 s). */
  maxClockOffsetMs?: number;
  /** Most members this node keeps track of (default 1024); more announcers are refused. */
  maxMembers?: number;
}

/**
 * Options for a node of an in-process test cluster (memberlist's DefaultLocalConfig): short
 * timers, an address that goes nowhere. `overrides` replace single fields.
 */
export function localNodeOptions(id: string, overrides: Partial<NodeOptions> = {}): NodeOptions {
  return {
    id,
    http: `${id}.invalid:1`, // never dialled: in-process peers are found by this name
    cluster: 'local',
    lookupTimeoutMs: 20, // a miss costs one lookup timeout when no master settles it
    announceMs: 40, // a silent member is dead after three of these
    cacheTtlSeconds: 60,
    cacheMaxKeys: 0, // no bound
    cacheMaxBytes: 0,
    tombstoneTtlSeconds: 60,
    writeAcks: 'all',
    joinWindowMs: 20,
    ...overrides,
  };
}

/** The parts a node is built from that tests replace: the network, the disk and time. */
export interface NodeDeps {
  /** Datagrams to and from the cluster (UDP multicast, or memory-transport.ts). */
  transport: Transport;
  /** Requests to other nodes (HTTP, peer-client.ts, or memory-peers.ts). */
  peers: Peers;
  /** Where primary entries and tombstones are persisted; none: memory only. */
  durable?: DurableStore;
  logger: Logger;
  metrics?: Metrics;
  /** Wall clock and timers (default: the process's own; manual-clock.ts in tests). */
  clock?: Clock;
}

export interface WriteOptions {
  /** Store here only, not on the masters. */
  local?: boolean;
  /** Seconds until the entry is gone everywhere. */
  ttlSeconds?: number | undefined;
  /** Write only if the key is at this version, or absent; decided on a master. */
  condition?: Condition | undefined;
  /** Set on a conditional write another node forwarded to us as the decider. */
  forwarded?: boolean;
}
