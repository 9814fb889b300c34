import type { Context } from 'hono';
import { badRequest } from './errors.js';
import { checkKey, decodeComponent, type Limits } from './limits.js';

/**
 * The key a request names: `?key=` if given (the only form that can carry `.` and `..`),
 * else the rest of the path after `prefix`, percent-decoded strictly, slashes included.
 */
export function requestKey(c: Context, prefix: string, limits: Limits): string {
  const url = c.req.url;
  const pathStart = url.indexOf('/', url.indexOf('//') + 2);
  const queryStart = url.indexOf('?', pathStart);
  if (queryStart >= 0) {
    for (const pair of url.slice(queryStart + 1).split('&')) {
      if (pair === 'key' || pair.startsWith('key=')) {
        return checkKey(decodeComponent(pair.slice(4), true), limits);
      }
    }
  }
  const path = url.slice(pathStart, queryStart < 0 ? undefined : queryStart);
  if (!path.startsWith(`${prefix}/`))
    throw badRequest('missing_field', 'name the key in the path or as ?key=');
  return checkKey(decodeComponent(path.slice(prefix.length + 1)), limits);
}
