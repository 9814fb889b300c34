import { isIP } from 'node:net';
import { splitHostPort } from './wire.js';

/**
 * Addresses as the network means them, not as they are written. `2130706434`, `0x7f.2` and
 * `127.0.0.2` name one IPv4 address (the URL parser, and so every HTTP client, reads them all
 * so): comparing the text let an answer advertise one address while it came from another.
 */
export function canonicalHost(host: string): string {
  // Node's dotted-quad form is the canonical one already; the URL parse is for the rest.
  if (isIP(host) === 4) return host;
  try {
    return new URL(`http://${isIP(host) === 6 ? `[${host}]` : host}`).hostname.replace(
      /^\[|\]$/g,
      '',
    );
  } catch {
    return host;
  }
}

/**
 * Whether an advertised `host:port` names the address a packet came from. An address in any
 * notation is compared in its canonical form; a host name cannot be checked without a DNS
 * lookup and passes (see docs/security.md).
 */
export function sameHost(http: string, source: string): boolean {
  const host = canonicalHost(splitHostPort(http)[0]);
  return isIP(host) === 0 ? true : host === canonicalHost(source);
}

/** A node id as --id allows it: 1 to 200 letters, digits and . _ : - [ ]. */
export function isValidNodeId(id: string): boolean {
  return /^[A-Za-z0-9._:[\]-]{1,200}$/.test(id);
}

/** An advertised HTTP address: a host name or IP literal, and a port from 1 to 65535. */
export function isValidHttpAddress(http: string): boolean {
  const [host, port] = splitHostPort(http);
  return (
    Number.isInteger(port) &&
    port >= 1 &&
    port <= 65535 &&
    (isIP(host) !== 0 || /^[A-Za-z0-9.-]{1,190}$/.test(host))
  );
}
