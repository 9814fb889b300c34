import { getConnInfo } from '@hono/node-server/conninfo';
import type { Context } from 'hono';
import type { Logger } from 'pino';
import { dropLog } from '../cluster/drop-log.js';
import type { Metrics } from '../cluster/metrics.js';

/** Why a client request was refused before its route ran. */
export type RefusalReason = 'cross_site' | 'bad_host' | 'no_token' | 'bad_token';

/** Records one refusal: counted by reason, logged with its facts. */
export type RecordRefusal = (c: Context, reason: RefusalReason, detail: string) => void;

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
  return (c, reason, detail) => {
    metrics.httpRefused.inc({ reason });
    logLine(reason, `${c.req.method} ${c.req.path}: ${detail}`, remoteAddress(c));
  };
}

/** The peer's address when the request came over a socket (not in `app.request` tests). */
function remoteAddress(c: Context): string | undefined {
  try {
    return getConnInfo(c).remote.address;
  } catch {
    return undefined;
  }
}
