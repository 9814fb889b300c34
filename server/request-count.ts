import type { Hono } from 'hono';
import type { Metrics } from '../cluster/metrics.js';

type Fetch = (request: Request) => Response | Promise<Response>;

/**
 * The app's fetch, counting each answer by route and status for
 * `diststore_http_requests_total`. Counted around the app rather than in a middleware: any
 * app-level middleware sends every request through hono's compose and a chain of promises,
 * which cost a get-local hit a fifth of its rate. The route is the pattern of the handler
 * hono's router picks for the request (`/get-local/*`), or `unmatched`.
 */
export function countingFetch(app: Hono, metrics: Metrics): Fetch {
  return (request) => {
    const route = routeOf(app, request);
    const answer = app.fetch(request);
    if (!(answer instanceof Promise)) {
      metrics.countRequest(route, answer.status);
      return answer;
    }
    return answer.then((response) => {
      metrics.countRequest(route, response.status);
      return response;
    });
  };
}

/**
 * The pattern of the route that answers: the first one the router matches that is not an
 * app-wide middleware. Later matches (the compat `POST /:key` also matches `/post`) only run
 * when an earlier handler falls through, which no route of ours does.
 */
function routeOf(app: Hono, request: Request): string {
  const url = request.url;
  const start = url.indexOf('/', url.indexOf('//') + 2);
  const query = url.indexOf('?', start);
  const path = start < 0 ? '/' : url.slice(start, query < 0 ? undefined : query);
  const method = request.method === 'HEAD' ? 'GET' : request.method;
  const [matched] = app.router.match(method, path);
  for (const [[, route]] of matched) if (route.method !== 'ALL') return route.path;
  return 'unmatched';
}
