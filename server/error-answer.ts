import type { ContentfulStatusCode } from 'hono/utils/http-status';
import { ConflictError } from '../cluster/conditional.js';
import { NotReadyError } from '../cluster/node.js';
import { ReplicationError } from '../cluster/replication.js';
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

/** The status and body a known error is answered with; undefined for an unexpected one. */
export function errorAnswer(
  error: unknown,
): { status: ContentfulStatusCode; body: ErrorBody } | undefined {
  if (error instanceof HttpError) {
    return {
      status: error.status,
      body: { error: error.message, code: error.code, ...error.details },
    };
  }
  if (error instanceof ConflictError) {
    const current = error.current ? formatVersion(error.current) : null;
    return { status: 409, body: { error: error.message, code: 'conflict', current } };
  }
  if (error instanceof NotReadyError) {
    return { status: 503, body: { error: error.message, code: 'not_ready' } };
  }
  if (error instanceof ReplicationError) {
    return {
      status: 503,
      body: { error: error.message, code: 'replication_failed', ...writeResultJson(error.result) },
    };
  }
  if (error instanceof VersionAheadError) {
    return {
      status: 422,
      body: { error: error.message, code: 'version_ahead', version: formatVersion(error.version) },
    };
  }
  return undefined;
}
