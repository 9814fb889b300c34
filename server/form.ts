import type { Condition } from '../cluster/conditional.js';
import { parseVersion } from '../cluster/version.js';
import { badRequest, HttpError } from './errors.js';
import { checkKey, checkValueSize, decodeComponent, type Limits } from './limits.js';

/** A key/value write as a client submitted it. */
export interface WriteForm {
  key: string;
  value: Buffer;
  type: string;
  /** Optional per-key TTL in seconds (field `ttl`). */
  ttlSeconds?: number | undefined;
  /** Optional condition (fields `ifVersion`, `ifAbsent=1`). */
  condition?: Condition | undefined;
}

const TEXT = 'text/plain; charset=utf-8';
const utf8 = new TextDecoder('utf-8', { fatal: true });
const encoder = new TextEncoder();

/**
 * Reads the `key` and `value` fields of an urlencoded or multipart form. A multipart file
 * part keeps its bytes and content type; a text field is stored as UTF-8 text.
 */
export async function readWriteForm(request: Request, limits: Limits): Promise<WriteForm> {
  const fields = await readForm(request);
  const key = checkKey(textOf(fields.get('key'), 'key'), limits);
  const ttl = textOf(fields.get('ttl'), 'ttl');
  const ttlSeconds = ttl === undefined || ttl === '' ? undefined : parseTtl(ttl);
  const condition = parseCondition(
    textOf(fields.get('ifVersion'), 'ifVersion'),
    textOf(fields.get('ifAbsent'), 'ifAbsent'),
  );
  const raw = fields.get('value');
  if (raw === undefined) throw badRequest('missing_field', 'the field "value" is required');
  if (typeof raw === 'string') {
    const value = textBytes(raw);
    checkValueSize(value.length, limits);
    return { key, value, type: TEXT, ttlSeconds, condition };
  }
  checkValueSize(raw.size, limits);
  const value = Buffer.from(await raw.arrayBuffer());
  return { key, value, type: raw.type || 'application/octet-stream', ttlSeconds, condition };
}

/**
 * A text value's UTF-8 bytes in a buffer of their own. Buffer.from(text) would carve small
 * values out of a shared 8 KiB pool slab, and one value kept would keep the whole slab alive.
 */
function textBytes(text: string): Buffer {
  const bytes = encoder.encode(text);
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/** `ifVersion` (a version as writes answer it) or `ifAbsent=1`, not both. */
function parseCondition(
  ifVersion: string | undefined,
  ifAbsent: string | undefined,
): Condition | undefined {
  if (ifVersion !== undefined && ifAbsent !== undefined) {
    throw badRequest('bad_condition', 'give "ifVersion" or "ifAbsent", not both');
  }
  if (ifAbsent !== undefined) {
    if (ifAbsent !== '1') throw badRequest('bad_condition', 'the field "ifAbsent" must be 1');
    return { ifAbsent: true };
  }
  if (ifVersion === undefined) return undefined;
  const version = parseVersion(ifVersion);
  if (!version) throw badRequest('bad_condition', 'the field "ifVersion" is not a version');
  return { ifVersion: version };
}

/** A TTL is a whole number of seconds from 1 to ten years (forms and forwarded writes). */
export function parseTtl(text: string): number {
  if (!/^\d{1,9}$/.test(text) || Number(text) < 1 || Number(text) > 10 * 365 * 86_400) {
    throw badRequest(
      'bad_ttl',
      'the field "ttl" must be a whole number of seconds from 1 to 315360000',
    );
  }
  return Number(text);
}

/** Reads one text field of a form (e.g. `key` for a delete). */
export async function readFormField(request: Request, name: string): Promise<string | undefined> {
  return textOf((await readForm(request)).get(name), name);
}

type Field = string | File;

async function readForm(request: Request): Promise<Map<string, Field>> {
  const type = (request.headers.get('content-type') ?? '').split(';')[0]?.trim().toLowerCase();
  if (type === 'application/x-www-form-urlencoded') {
    return parseUrlencoded(await request.arrayBuffer());
  }
  if (type === 'multipart/form-data') {
    let form: FormData;
    try {
      form = await request.formData();
    } catch (error) {
      throw new HttpError(400, 'bad_form', 'the multipart body could not be parsed', undefined, {
        cause: error,
      });
    }
    const fields = new Map<string, Field>();
    for (const [name, value] of form) if (!fields.has(name)) fields.set(name, value);
    return fields;
  }
  throw new HttpError(
    415,
    'unsupported_media_type',
    'send application/x-www-form-urlencoded or multipart/form-data',
  );
}

function parseUrlencoded(body: ArrayBuffer): Map<string, Field> {
  let text: string;
  try {
    text = utf8.decode(body);
  } catch {
    throw badRequest('bad_encoding', 'the form body is not valid UTF-8');
  }
  const fields = new Map<string, Field>();
  for (const pair of text.split('&')) {
    if (pair === '') continue;
    const eq = pair.indexOf('=');
    const name = decodeComponent(eq < 0 ? pair : pair.slice(0, eq), true);
    const value = eq < 0 ? '' : decodeComponent(pair.slice(eq + 1), true);
    if (!fields.has(name)) fields.set(name, value);
  }
  return fields;
}

function textOf(field: Field | undefined, name: string): string | undefined {
  if (field === undefined || typeof field === 'string') return field;
  throw badRequest('bad_field', `the field "${name}" must be text, not a file`);
}
