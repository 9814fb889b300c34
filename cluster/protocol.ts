import type { Condition } from './conditional.js';
import { type Entry, makeEntry } from './entry.js';
import type { ReceivedEntry } from './entry-codec.js';
import { formatVersion, parseVersion, type Version } from './version.js';

/**
 * The node-to-node contract: what one node may ask another (`Peers`), what it answers, and
 * the headers that carry an entry's metadata. The HTTP side of it is peer-client.ts (asking)
 * and server/internal-routes.ts (answering); memory-peers.ts is the same contract in memory.
 */

/** How many masters must acknowledge a write before it is answered (`--write-acks`). */
export type WriteAcks = 'all' | 'one' | 'local';

/** The result of a write: its version and which masters hold it. */
export interface WriteResult {
  key: string;
  version: Version;
  masters: string[];
  lost: string[];
}

/** What a peer answers to entries sent to it: how many it applied, and its master view. */
export interface ReplicaAck {
  applied: number;
  epoch: number;
  masters: string[];
  /** The set has a quorum (see MasterSet); absent from a peer that predates it. */
  quorum?: boolean;
  /**
   * To a re-send (`sendEntries`): the keys whose version held there is newer than the one
   * sent, with that version, so the sender stops serving its older one at once.
   */
  newer?: [key: string, version: string][];
  /**
   * To replicated writes (`replicate`): the keys sent with a version older than the one this
   * master already held, with that version. They were not applied; the writer stamps its
   * write above it and sends it again (replication.ts), so the write acknowledged last wins
   * whatever the writers' clocks say.
   */
  behind?: [key: string, version: string][];
}

/** A conditional write as forwarded to the deciding master. */
export interface ForwardedWrite {
  key: string;
  value: Buffer;
  type: string;
  ttlSeconds?: number | undefined;
  condition?: Condition | undefined;
}

/**
 * What a node asks of another, by its `host:port`. Every call rejects with a PeerError (or a
 * ConflictError for a lost conditional write) and never retries: the caller decides what next.
 */
export interface Peers {
  /** Sends entries written here to a master, as primary entries (see ReplicaBatcher). */
  replicate(peer: string, entries: Iterable<[string, Entry]>): Promise<ReplicaAck>;
  /** Forwards a conditional write to the deciding master. */
  conditional(peer: string, write: ForwardedWrite): Promise<WriteResult>;
  /**
   * Sends many entries at once: `from`'s re-send of every primary entry to new masters (see
   * Mastership.minorityReturned for why the master wants to know whose it is).
   */
  sendEntries(peer: string, entries: Iterable<[string, Entry]>, from?: string): Promise<ReplicaAck>;
  /**
   * A key's entry on that peer; undefined when it no longer holds one. `asMaster`: only as a
   * ready master's word (DistNode.masterEntry), refused by a peer that is not one.
   */
  fetch(peer: string, key: string, asMaster?: boolean): Promise<Entry | undefined>;
  /** Every primary entry the peer holds, streamed (a new master's sync). */
  sync(peer: string): AsyncIterable<ReceivedEntry>;
  /**
   * Of the keys and versions held here, those the peer holds a newer version of, with that
   * version (a copy check after lost invalidations, CopyCheck).
   */
  newerThan(peer: string, held: readonly HeldVersion[]): Promise<HeldVersion[]>;
  /** One direct health probe: true when the peer answers. */
  probe(peer: string): Promise<boolean>;
  /** Releases connections; safe to call twice. */
  close(): void;
}

/** A key and the version of it held. */
export type HeldVersion = [key: string, version: Version];

export const VERSION_HEADER = 'x-diststore-version';
/** Wall-clock ms at which a value with a per-key TTL expires. */
export const EXPIRES_HEADER = 'x-diststore-expires';
/** Marks a replicated entry as a tombstone. */
export const DELETED_HEADER = 'x-diststore-deleted';

/** A conditional write's TTL and condition, forwarded to the deciding master. */
export const TTL_HEADER = 'x-diststore-ttl';
export const IF_VERSION_HEADER = 'x-diststore-if-version';
export const IF_ABSENT_HEADER = 'x-diststore-if-absent';

/** The headers of a forwarded conditional write (read back by server/internal-routes.ts). */
export function forwardedWriteHeaders(write: ForwardedWrite): Record<string, string> {
  const headers: Record<string, string> = { 'content-type': write.type };
  if (write.ttlSeconds !== undefined) headers[TTL_HEADER] = String(write.ttlSeconds);
  const condition = write.condition;
  if (condition && 'ifAbsent' in condition) headers[IF_ABSENT_HEADER] = '1';
  else if (condition) headers[IF_VERSION_HEADER] = formatVersion(condition.ifVersion);
  return headers;
}

/** The headers that carry an entry's metadata between nodes. */
export function entryHeaders(entry: Entry): Record<string, string> {
  const headers: Record<string, string> = {
    'content-type': entry.type || 'application/octet-stream',
    [VERSION_HEADER]: formatVersion(entry.version),
  };
  if (entry.deleted) headers[DELETED_HEADER] = '1';
  if (entry.expiresAt !== undefined) headers[EXPIRES_HEADER] = String(entry.expiresAt);
  return headers;
}

/** Rebuilds an entry from a body and the headers `entryHeaders` wrote; undefined if bad. */
export function entryFromHeaders(
  value: Buffer,
  header: (name: string) => string | undefined,
): Entry | undefined {
  const version = parseVersion(header(VERSION_HEADER) ?? '');
  const expires = header(EXPIRES_HEADER);
  const expiresAt = expires === undefined ? undefined : Number(expires);
  if (!version || (expiresAt !== undefined && !Number.isFinite(expiresAt))) return undefined;
  const deleted = header(DELETED_HEADER) === '1';
  const type = deleted ? '' : (header('content-type') ?? 'application/octet-stream');
  return makeEntry(value, type, version, { deleted, expiresAt });
}

/** Held versions as they cross the wire: `[[key, version], ...]`. */
export function heldVersionsToJson(held: readonly HeldVersion[]): [string, string][] {
  return held.map(([key, version]) => [key, formatVersion(version)]);
}

/** Held versions from the wire; undefined when anything in it is not a key and a version. */
export function heldVersionsFromJson(value: unknown): HeldVersion[] | undefined {
  if (!Array.isArray(value)) return undefined;
  const held: HeldVersion[] = [];
  for (const pair of value) {
    if (!Array.isArray(pair) || pair.length !== 2 || typeof pair[0] !== 'string') return undefined;
    const version = typeof pair[1] === 'string' ? parseVersion(pair[1]) : undefined;
    if (!version) return undefined;
    held.push([pair[0], version]);
  }
  return held;
}
