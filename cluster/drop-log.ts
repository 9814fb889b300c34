import type { Logger } from 'pino';

export interface DropLogOptions {
  /** Lines logged in full per window; a flood of garbage is summed up beyond that. */
  burst?: number;
  windowMs?: number;
  now?: () => number;
  /** The message of each line, and of the line summing up the rest of a window. */
  line?: string;
  summary?: string;
}

/**
 * Logs each dropped packet once with its facts (reason, detail, sender), but never floods
 * the log: past `burst` lines in a window, drops are only counted, and the count is logged
 * when the next window starts.
 */
export function dropLog(log: Logger, options: DropLogOptions = {}) {
  const {
    burst = 20,
    windowMs = 10_000,
    now = Date.now,
    line = 'dropped packet',
    summary = 'more packets were dropped',
  } = options;
  let windowStart = now();
  let logged = 0;
  let suppressed = 0;
  return (reason: string, detail: string, from?: string) => {
    const at = now();
    if (at - windowStart >= windowMs) {
      if (suppressed > 0) log.warn({ suppressed, windowMs }, summary);
      windowStart = at;
      logged = 0;
      suppressed = 0;
    }
    if (logged < burst) {
      logged++;
      log.warn({ reason, detail, from }, line);
    } else {
      suppressed++;
    }
  };
}
