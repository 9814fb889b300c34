import type { Hono } from 'hono';
import type { Result, Router } from 'hono/router';
import { RegExpRouter } from 'hono/router/reg-exp-router';
import { SmartRouter } from 'hono/router/smart-router';
import { TrieRouter } from 'hono/router/trie-router';
import type { H, RouterRoute } from 'hono/types';
import { getPath } from 'hono/utils/url';
import type { Metrics } from '../cluster/metrics.js';
import { VERSION_HEADER } from '../cluster/protocol.js';
import { tokenRefusal } from './client-auth.js';
import { crossSiteRefusal } from './cross-site.js';
import { hostRefusal, type KnownHosts } from './host-guard.js';
import type { InternalEnv, InternalGuard } from './internal-routes.js';
import { signInResponse } from './page-routes.js';
import { type HeaderOf, type RecordRefusal, type Refusal, refusedRequest } from './refusals.js';
import { drainUnreadBody, incomingOfEnv } from './unread-body.js';

export interface GateOptions {
  metrics: Metrics;
  onRefused: RecordRefusal;
  /** Names the node answers to besides IP addresses and localhost (host-guard.ts). */
  knownHosts: KnownHosts;
  /** --cors-origin: origins whose pages may call the client routes. */
  corsOrigins: string[];
  /** The client token; undefined: client routes are open. */
  clientToken: string | undefined;
  /** Records a node-to-node request refused (a browser's; the guard records its own). */
  onInternalRefused: (reason: 'browser', detail: string) => void;
  /** With a cluster secret: node-to-node requests checked, their answers signed. */
  internalGuard: InternalGuard | undefined;
}

/**
 * Puts the checks every client request passes (its Host, where a browser sent it from, the
 * client token) and the count of every answer in front of the app's routing, by wrapping its
 * `fetch` (so `app.request` in tests passes them too).
 *
 * Why not hono middleware: with any `app.use` layer hono answers every request with a promise
 * (its compose is async), and @hono/node-server writes a promised answer the slow way (a close
 * listener on the response, two awaits); with none, a synchronous route's answer is written
 * within the turn. A get-local hit is such a route, and so is a master's answer to another
 * node's fetch of a value (hit or miss).
 *
 * Node-to-node routes (/internal/) skip the client checks (with a cluster secret, the guard of
 * internal-routes.ts checks their signatures here) and are refused to browsers: nodes call
 * them with node:http, which sends neither `Origin` nor `Sec-Fetch-Site`, and every browser
 * sends one or both, so a page (a DNS-rebinding one above all) never gets to call one.
 */
export function gateRequests(app: Hono, routes: RouteRecorder, options: GateOptions): void {
  const route = app.fetch;
  const { metrics, onRefused, onInternalRefused, internalGuard } = options;
  const { knownHosts, corsOrigins, clientToken } = options;
  const clientRefusal = (request: Request, path: string, header: HeaderOf): Refusal | undefined =>
    hostRefusal(path, header('host'), knownHosts) ??
    crossSiteRefusal(request.method, header, corsOrigins) ??
    (clientToken === undefined
      ? undefined
      : tokenRefusal(request.method, path, header, clientToken));
  app.fetch = (request, env, executionCtx) => {
    const path = getPath(request);
    const internal = path.startsWith('/internal/');
    // The routes' env: node-server's, or a fresh one (app.request in tests), which the
    // internal guard adds a signed request's facts to.
    const routeEnv = (env ?? {}) as InternalEnv;
    const header = headerReader(request, env);
    let refusal: Refusal<string> | undefined;
    if (internal) {
      // The guard records its own refusals (as node-to-node ones, by their signature's fault).
      refusal =
        browserRefusal(header, `${request.method} ${path}`) ??
        internalGuard?.check(request, header, routeEnv);
      if (refusal?.reason === 'browser') onInternalRefused('browser', refusal.detail);
    } else {
      const refused = clientRefusal(request, path, header);
      if (refused) onRefused(refusedRequest(request, path, env), refused.reason, refused.detail);
      refusal = refused;
    }
    let answer: Response | Promise<Response>;
    let label: string;
    if (refusal) {
      answer = refusalAnswer(refusal, request, env, internal ? [] : corsOrigins);
      label = routeLabel(routes.match(request.method === 'HEAD' ? 'GET' : request.method, path));
    } else {
      answer = route(request, routeEnv, executionCtx);
      // hono matched the route before its fetch returned, even one whose answer is a promise.
      label = routeLabel(routes.last);
      if (internal && internalGuard) {
        answer =
          answer instanceof Promise
            ? answer.then((answered) => internalGuard.seal(answered, routeEnv))
            : internalGuard.seal(answer, routeEnv);
      }
    }
    if (answer instanceof Promise) {
      return answer.then((done) => {
        metrics.countRequest(label, done.status);
        return done;
      });
    }
    metrics.countRequest(label, answer.status);
    return answer;
  };
}

