import { isIP } from 'node:net';
import type { Refusal } from './refusals.js';

/** Routes a load balancer may probe under any name. */
const ANY_HOST = new Set(['/health', '/ready']);

/** Host headers already found good, so that each request does not parse its Host again. */
const PASSED_KEPT = 64;

/**
 * The names this node answers to besides IP addresses and localhost, and the Host headers it
 * has let through (clients send a handful; a flood of others is not kept).
 */
export class KnownHosts {
  private readonly names: Set<string>;
  private readonly passed = new Set<string>();

  constructor(advertise: string, allowedHosts: string[]) {
    this.names = new Set([advertise, ...allowedHosts].map((h) => h.toLowerCase()));
  }

  allows(host: string): boolean {
    if (this.passed.has(host)) return true;
    if (!hostAllowed(host, this.names)) return false;
    if (this.passed.size < PASSED_KEPT) this.passed.add(host);
    return true;
  }
}

/**
 * Refuses client requests that address the node by a host name it does not know: 403
 * `bad_host`. A DNS-rebinding page (a site whose name is made to resolve to 127.0.0.1) is
 * same-origin with the node in the browser's eyes, so Origin checks pass it; its requests
 * still name the attacker's host in `Host`. IP addresses, `localhost` and the advertised host
 * always pass; `allowedHosts` (--allowed-hosts) adds names such as a load balancer's.
 */
export function hostRefusal(
  path: string,
  host: string | undefined,
  known: KnownHosts,
): Refusal | undefined {
  if (host === undefined || ANY_HOST.has(path) || known.allows(host)) return undefined;
  const shown = host.slice(0, 200);
  return {
    reason: 'bad_host',
    detail: `Host: ${shown}`,
    status: 403,
    code: 'bad_host',
    message: `refused: this node is not known as ${JSON.stringify(shown)}; call it by its address, or add the name to --allowed-hosts`,
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
