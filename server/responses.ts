import type { Entry } from '../cluster/entry.js';
import { entryHeaders, type WriteResult } from '../cluster/protocol.js';
import { formatVersion } from '../cluster/version.js';

/** The JSON answer to a write: its version and which masters hold it. */
export function writeResultJson(result: WriteResult) {
  return {
    key: result.key,
    version: formatVersion(result.version),
    masters: result.masters,
    lost: result.lost,
  };
}

/**
 * Types a browser shows without running anything: these are served inline. Every other type
 * (HTML, SVG, XML, JavaScript, PDF, anything unknown) could run script or pull in more
 * content, so it is served as an attachment, which browsers download and never render.
 */
const PASSIVE_TYPES = new Set([
  'text/plain',
  'text/csv',
  'application/json',
  'application/octet-stream',
  'image/png',
  'image/jpeg',
  'image/gif',
  'image/webp',
  'image/avif',
  'image/bmp',
]);
const PASSIVE_FAMILIES = ['audio/', 'video/', 'font/'];

/** Whether a stored content type is one a browser only displays (never executes). */
export function isPassiveType(type: string): boolean {
  const essence = (type.split(';')[0] ?? '').trim().toLowerCase();
  return PASSIVE_TYPES.has(essence) || PASSIVE_FAMILIES.some((f) => essence.startsWith(f));
}

/**
 * The raw value with its content type, version and expiry, served as data and never as active
 * content on the node's origin: no sniffing, a sandbox CSP (no script, a unique origin even
 * if opened directly), and active types as attachments.
 */
export function valueResponse(entry: Entry): Response {
  // A plain object, not a Headers: @hono/node-server writes a plain object's headers as they
  // are, and converts a Headers first (a measurable share of a get-local hit).
  const headers = entryHeaders(entry);
  headers['x-content-type-options'] = 'nosniff';
  headers['content-security-policy'] = 'sandbox';
  if (!isPassiveType(entry.type)) headers['content-disposition'] = 'attachment';
  return new Response(entry.value as Uint8Array<ArrayBuffer>, { headers });
}
