import { Hono } from 'hono';
import { cors } from 'hono/cors';
import { routePath } from 'hono/route';
import type { Logger } from 'pino';
import { dropLog } from '../cluster/drop-log.js';
import type { DistNode } from '../cluster/node.js';
import { VERSION_HEADER } from '../cluster/protocol.js';
import { allowedMethods } from './allowed-methods.js';
import { clientRoutes } from './client-routes.js';
import { compatRoutes } from './compat-routes.js';
import { errorAnswer } from './error-answer.js';
import { KnownHosts } from './host-guard.js';
import { internalRoutes } from './internal-routes.js';
import type { Limits } from './limits.js';
import { openApiDocument } from './openapi.js';
import { pageRoutes } from './page-routes.js';
import { refusalRecorder } from './refusals.js';
import { gateRequests, RouteRecorder } from './request-gate.js';
import { discardUnreadBody } from './unread-body.js';

/**
 * Size limits, the origins browsers may call the client API from, the cluster secret, the
 * client token (none: client routes are open to whoever reaches the port).
 */
export type AppOptions = Limits & {
  corsOrigin?: string[];
  secret?: string | undefined;
  clientToken?: string | undefined;
  /** The host other nodes reach this node at, and other names clients may use for it. */
  advertise?: string;
  allowedHosts?: string[];
};

/** Builds the node's HTTP app; it never listens (the daemon does). */
export function createApp(node: DistNode, limits: AppOptions, log: Logger): Hono {
  const routes = new RouteRecorder();
  const app = new Hono({ router: routes });
  const logRefusal = dropLog(log, {
    line: 'refused a node-to-node request',
    summary: 'more node-to-node requests were refused',
  });
  const onInternalRefused = (reason: string, detail: string) => {
    node.metrics.internalRefused.inc({ reason });
    logRefusal(reason, detail);
  };
  const internal = internalRoutes(node, limits, limits.secret, onInternalRefused);
  app.route('/internal', internal.routes);
  const origins = limits.corsOrigin ?? [];
  if (origins.length > 0) {
    // Client routes only: /internal is node-to-node and never called from a browser.
    app.use('*', async (c, next) =>
      c.req.path.startsWith('/internal/')
        ? next()
        : cors({ origin: origins.includes('*') ? '*' : origins, exposeHeaders: [VERSION_HEADER] })(
            c,
            next,
          ),
    );
  }
  const onRefused = refusalRecorder(node.metrics, log);
  app.get('/openapi.json', (c) => c.json(openApiDocument));
  app.route('/', clientRoutes(node, limits));
  app.route('/', pageRoutes(node, { ...limits, onRefused }));
  // Last: the original's `POST /:key` catches every other path.
  app.route('/', compatRoutes(node, limits));
  app.notFound(async (c) => {
    await discardUnreadBody(c);
    const allowed = allowedMethods(c.req.path);
    const message = `no route for ${c.req.method} ${c.req.path}`;
    if (allowed.length === 0 || allowed.includes(c.req.method)) {
      return c.json({ error: message, code: 'no_route' }, 404);
    }
    c.header('allow', allowed.join(', '));
    return c.json(
      { error: `${message}; it takes ${allowed.join(', ')}`, code: 'method_not_allowed' },
      405,
    );
  });
  app.onError(async (error, c) => {
    await discardUnreadBody(c);
    const answer = errorAnswer(error);
    if (answer) return c.json(answer.body, answer.status, answer.headers);
    log.error({ err: error, route: routePath(c) }, 'request failed');
    return c.json({ error: 'internal error', code: 'internal' }, 500);
  });
  gateRequests(app, routes, {
    metrics: node.metrics,
    onRefused,
    knownHosts: new KnownHosts(limits.advertise ?? '127.0.0.1', limits.allowedHosts ?? []),
    corsOrigins: origins,
    clientToken: limits.clientToken,
    onInternalRefused,
    internalGuard: internal.guard,
  });
  return app;
}
