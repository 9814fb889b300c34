import { type Entry, isStorableType, makeEntry } from './entry.js';
import { formatVersion, parseVersion } from './version.js';

/**
 * Binary framing of entries for bulk transfers (sync streams, re-sends): per entry
 * u16 key length, key, u16 version length, version, u16 type length, type, u8 flags
 * (1 = tombstone, 2 = expires), f64 expiry ms if flagged, u32 value length, value.
 * Values stay bytes end to end: no JSON, no base64.
 */

/** Encodes entries into chunks of roughly `chunkBytes`. */
export function* encodeEntries(
  entries: Iterable<[string, Entry]>,
  chunkBytes = 256 * 1024,
): Generator<Buffer> {
  let parts: Buffer[] = [];
  let size = 0;
  for (const [key, entry] of entries) {
    const frame = encodeEntry(key, entry);
    parts.push(frame);
    size += frame.length;
    if (size >= chunkBytes) {
      yield Buffer.concat(parts, size);
      parts = [];
      size = 0;
    }
  }
  if (size > 0) yield Buffer.concat(parts, size);
}

export function encodeEntry(key: string, entry: Entry): Buffer {
  const keyBytes = Buffer.from(key);
  const version = Buffer.from(formatVersion(entry.version));
  const type = Buffer.from(entry.type);
  const expires = entry.expiresAt !== undefined;
  const frame = Buffer.allocUnsafe(
    11 + (expires ? 8 : 0) + keyBytes.length + version.length + type.length + entry.value.length,
  );
  let at = frame.writeUInt16BE(keyBytes.length, 0);
  at += keyBytes.copy(frame, at);
  at = frame.writeUInt16BE(version.length, at);
  at += version.copy(frame, at);
  at = frame.writeUInt16BE(type.length, at);
  at += type.copy(frame, at);
  at = frame.writeUInt8((entry.deleted ? 1 : 0) | (expires ? 2 : 0), at);
  if (expires) at = frame.writeDoubleBE(entry.expiresAt as number, at);
  at = frame.writeUInt32BE(entry.value.length, at);
  entry.value.copy(frame, at);
  return frame;
}

/** What a frame from another node may hold; a larger field is refused before it is buffered. */
export interface EntryLimits {
  maxKeyBytes: number;
  maxValueBytes: number;
}

/** A frame's content type is refused past this before it is buffered (see isStorableType). */
const MAX_TYPE_BYTES = 255;
const NO_LIMITS: EntryLimits = { maxKeyBytes: 0xffff, maxValueBytes: 0xffffffff };

/**
 * Decodes a stream of frames, however it was chunked; throws on a truncated or bad frame, or
 * one over the limits.
 */
export async function* decodeEntries(
  chunks: AsyncIterable<Uint8Array> | Iterable<Uint8Array>,
  limits: EntryLimits = NO_LIMITS,
): AsyncGenerator<[string, Entry]> {
  let parts: Buffer[] = [];
  let buffered = 0;
  // Bytes held when the last decode stopped inside a frame: a large value arriving in many
  // chunks is joined again only once the buffer has doubled, not on every chunk.
  let stuckAt = 0;
  for await (const chunk of chunks) {
    parts.push(Buffer.from(chunk));
    buffered += chunk.length;
    if (buffered < 2 * stuckAt) continue;
    const { entries, rest } = decodeComplete(Buffer.concat(parts, buffered), limits);
    yield* entries;
    parts = [rest];
    buffered = stuckAt = rest.length;
  }
  const { entries, rest } = decodeComplete(Buffer.concat(parts, buffered), limits);
  yield* entries;
  if (rest.length > 0) throw new Error('entry stream ended inside a frame');
}

/** The whole frames at the start of a buffer, and the bytes after them. */
function decodeComplete(
  buf: Buffer,
  limits: EntryLimits,
): { entries: [string, Entry][]; rest: Buffer } {
  const entries: [string, Entry][] = [];
  let at = 0;
  for (let decoded = decodeAt(buf, at, limits); decoded; decoded = decodeAt(buf, at, limits)) {
    entries.push(decoded.item);
    at = decoded.next;
  }
  return { entries, rest: buf.subarray(at) };
}

function decodeAt(
  buf: Buffer,
  start: number,
  limits: EntryLimits,
): { item: [string, Entry]; next: number } | undefined {
  let at = start;
  const field = (lengthBytes: 2 | 4, what: string, max: number): Buffer | undefined => {
    if (buf.length < at + lengthBytes) return undefined;
    const length = lengthBytes === 2 ? buf.readUInt16BE(at) : buf.readUInt32BE(at);
    if (length > max) throw new Error(`${what} of ${length} bytes (at most ${max})`);
    if (buf.length < at + lengthBytes + length) return undefined;
    const bytes = buf.subarray(at + lengthBytes, at + lengthBytes + length);
    at += lengthBytes + length;
    return bytes;
  };
  const flags = () => {
    if (buf.length < at + 1) return undefined;
    const bits = buf.readUInt8(at);
    const expires = (bits & 2) !== 0;
    if (expires && buf.length < at + 9) return undefined;
    const expiresAt = expires ? buf.readDoubleBE(at + 1) : undefined;
    at += expires ? 9 : 1;
    return { deleted: (bits & 1) !== 0, expiresAt };
  };
  const key = field(2, 'a key', limits.maxKeyBytes);
  const version = key && field(2, 'a version', 255);
  const type = version && field(2, 'a content type', MAX_TYPE_BYTES);
  const meta = type && flags();
  const value = meta && field(4, 'a value', limits.maxValueBytes);
  if (!key || !version || !type || !meta || !value) return undefined;
  const parsed = parseVersion(version.toString());
  if (!parsed) throw new Error('bad version in entry stream');
  if (key.length === 0) throw new Error('an empty key');
  if (!isStorableType(type.toString('latin1')))
    throw new Error('a content type that is not printable text');
  if (meta.expiresAt !== undefined && !Number.isFinite(meta.expiresAt))
    throw new Error('a bad expiry');
  // Copy the value out so the entry does not pin the whole received chunk in memory.
  const entry = makeEntry(Buffer.from(value), type.toString(), parsed, meta);
  return { item: [key.toString(), entry], next: at };
}
