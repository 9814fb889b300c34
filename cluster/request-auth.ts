import { createHmac, timingSafeEqual } from 'node:crypto';

/**
 * Node-to-node HTTP authentication: with a cluster secret, every /internal/ request carries
 * `x-diststore-auth: <ms>.<hmac>` where the HMAC covers the time, the method and the path
 * with its query. The secret itself never crosses the network; a captured header is good
 * only for that one request within the window.
 */

export const AUTH_HEADER = 'x-diststore-auth';
const WINDOW_MS = 30_000;

/** The header value for a request. */
export function authHeader(
  secret: string,
  method: string,
  pathAndQuery: string,
  now = Date.now(),
): string {
  return `${now}.${mac(secret, String(now), method, pathAndQuery)}`;
}

/** True when the header is a fresh, valid signature of this request. */
export function isAuthentic(
  secret: string,
  header: string | undefined,
  method: string,
  pathAndQuery: string,
  now = Date.now(),
): boolean {
  if (!header) return false;
  const dot = header.indexOf('.');
  const t = header.slice(0, dot);
  if (dot < 1 || Math.abs(now - Number(t)) > WINDOW_MS) return false;
  const given = Buffer.from(header.slice(dot + 1));
  const expected = Buffer.from(mac(secret, t, method, pathAndQuery));
  return given.length === expected.length && timingSafeEqual(given, expected);
}

function mac(secret: string, t: string, method: string, pathAndQuery: string): string {
  return createHmac('sha256', secret)
    .update(`${t} ${method.toUpperCase()} ${pathAndQuery}`)
    .digest('base64url');
}