/** A node-to-node request a browser sent: 403 `browser`. */
function browserRefusal(header: HeaderOf, what: string): Refusal<'browser'> | undefined {
  if (header('origin') === undefined && header('sec-fetch-site') === undefined) return undefined;
  return {
    reason: 'browser',
    detail: what,
    status: 403,
    code: 'browser',
    message: 'node-to-node routes are not for browsers',
  };
}

/**
 * Reads headers from node's request when there is one: `request.headers` would build a
 * `Headers` of them all (@hono/node-server makes it on first use), which the routes of a
 * get-local hit never need.
 */
function headerReader(request: Request, env: unknown): HeaderOf {
  const incoming = incomingOfEnv(env);
  if (!incoming) return (name) => request.headers.get(name) ?? undefined;
  return (name) => {
    const value = incoming.headers[name];
    return Array.isArray(value) ? value.join(', ') : value;
  };
}

/**
 * hono's default router (what `new Hono()` makes), remembering its last match: the gate names
 * the route a request went to from it instead of matching the path a second time.
 */
export class RouteRecorder implements Router<RoutedHandler> {
  readonly name = 'RouteRecorder';
  last: Result<RoutedHandler> | undefined;
  private readonly router = new SmartRouter<RoutedHandler>({
    routers: [new RegExpRouter(), new TrieRouter()],
  });

  add(method: string, path: string, handler: RoutedHandler): void {
    this.router.add(method, path, handler);
  }

  match(method: string, path: string): Result<RoutedHandler> {
    this.last = this.router.match(method, path);
    return this.last;
  }
}

/** What hono's app keeps in its router for each route: the handler and the route's facts. */
type RoutedHandler = [H, RouterRoute];

/**
 * The route a request is counted under: the pattern of the first route (not middleware) its
 * method and path matched, as registered (`/get-local/*`); `unmatched` when none did.
 */
function routeLabel(matched: Result<RoutedHandler> | undefined): string {
  for (const [[, registered]] of matched?.[0] ?? []) {
    if (registered.method !== 'ALL') return registered.path;
  }
  return 'unmatched';
}

/**
 * A refused request's answer, once what is left of its body is read (unread-body.ts). A page
 * at an allowed origin gets the CORS headers its browser needs to show it the refusal.
 */
async function refusalAnswer(
  refusal: Refusal<string>,
  request: Request,
  env: unknown,
  corsOrigins: string[],
): Promise<Response> {
  const closeAfter = await drainUnreadBody(incomingOfEnv(env));
  const answer = refusal.signIn
    ? await signInResponse(refusal.signIn.note)
    : Response.json(
        { error: refusal.message, code: refusal.code },
        { status: refusal.status, headers: refusal.headers },
      );
  if (closeAfter) answer.headers.set('connection', 'close');
  const origin = request.headers.get('origin');
  const allowAll = corsOrigins.includes('*');
  if (origin !== null && (allowAll || corsOrigins.includes(origin))) {
    answer.headers.set('access-control-allow-origin', allowAll ? '*' : origin);
    if (!allowAll) answer.headers.set('vary', 'Origin');
    answer.headers.set('access-control-expose-headers', VERSION_HEADER);
  }
  return answer;
}
