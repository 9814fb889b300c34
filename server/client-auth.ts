import { parse } from 'hono/utils/cookie';
import { bearerToken, tokenMatches } from './client-token.js';
import type { HeaderOf, Refusal } from './refusals.js';

/** The cookie the web page keeps the client token in (HttpOnly, SameSite=Strict). */
export const TOKEN_COOKIE = 'diststore_token';

/** Routes anyone may call: liveness and readiness for load balancers, and the page's sign-in. */
const OPEN = new Set(['/health', '/ready', '/ui/login', '/ui/logout']);

/** Where the web page answers a missing token with its sign-in form instead of JSON. */
const PAGE = new Set(['GET /', 'HEAD /', 'POST /ui/post']);

/**
 * With a client token, every client route but those in OPEN needs it, as
 * `Authorization: Bearer <token>` or in the page's cookie; others get 401 `unauthorized`
 * with `www-authenticate` (the page: its sign-in form). /internal/ is not a client route: the
 * cluster secret guards it, and the request gate does not ask this of it.
 */
export function tokenRefusal(
  method: string,
  path: string,
  headerOf: HeaderOf,
  token: string,
): Refusal | undefined {
  if (method === 'OPTIONS' || OPEN.has(path)) return undefined;
  const header = headerOf('authorization');
  const given = header === undefined ? cookieToken(headerOf('cookie')) : bearerToken(header);
  if (tokenMatches(token, given)) return undefined;
  const reason = header === undefined && given === undefined ? 'no_token' : 'bad_token';
  const detail =
    reason === 'no_token'
      ? 'no Authorization header and no token cookie'
      : given === undefined
        ? 'the Authorization header is not "Bearer <token>"'
        : 'the token does not match';
  return {
    reason,
    detail,
    status: 401,
    code: 'unauthorized',
    message: `this node needs its client token: send Authorization: Bearer <token> (${detail})`,
    headers: {
      'www-authenticate':
        reason === 'no_token'
          ? 'Bearer realm="diststore"'
          : 'Bearer realm="diststore", error="invalid_token"',
    },
    signIn: PAGE.has(`${method} ${path}`)
      ? { note: reason === 'bad_token' ? 'That token is not this node’s.' : undefined }
      : undefined,
  };
}

function cookieToken(cookie: string | undefined): string | undefined {
  return cookie === undefined ? undefined : parse(cookie, TOKEN_COOKIE)[TOKEN_COOKIE];
}
