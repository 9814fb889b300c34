import { Hono } from 'hono';
import { cors } from 'hono/cors';
import { routePath } from 'hono/route';
import type { Logger } from 'pino';
import { ConflictError } from '../cluster/conditional.js';
import { type DistNode, NotReadyError } from '../cluster/node.js';
import { VERSION_HEADER } from '../cluster/peer-client.js';
import { ReplicationError } from '../cluster/replication.js';
import { formatVersion } from '../cluster/version.js';
import { clientRoutes } from './client-routes.js';
import { compatRoutes } from './compat-routes.js';
import { HttpError } from './errors.js';
import { internalRoutes } from './internal-routes.js';
import type { Limits } from './limits.js';
import { openApiDocument } from './openapi.js';
import { pageRoutes } from './page-routes.js';
import { writeResultJson } from './responses.js';

/** Size limits, the origins browsers may call the client API from, the cluster secret. */
export type AppOptions = Limits & { corsOrigin?: string[]; secret?: string | undefined };

/** Builds the node's HTTP app; it never listens (the daemon does). */
export function createApp(node: DistNode, limits: AppOptions, log: Logger): Hono {
  const app = new Hono();
  app.use(async (c, next) => {
    await next();
    node.metrics.httpRequests.inc({ route: routePath(c) || 'unmatched', status: c.res.status });
  });
  app.route('/internal', internalRoutes(node, limits, limits.secret));
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
  app.get('/openapi.json', (c) => c.json(openApiDocument));
  app.route('/', clientRoutes(node, limits));
  app.route('/', pageRoutes(node, limits));
  // Last: the original's `POST /:key` catches every other path.
  app.route('/', compatRoutes(node, limits));
  app.notFound((c) =>
    c.json({ error: `no route for ${c.req.method} ${c.req.path}`, code: 'no_route' }, 404),
  );
  app.onError((error, c) => {
    if (error instanceof HttpError) {
      return c.json({ error: error.message, code: error.code, ...error.details }, error.status);
    }
    if (error instanceof ConflictError) {
      const current = error.current ? formatVersion(error.current) : null;
      return c.json({ error: error.message, code: 'conflict', current }, 409);
    }
    if (error instanceof NotReadyError) {
      return c.json({ error: error.message, code: 'not_ready' }, 503);
    }
    if (error instanceof ReplicationError) {
      return c.json(
        { error: error.message, code: 'replication_failed', ...writeResultJson(error.result) },
        503,
      );
    }
    log.error({ err: error, route: routePath(c) }, 'request failed');
    return c.json({ error: 'internal error', code: 'internal' }, 500);
  });
  return app;
}
