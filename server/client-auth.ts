import type { Context, MiddlewareHandler } from 'hono';
import { getCookie } from 'hono/cookie';
import { bearerToken, tokenMatches } from './client-token.js';
import type { RecordRefusal } from './refusals.js';

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
 * cluster secret guards it.
 */
export function clientAuth(options: {
  token: string;
  onRefused: RecordRefusal;
  /** The page's sign-in form, answered with status 401. */
  signInPage: (c: Context, error?: string) => Response | Promise<Response>;
}): MiddlewareHandler {
  const { token, onRefused, signInPage } = options;
  return async (c, next) => {
    if (c.req.method === 'OPTIONS' || OPEN.has(c.req.path) || c.req.path.startsWith('/internal/'))
      return next();
    const header = c.req.header('authorization');
    const given = header === undefined ? getCookie(c, TOKEN_COOKIE) : bearerToken(header);
    if (tokenMatches(token, given)) return next();
    const reason = header === undefined && given === undefined ? 'no_token' : 'bad_token';
    const detail =
      reason === 'no_token'
        ? 'no Authorization header and no token cookie'
        : given === undefined
          ? 'the Authorization header is not "Bearer <token>"'
          : 'the token does not match';
    onRefused(c, reason, detail);
    if (PAGE.has(`${c.req.method} ${c.req.path}`)) {
      return signInPage(c, reason === 'bad_token' ? 'That token is not this node’s.' : undefined);
    }
    c.header(
      'www-authenticate',
      reason === 'no_token'
        ? 'Bearer realm="diststore"'
        : 'Bearer realm="diststore", error="invalid_token"',
    );
    return c.json(
      {
        error: `this node needs its client token: send Authorization: Bearer <token> (${detail})`,
        code: 'unauthorized',
      },
      401,
    );
  };
}
