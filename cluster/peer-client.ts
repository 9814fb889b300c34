import { Agent } from 'node:http';
import { type Condition, ConflictError } from './conditional.js';
import { type Entry, makeEntry } from './entry.js';
import { decodeEntries, encodeEntries } from './entry-codec.js';
import { type Exchange, exchange, openStream } from './http-request.js';
import type { WriteResult } from './replication.js';
import {
  ANSWER_AUTH_HEADER,
  AUTH_HEADER,
  bodyDigest,
  RequestAuth,
  STREAMED,
} from './request-auth.js';
import { formatVersion, parseVersion } from './version.js';

/** What a peer answers to a replicated write: whether it applied it, and its master view. */
export interface ReplicaAck {
  applied: number;
  epoch: number;
  masters: string[];
}

export interface PeerClientOptions {
  /** Time limit for one request to a peer (writes, fetches, probes). */
  requestTimeoutMs: number;
  /** The cluster secret; every request is then signed (see request-auth.ts). */
  secret?: string | undefined;
}

export const VERSION_HEADER = 'x-diststore-version';
/** Wall-clock ms at which a value with a per-key TTL expires. */
export const EXPIRES_HEADER = 'x-diststore-expires';
/** Marks a replicated entry as a tombstone. */
export const DELETED_HEADER = 'x-diststore-deleted';

/** A conditional write's TTL and condition, forwarded to the deciding master. */
export const TTL_HEADER = 'x-diststore-ttl';
export const IF_VERSION_HEADER = 'x-diststore-if-version';
export const IF_ABSENT_HEADER = 'x-diststore-if-absent';

