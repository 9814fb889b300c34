import type { ContentfulStatusCode } from 'hono/utils/http-status';
import { ConflictError } from '../cluster/conditional.js';
import { DiststoreError, LookupIncompleteError } from '../cluster/errors.js';
import { MasterStorageError, ReplicationError } from '../cluster/replication.js';
import { formatVersion, VersionAheadError } from '../cluster/version.js';
import { HttpError } from './errors.js';
import { writeResultJson } from './responses.js';

/** The JSON body of an error answer: always `error` and `code`, sometimes more facts. */
export interface ErrorBody {
  error: string;
  code: string;
  /** A lost conditional write: the key's current version (null: absent). */
  current?: string | null;
  /** A write the masters did not all acknowledge: its version and who holds it. */
  version?: string;
  masters?: string[];
  [detail: string]: unknown;
}

/** The HTTP status of each error code a node answers with (server/errors.ts carries its own). */
const STATUS: Record<string, ContentfulStatusCode> = {
  conflict: 409,
  version_ahead: 422,
  not_ready: 503,
  // Masters changed since the asker last heard: it asks the new ones.
  not_master: 409,
  lookup_incomplete: 503,
  replication_failed: 503,
  // A newer write of the key kept reaching the masters first (RESTAMPS times): ask again.
  write_behind: 503,
  // This node's disk, or a master's, has no room: nothing was stored as acknowledged.
  insufficient_storage: 507,
  clock_ahead: 503,
  clock_off: 503,
  // The node this request needed (a conditional write's decider) did not answer in time.
  peer_failed: 503,
};

/** The facts an error answer carries beyond its message and code. */
function details(error: DiststoreError): Record<string, unknown> {
  if (error instanceof HttpError) return error.details ?? {};
  if (error instanceof ConflictError) {
    return { current: error.current ? formatVersion(error.current) : null };
  }
  if (error instanceof ReplicationError) return writeResultJson(error.result);
  if (error instanceof MasterStorageError) {
    return { ...writeResultJson(error.result), full: error.full };
  }
  if (error instanceof VersionAheadError) return { version: formatVersion(error.version) };
  return {};
}

/** The status and body a known error is answered with; undefined for an unexpected one. */
export function errorAnswer(
  error: unknown,
): { status: ContentfulStatusCode; body: ErrorBody; headers: Record<string, string> } | undefined {
  if (!(error instanceof DiststoreError)) return undefined;
  const status = error instanceof HttpError ? error.status : STATUS[error.code];
  if (status === undefined) return undefined;
  const headers: Record<string, string> =
    error instanceof LookupIncompleteError
      ? { 'retry-after': String(error.retryAfterSeconds) }
      : {};
  return { status, body: { error: error.message, code: error.code, ...details(error) }, headers };
}
