import { badRequest, HttpError } from './errors.js';

/** Size limits on what clients may store. */
export interface Limits {
  maxKeyBytes: number;
  maxValueBytes: number;
}

/** Rejects an empty or oversized key (size counted in UTF-8 bytes). */
export function checkKey(key: string | undefined, limits: Limits): string {
  if (key === undefined) throw badRequest('missing_field', 'the field "key" is required');
  if (key.length === 0) throw badRequest('bad_key', 'the key must not be empty');
  const bytes = Buffer.byteLength(key);
  if (bytes > limits.maxKeyBytes) {
    throw new HttpError(
      414,
      'key_too_long',
      `the key is ${bytes} bytes; the limit is ${limits.maxKeyBytes}`,
    );
  }
  return key;
}

/** Rejects a value over the size limit. */
export function checkValueSize(bytes: number, limits: Limits): void {
  if (bytes > limits.maxValueBytes) {
    throw new HttpError(
      413,
      'value_too_large',
      `the value is ${bytes} bytes; the limit is ${limits.maxValueBytes}`,
    );
  }
}

/** Strict percent-decoding: malformed escapes or invalid UTF-8 are a 400, never guessed at. */
export function decodeComponent(text: string, plusIsSpace = false): string {
  try {
    return decodeURIComponent(plusIsSpace ? text.replaceAll('+', ' ') : text);
  } catch {
    throw badRequest('bad_encoding', 'malformed percent-encoding or invalid UTF-8');
  }
}