function conditionHeaders(condition: Condition): Record<string, string> {
  return 'ifAbsent' in condition
    ? { [IF_ABSENT_HEADER]: '1' }
    : { [IF_VERSION_HEADER]: formatVersion(condition.ifVersion) };
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

/**
 * Node-to-node HTTP: one keep-alive agent per peer, explicit timeouts, no automatic retries
 * (the caller decides: try the next answer, probe, re-elect).
 */
export class PeerClient {
  private readonly agents = new Map<string, Agent>();
  private readonly timeoutMs: number;
  /** With a cluster secret: signs requests, checks answers (see request-auth.ts). */
  private readonly auth: RequestAuth | undefined;

  constructor({ requestTimeoutMs, secret }: PeerClientOptions) {
    this.timeoutMs = requestTimeoutMs;
    this.auth = secret ? new RequestAuth(secret) : undefined;
  }

  /** Sends entries to a peer as primary entries, in one request (see ReplicaBatcher). */
  async replicate(peer: string, entries: Iterable<[string, Entry]>): Promise<ReplicaAck> {
    const response = await this.exchange(peer, 'POST', '/internal/replicate', {
      body: Buffer.concat([...encodeEntries(entries)]),
    });
    if (response.status !== 200) throw new Error(`replicate to ${peer}: HTTP ${response.status}`);
    return json<ReplicaAck>(response);
  }

  /** Forwards a conditional write to the deciding master; throws ConflictError if it lost. */
  async conditional(
    peer: string,
    key: string,
    value: Buffer,
    type: string,
    options: { ttlSeconds?: number | undefined; condition?: Condition | undefined },
  ): Promise<WriteResult> {
    const headers: Record<string, string> = { 'content-type': type };
    if (options.ttlSeconds !== undefined) headers[TTL_HEADER] = String(options.ttlSeconds);
    if (options.condition) Object.assign(headers, conditionHeaders(options.condition));
    const response = await this.exchange(peer, 'POST', withKey('/internal/conditional', key), {
      headers,
      body: value,
    });
    const body = json<{
      version?: string;
      current?: string | null;
      masters?: string[];
      lost?: string[];
    }>(response);
    if (response.status === 409) {
      throw new ConflictError(body.current ? parseVersion(body.current) : undefined);
    }
    const version = parseVersion(body.version ?? '');
    if (response.status !== 200 || !version) {
      throw new Error(`conditional write via ${peer}: HTTP ${response.status}`);
    }
    return { key, version, masters: body.masters ?? [], lost: body.lost ?? [] };
  }

  /** Sends many entries in one request (a re-send to new masters). */
  async sendEntries(peer: string, entries: Iterable<[string, Entry]>): Promise<ReplicaAck> {
    const frames = encodeEntries(entries);
    const response = await this.exchange(peer, 'POST', '/internal/entries', {
      body: (nonce) =>
        Buffer.concat([...(this.auth && nonce ? this.auth.seal(nonce, frames) : frames)]),
      timeoutMs: 60_000,
    });
    if (response.status !== 200)
      throw new Error(`send entries to ${peer}: HTTP ${response.status}`);
    return json<ReplicaAck>(response);
  }

  /** Fetches a key's value and version from a peer; undefined when the peer no longer has it. */
  async fetch(peer: string, key: string): Promise<Entry | undefined> {
    const response = await this.exchange(peer, 'GET', withKey('/internal/value', key));
    if (response.status === 404) return undefined;
    if (response.status !== 200) throw new Error(`fetch from ${peer}: HTTP ${response.status}`);
    const entry = entryFromHeaders(response.body, (name) => first(response.headers[name]));
    if (!entry) throw new Error(`fetch from ${peer}: missing or bad version headers`);
    return entry;
  }

  /** Streams every primary entry a peer holds, in one request. */
  async *sync(peer: string): AsyncGenerator<[string, Entry]> {
    const { nonce, ...request } = this.request(peer, 'GET', '/internal/sync');
    const response = await openStream({ ...request, timeoutMs: 10_000 });
    if (response.statusCode !== 200) {
      response.resume();
      throw new Error(`sync from ${peer}: HTTP ${response.statusCode}`);
    }
    yield* decodeEntries(this.auth && nonce ? this.auth.open(nonce, response) : response);
  }

  /** One direct health probe: true when the peer answers. */
  async probe(peer: string): Promise<boolean> {
    try {
      return (await this.exchange(peer, 'GET', '/internal/health')).status === 200;
    } catch {
      return false;
    }
  }

  close(): void {
    for (const agent of this.agents.values()) agent.destroy();
    this.agents.clear();
  }

  /**
   * One request and its whole answer. `body` may be built from the request's nonce (a sealed
   * stream); with a secret the answer must be signed for this request, or it is refused.
   */
  private async exchange(
    peer: string,
    method: 'GET' | 'POST',
    path: string,
    extra: {
      headers?: Record<string, string>;
      body?: Buffer | ((nonce: string | undefined) => Buffer);
      timeoutMs?: number;
    } = {},
  ): Promise<Exchange> {
    const build = typeof extra.body === 'function' ? extra.body : undefined;
    const fixed = build ? undefined : (extra.body as Buffer | undefined);
    const { nonce, ...request } = this.request(peer, method, path, extra.headers, () =>
      build ? STREAMED : bodyDigest(fixed),
    );
    const body = build ? build(nonce) : fixed;
    const response = await exchange({
      ...request,
      body,
      timeoutMs: extra.timeoutMs ?? this.timeoutMs,
    });
    if (this.auth && nonce) {
      const header = (name: string) => first(response.headers[name]);
      const given = header(ANSWER_AUTH_HEADER);
      if (
        !this.auth.verifyAnswer(nonce, given, response.status, header, bodyDigest(response.body))
      ) {
        throw new Error(
          `${method} ${path} to ${peer}: the answer is not signed for this request (HTTP ${response.status})`,
        );
      }
    }
    return response;
  }

  /** The parts of a request every call shares: the peer's agent, the signature and its nonce. */
  private request(
    peer: string,
    method: 'GET' | 'POST',
    path: string,
    headers: Record<string, string> = {},
    /** The body's digest, as signed; asked for only with a secret (hashing costs). */
    digest: () => string = () => bodyDigest(undefined),
  ) {
    const signed = this.auth?.sign(method, path, peer, digest());
    return {
      agent: this.agent(peer),
      peer,
      method,
      path,
      headers: signed ? { ...headers, [AUTH_HEADER]: signed.header } : headers,
      nonce: signed?.nonce,
    };
  }

  private agent(peer: string): Agent {
    let agent = this.agents.get(peer);
    if (!agent) {
      agent = new Agent({ keepAlive: true, maxSockets: 64 });
      this.agents.set(peer, agent);
    }
    return agent;
  }
}

function withKey(path: string, key: string): string {
  return `${path}?key=${encodeURIComponent(key)}`;
}

function first(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

function json<T>(response: Exchange): T {
  return JSON.parse(response.body.toString()) as T;
}
