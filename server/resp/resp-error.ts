import type { Logger } from 'pino';
import { ConflictError } from '../../cluster/conditional.js';
import {
  ClockAheadError,
  ClockCutOffError,
  DiststoreError,
  LookupIncompleteError,
  NotReadyError,
  StorageError,
} from '../../cluster/errors.js';
import {
  MasterStorageError,
  ReplicationError,
  WriteBehindError,
} from '../../cluster/replication.js';
import { formatVersion } from '../../cluster/version.js';

/**
 * An error answer in Redis's form: a code (`ERR`, `WRONGTYPE`, `NOAUTH`…) and a message.
 * `refusal` names the reason when it is a refused request counted in /metrics.
 */
export class RespError extends DiststoreError {
  constructor(
    readonly code: string,
    message: string,
    readonly refusal?: string,
  ) {
    super(message);
  }

  /** The error line without its `-`: `ERR wrong number of arguments…`. */
  get line(): string {
    return `${this.code} ${this.message}`;
  }
}

/** `ERR <message>`, the generic error. */
export const err = (message: string, refusal?: string) => new RespError('ERR', message, refusal);

/** The wrong-arity error, worded as Redis words it (clients match on it). */
export const wrongArity = (name: string) =>
  err(`wrong number of arguments for '${name.toLowerCase()}' command`);

export const syntaxError = () => err('syntax error');

/** What a thrown error is answered with: Redis's form of the node's errors. */
export function toRespError(error: unknown, log: Logger): RespError {
  if (error instanceof RespError) return error;
  if (error instanceof NotReadyError) {
    // LOADING is Redis's "not ready to serve yet"; clients retry on it.
    return new RespError('LOADING', `diststore node is ${error.state}`, 'not_ready');
  }
  if (error instanceof ReplicationError) {
    const { version, masters } = error.result;
    return err(
      `replication failed: the masters did not acknowledge (version ${formatVersion(version)}, held by ${masters.join(', ') || 'no master'})`,
      'replication_failed',
    );
  }
  if (error instanceof ConflictError) return err(error.message, 'conflict');
  // Redis's own word for "no room": OOM (command not allowed when used memory > 'maxmemory').
  if (error instanceof StorageError || error instanceof MasterStorageError) {
    return new RespError('OOM', error.message, 'insufficient_storage');
  }
  if (error instanceof ClockAheadError || error instanceof ClockCutOffError)
    return err(error.message, error.code);
  if (error instanceof WriteBehindError)
    return new RespError('TRYAGAIN', error.message, error.code);
  if (error instanceof LookupIncompleteError) {
    // TRYAGAIN is Redis Cluster's "retry this command shortly"; clients retry on it too.
    return new RespError('TRYAGAIN', error.message, 'lookup_incomplete');
  }
  log.error({ err: error }, 'RESP command failed');
  return err('internal error');
}
