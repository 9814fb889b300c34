import { RequestError } from 'got';

/** diststore's exit codes; scripts branch on them, so they never change meaning. */
export const EXIT = {
  ok: 0,
  notFound: 1,
  usage: 2,
  unreachable: 3,
  failed: 4,
} as const;

/** A failure with the exit code it stands for; the message is the one line shown on stderr. */
export class CliError extends Error {
  constructor(
    readonly exitCode: number,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'CliError';
  }
}

/** A bad argument commander cannot see by itself (e.g. a value given twice). */
export const usageError = (message: string, cause?: unknown) =>
  new CliError(EXIT.usage, message, { cause });

// What a user can act on, rather than a bare errno.
const TRANSPORT_REASONS: Record<string, string> = {
  ECONNREFUSED: 'connection refused',
  ECONNRESET: 'connection reset',
  EHOSTUNREACH: 'host unreachable',
  ENETUNREACH: 'network unreachable',
  ENOTFOUND: 'host name not found',
  EAI_AGAIN: 'host name lookup failed',
};

/**
 * A request that got no answer at all (refused, reset, timed out, DNS): the node is
 * unreachable, whatever the cause, so scripts can tell it from an answer they dislike.
 */
export function transportError(
  error: unknown,
  action: string,
  nodeUrl: string,
  timeoutMs: number,
): CliError {
  if (!(error instanceof RequestError)) {
    return new CliError(EXIT.failed, `${action}: ${String(error)}`, { cause: error });
  }
  const reason =
    error.name === 'TimeoutError'
      ? `no answer within ${timeoutMs} ms`
      : (TRANSPORT_REASONS[error.code] ?? error.message);
  return new CliError(
    EXIT.unreachable,
    `${action}: cannot reach ${nodeUrl}: ${reason} (${error.code})`,
    { cause: error },
  );
}

/** An error answer: 404 is "not found" (exit 1), any other status is a failure (exit 4). */
export function answerError(action: string, status: number, body: Buffer): CliError {
  const exitCode = status === 404 ? EXIT.notFound : EXIT.failed;
  const parsed = parseErrorBody(body);
  if (!parsed) {
    // Not diststore's JSON (a proxy, or another server on that port): show what came back.
    const text = body.toString('utf8').replace(/\s+/g, ' ').trim().slice(0, 120);
    return new CliError(exitCode, `${action}: HTTP ${status}${text ? `: ${text}` : ''}`);
  }
  // The node's message names the header; the CLI's user needs the option.
  const hint = status === 401 ? ' (give the token with --token or DISTSTORE_TOKEN)' : '';
  return new CliError(exitCode, `${action}: ${parsed.error} (${status} ${parsed.code})${hint}`);
}

/** diststore's error answers are `{"error": "…", "code": "…"}`; anything else is undefined. */
function parseErrorBody(body: Buffer): { error: string; code: string } | undefined {
  try {
    const json: unknown = JSON.parse(body.toString('utf8'));
    if (typeof json !== 'object' || json === null) return undefined;
    const { error, code } = json as Record<string, unknown>;
    if (typeof error !== 'string' || typeof code !== 'string') return undefined;
    return { error, code };
  } catch {
    return undefined;
  }
}
