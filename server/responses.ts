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
  // Reads of one kind of value ask about one type over and over: answer it from memory.
  if (type === lastType?.type) return lastType.passive;
  const essence = (type.split(';')[0] ?? '').trim().toLowerCase();
  const passive = PASSIVE_TYPES.has(essence) || PASSIVE_FAMILIES.some((f) => essence.startsWith(f));
  lastType = { type, passive };
  return passive;
}

/** The type isPassiveType answered last, and its answer. */
let lastType: { type: string; passive: boolean } | undefined;

/**
 * The raw value with its content type, version and expiry, served as data and never as active
 * content on the node's origin: no sniffing, a sandbox CSP (no script, a unique origin even
 * if opened directly), and active types as attachments.
 */
export function valueResponse(entry: Entry): Response {
  return new Response(entry.value as Uint8Array<ArrayBuffer>, { headers: valueHeaders(entry) });
}

/** The headers of valueResponse. */
export function valueHeaders(entry: Entry): Record<string, string> {
  // A plain object, not a Headers: @hono/node-server writes a plain object's headers as they
  // are, and converts a Headers first (a measurable share of a get-local hit).
  const headers = entryHeaders(entry);
  headers['x-content-type-options'] = 'nosniff';
  headers['content-security-policy'] = 'sandbox';
  if (!isPassiveType(entry.type)) headers['content-disposition'] = 'attachment';
  return headers;
}

/** Keys listed a thousand to a chunk. */
const KEYS_PER_CHUNK = 1000;

/**
 * A listing of keys, one per line or as a JSON array, streamed as the keys are walked: a node
 * with millions of keys (a master with a data dir) never holds them all at once to answer.
 */
export function keyListing(keys: Iterable<string>, format: 'lines' | 'json'): Response {
  const walk = keys[Symbol.iterator]();
  const encoder = new TextEncoder();
  let first = true;
  const body = new ReadableStream<Uint8Array>({
    pull(controller) {
      let text = first && format === 'json' ? '[' : '';
      for (let i = 0; i < KEYS_PER_CHUNK; i++) {
        const next = walk.next();
        if (next.done) {
          if (format === 'json') text += ']';
          controller.enqueue(encoder.encode(text));
          controller.close();
          return;
        }
        text +=
          format === 'json'
            ? `${first ? '' : ','}${JSON.stringify(next.value)}`
            : `${next.value}\n`;
        first = false;
      }
      controller.enqueue(encoder.encode(text));
    },
    cancel() {
      walk.return?.();
    },
  });
  const type = format === 'json' ? 'application/json' : 'text/plain; charset=utf-8';
  return new Response(body, { headers: { 'content-type': type } });
}
