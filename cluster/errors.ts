import type { NodeState } from './wire.js';

/**
 * The base of every error diststore throws on purpose: a stable `code` that callers, logs and
 * answers match on (messages may be reworded; codes never are), a `name`, and the `cause`.
 * server/error-answer.ts turns them into HTTP answers, server/resp/resp-error.ts into RESP.
 */
export abstract class DiststoreError extends Error {
  abstract readonly code: string;

  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** The node has not joined its cluster yet, is syncing as a new master, or is leaving it. */
export class NotReadyError extends DiststoreError {
  readonly code = 'not_ready';

  constructor(readonly state: NodeState) {
    super(`node is ${state}`);
  }
}

/** A question only a master may answer (CopyCheck's) was sent to a node that is not one. */
export class NotMasterError extends DiststoreError {
  readonly code = 'not_master';

  constructor() {
    super('node is not a master');
  }
}

/**
 * A read of a key this node lacks that the cluster did not settle: no master said the key is
 * absent in time (none reachable, one still syncing, packets lost), or every holder that
 * answered failed to hand the value over. Not a miss: the key may exist; ask again.
 */
export class LookupIncompleteError extends DiststoreError {
  readonly code = 'lookup_incomplete';
  /** Seconds after which a retry may do better (the Retry-After of the answer). */
  readonly retryAfterSeconds = 1;

  constructor(readonly reason: 'timeout' | 'fetch-failed') {
    super(
      reason === 'timeout'
        ? 'no master answered the lookup in time; the key may exist, retry'
        : 'the nodes holding the key did not hand it over; retry',
    );
  }
}

/** Why a request to another node failed: its answer, a time limit, or the connection. */
export type PeerFailure = 'status' | 'timeout' | 'connection' | 'bad_answer' | 'unsigned';

/** A node-to-node request that failed; the caller decides what next (next answer, probe…). */
export class PeerError extends DiststoreError {
  readonly code = 'peer_failed';

  constructor(
    /** `host:port` of the peer. */
    readonly peer: string,
    /** What was asked, e.g. `replicate` or `fetch`. */
    readonly operation: string,
    readonly failure: PeerFailure,
    detail: string,
    readonly status?: number,
    options?: { cause?: unknown },
  ) {
    super(`${operation} ${peer}: ${detail}`, options);
  }

  /** A request that got an answer with an unexpected status. */
  static status(peer: string, operation: string, status: number): PeerError {
    return new PeerError(peer, operation, 'status', `HTTP ${status}`, status);
  }

  /** Wraps what the HTTP layer threw (refused, reset, timed out) with the peer and operation. */
  static from(peer: string, operation: string, error: unknown): PeerError {
    if (error instanceof PeerError) return error;
    const code = (error as { code?: unknown } | undefined)?.code;
    const failure = code === 'ETIMEDOUT' ? 'timeout' : 'connection';
    const detail = error instanceof Error ? error.message : String(error);
    return new PeerError(peer, operation, failure, detail, undefined, { cause: error });
  }
}

/**
 * A write this node could not store: its data dir's disk is full (`full`: refused before lmdb
 * was asked, nothing changed; writes resume once space is freed), lmdb failed a commit
 * (`failed`: writes stay refused until the node is restarted, reads go on), or another key
 * whose hash begins alike holds the key's place (`collision`: see PLACE_CHARS in
 * durable-store.ts).
 */
export class StorageError extends DiststoreError {
  readonly code = 'insufficient_storage';

  constructor(
    readonly reason: 'full' | 'failed' | 'collision',
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/**
 * This node's clock is further ahead of the cluster's than the others admit (--max-clock-skew):
 * its writes would be refused by the masters, or win over later writes once admitted, so it
 * takes none until its clock is fixed.
 */
export class ClockAheadError extends DiststoreError {
  readonly code = 'clock_ahead';

  constructor(detail: string) {
    super(
      `this node's clock is ahead of the cluster's (${detail}, more than --max-clock-skew): it takes no writes until its clock is fixed (NTP)`,
    );
  }
}

/**
 * With a cluster secret, this node's clock is so far off the cluster's that the other members
 * refuse its signed packets and it refuses theirs (UntimelyMembers): what it wrote would reach
 * no other node, so it takes no writes until its clock is fixed.
 */
export class ClockCutOffError extends DiststoreError {
  readonly code = 'clock_off';

  constructor(offsetMs: number, unheard: number) {
    const way = offsetMs >= 0 ? 'ahead of' : 'behind';
    super(
      `this node's clock is ${(Math.abs(offsetMs) / 1000).toFixed(1)} s ${way} the cluster's: ${unheard} member${unheard === 1 ? '' : 's'} refuse its signed packets and it refuses theirs (stamped too far apart); it takes no writes until its clock is fixed (NTP)`,
    );
  }
}
