import { Agent } from 'node:http';
import { ConflictError } from './conditional.js';
import type { Entry } from './entry.js';
import { decodeEntries, encodeEntries, type ReceivedEntry } from './entry-codec.js';
import { PeerError } from './errors.js';
import { type Exchange, exchange, openStream } from './http-request.js';
import {
  entryFromHeaders,
  type ForwardedWrite,
  forwardedWriteHeaders,
  type HeldVersion,
  heldVersionsFromJson,
  heldVersionsToJson,
  type Peers,
  type ReplicaAck,
  type WriteResult,
} from './protocol.js';
import {
  ANSWER_AUTH_HEADER,
  AUTH_HEADER,
  bodyDigest,
  RequestAuth,
  STREAMED,
} from './request-auth.js';
import { parseVersion } from './version.js';

export interface PeerClientOptions {
  /** Time limit for one request to a peer (writes, fetches, probes). */
  requestTimeoutMs: number;
  /** The cluster secret; every request is then signed (see request-auth.ts). */
  secret?: string | undefined;
}

/**
 * Node-to-node HTTP: one keep-alive agent per peer, explicit timeouts, no automatic retries
 * (the caller decides: try the next answer, probe, re-elect).
 */
export class PeerClient implements Peers {
  private readonly agents = new Map<string, Agent>();
  private readonly timeoutMs: number;
  /** With a cluster secret: signs requests, checks answers (see request-auth.ts). */
  private readonly auth: RequestAuth | undefined;

  constructor({ requestTimeoutMs, secret }: PeerClientOptions) {
    this.timeoutMs = requestTimeoutMs;
    this.auth = secret ? new RequestAuth(secret) : undefined;
  }

  async replicate(peer: string, entries: Iterable<[string, Entry]>): Promise<ReplicaAck> {
    const response = await this.exchange(peer, 'replicate', 'POST', '/internal/replicate', {
      body: Buffer.concat([...encodeEntries(entries)]),
    });
    if (response.status !== 200) throw PeerError.status(peer, 'replicate', response.status);
    return json<ReplicaAck>(response, peer, 'replicate');
  }

  /** Throws ConflictError when the decider says the write lost. */
  async conditional(peer: string, write: ForwardedWrite): Promise<WriteResult> {
    const path = withKey('/internal/conditional', write.key);
    const response = await this.exchange(peer, 'conditional write', 'POST', path, {
      headers: forwardedWriteHeaders(write),
      body: write.value,
    });
    const body = json<{
      version?: string;
      current?: string | null;
      masters?: string[];
      lost?: string[];
    }>(response, peer, 'conditional write');
    if (response.status === 409) {
      throw new ConflictError(body.current ? parseVersion(body.current) : undefined);
    }
    const version = parseVersion(body.version ?? '');
    if (response.status !== 200 || !version) {
      throw PeerError.status(peer, 'conditional write', response.status);
    }
    return { key: write.key, version, masters: body.masters ?? [], lost: body.lost ?? [] };
  }

  async sendEntries(
    peer: string,
    entries: Iterable<[string, Entry]>,
    from?: string,
  ): Promise<ReplicaAck> {
    const frames = encodeEntries(entries);
    // In the query, which the request's signature covers.
    const path = `/internal/entries${from ? `?from=${encodeURIComponent(from)}` : ''}`;
    const response = await this.exchange(peer, 'send entries', 'POST', path, {
      body: (nonce) =>
        Buffer.concat([...(this.auth && nonce ? this.auth.seal(nonce, frames) : frames)]),
      timeoutMs: 60_000,
    });
    if (response.status !== 200) throw PeerError.status(peer, 'send entries', response.status);
    return json<ReplicaAck>(response, peer, 'send entries');
  }

  async fetch(peer: string, key: string, asMaster = false): Promise<Entry | undefined> {
    const path = withKey('/internal/value', key) + (asMaster ? '&master=1' : '');
    const response = await this.exchange(peer, 'fetch', 'GET', path);
    if (response.status === 404) return undefined;
    if (response.status !== 200) throw PeerError.status(peer, 'fetch', response.status);
    const entry = entryFromHeaders(response.body, (name) => first(response.headers[name]));
    if (!entry) {
      throw new PeerError(peer, 'fetch', 'bad_answer', 'missing or bad version headers');
    }
    return entry;
  }

  async *sync(peer: string): AsyncGenerator<ReceivedEntry> {
    const { nonce, ...request } = this.request(peer, 'GET', '/internal/sync');
    const response = await openStream({ ...request, timeoutMs: 10_000 }).catch((error) => {
      throw PeerError.from(peer, 'sync', error);
    });
    if (response.statusCode !== 200) {
      response.resume();
      throw PeerError.status(peer, 'sync', response.statusCode ?? 0);
    }
    try {
      yield* decodeEntries(this.auth && nonce ? this.auth.open(nonce, response) : response);
    } catch (error) {
      throw PeerError.from(peer, 'sync', error);
    }
  }

  async newerThan(peer: string, held: readonly HeldVersion[]): Promise<HeldVersion[]> {
    const body = Buffer.from(JSON.stringify({ held: heldVersionsToJson(held) }));
    const response = await this.exchange(peer, 'check copies', 'POST', '/internal/newer', {
      headers: { 'content-type': 'application/json' },
      body,
    });
    if (response.status !== 200) throw PeerError.status(peer, 'check copies', response.status);
    const newer = heldVersionsFromJson(
      json<{ newer?: unknown }>(response, peer, 'check copies').newer,
    );
    if (!newer)
      throw new PeerError(peer, 'check copies', 'bad_answer', 'no list of newer versions');
    return newer;
  }

  async probe(peer: string): Promise<boolean> {
    try {
      return (await this.exchange(peer, 'probe', 'GET', '/internal/health')).status === 200;
    } catch (error) {
      // Any answer says the node is up, even one refusing us: with a secret, a request
      // stamped more than 10 s from its clock is refused. A write must then fail, not elect
      // around a master that is alive and acknowledge what the cluster will never take.
      return error instanceof PeerError && error.status !== undefined;
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
    operation: string,
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
    }).catch((error) => {
      throw PeerError.from(peer, operation, error);
    });
    if (this.auth && nonce) {
      const header = (name: string) => first(response.headers[name]);
      const given = header(ANSWER_AUTH_HEADER);
      if (
        !this.auth.verifyAnswer(nonce, given, response.status, header, bodyDigest(response.body))
      ) {
        throw new PeerError(
          peer,
          operation,
          'unsigned',
          `the answer is not signed for this request (HTTP ${response.status})`,
          response.status,
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

function json<T>(response: Exchange, peer: string, operation: string): T {
  try {
    return JSON.parse(response.body.toString()) as T;
  } catch (error) {
    const detail = `HTTP ${response.status} with a body that is not JSON`;
    throw new PeerError(peer, operation, 'bad_answer', detail, response.status, { cause: error });
  }
}
