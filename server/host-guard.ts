import { isIP } from 'node:net';
import type { MiddlewareHandler } from 'hono';
import { HttpError } from './errors.js';
import type { RecordRefusal } from './refusals.js';

/** Routes a load balancer may probe under any name. */
const ANY_HOST = new Set(['/health', '/ready']);

/**
 * Refuses client requests that address the node by a host name it does not know: 403
 * `bad_host`. A DNS-rebinding page (a site whose name is made to resolve to 127.0.0.1) is
 * same-origin with the node in the browser's eyes, so Origin checks pass it; its requests
 * still name the attacker's host in `Host`. IP addresses, `localhost` and the advertised host
 * always pass; `allowedHosts` (--allowed-hosts) adds names such as a load balancer's.
 */
export function hostGuard(options: {
  advertise: string;
  allowedHosts: string[];
  onRefused: RecordRefusal;
}): MiddlewareHandler {
  const known = new Set([options.advertise, ...options.allowedHosts].map((h) => h.toLowerCase()));
  return async (c, next) => {
    if (ANY_HOST.has(c.req.path)) return next();
    const host = c.req.header('host');
    if (host === undefined || hostAllowed(host, known)) return next();
    options.onRefused(c, 'bad_host', `Host: ${host.slice(0, 200)}`);
    throw new HttpError(
      403,
      'bad_host',
      `refused: this node is not known as ${JSON.stringify(host.slice(0, 200))}; call it by its address, or add the name to --allowed-hosts`,
    );
  };
}

/** Whether a Host header names this node: an IP address, localhost, or a known name. */
export function hostAllowed(host: string, known: Set<string>): boolean {
  const name = host
    .toLowerCase()
    .replace(/:\d+$/, '')
    .replace(/^\[(.*)\]$/, '$1')
    .replace(/\.$/, '');
  return isIP(name) !== 0 || name === 'localhost' || name.endsWith('.localhost') || known.has(name);
}
