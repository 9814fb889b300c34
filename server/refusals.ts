import type { Logger } from 'pino';
import { dropLog } from '../cluster/drop-log.js';
import type { Metrics } from '../cluster/metrics.js';
import { incomingOfEnv } from './unread-body.js';

/** Why a client request was refused before its route ran. */
export type RefusalReason = 'cross_site' | 'bad_host' | 'no_token' | 'bad_token';

/** The request a refusal is about: method, path and, over a socket, the sender's address. */
export interface RefusedRequest {
  method: string;
  path: string;
  remote: string | undefined;
}

/** The facts of a request for a refusal's log line; env is @hono/node-server's. */
export function refusedRequest(request: Request, path: string, env: unknown): RefusedRequest {
  return { method: request.method, path, remote: incomingOfEnv(env)?.socket.remoteAddress };
}

/** Records one refusal: counted by reason, logged with its facts. */
export type RecordRefusal = (
  request: RefusedRequest,
  reason: RefusalReason,
  detail: string,
) => void;

/**
 * Counts refusals in `diststore_http_refused_total{reason}` and logs each with its method,
 * path, detail and sender; like dropped packets, at most 20 lines per 10 s (a flood of bad
 * tokens is summed up, not written out).
 */
export function refusalRecorder(metrics: Metrics, log: Logger): RecordRefusal {
  const logLine = dropLog(log, {
    line: 'refused request',
    summary: 'more requests were refused',
  });
  return (request, reason, detail) => {
    metrics.httpRefused.inc({ reason });
    logLine(reason, `${request.method} ${request.path}: ${detail}`, request.remote);
  };
}

/** A request's header by its lower-case name; undefined when absent. */
export type HeaderOf = (name: string) => string | undefined;

/**
 * A request refused before its route: why, and what it is answered. A client request's reason
 * is a RefusalReason; a node-to-node request's `browser` or its signature's fault.
 */
export interface Refusal<Reason extends string = RefusalReason> {
  reason: Reason;
  /** The facts for the log line (never sent back). */
  detail: string;
  status: 401 | 403;
  code: string;
  /** The answer's `error`. */
  message: string;
  headers?: Record<string, string>;
  /** Answer the page's sign-in form (with this note, if any) instead of JSON. */
  signIn?: { note: string | undefined };
}
