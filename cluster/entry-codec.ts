import { type Entry, isStorableType, makeEntry } from './entry.js';
import { formatVersion, parseVersion, type Version } from './version.js';

/**
 * The one binary form of an entry: a record, stored as the value of its key in the data dir
 * (durable-store.ts) and carried in every frame between nodes. Numbers little-endian:
 *   format     u8   1 (a record of another format is refused, never guessed at)
 *   flags      u8   1 tombstone, 2 expires
 *   version    u16 length, then the text `wall.counter.node`
 *   type       u16 length, then the content type
 *   expiresAt  f64  wall-clock ms, only with flag 2
 *   value      the value's bytes, to the end of the record
 * Node to node (sync stream, bulk entries, replicate batches) a body is frames, each u16 key
 * length, the key (UTF-8), u32 record length, the record. Values stay bytes end to end: no
 * JSON, no base64. The data dir stores each entry as its frame (layout 3; the record alone
 * until then, so older data dirs are moved at their first open); the frames replaced
 * big-endian frames of their own, so a node of the release before them cannot sync with this
 * one.
 */

const FORMAT = 1;
const TOMBSTONE = 1;
const EXPIRES = 2;

/** What a frame from another node may hold; a larger field is refused before it is buffered. */
export interface EntryLimits {
  maxKeyBytes: number;
  maxValueBytes: number;
}

/** Longest version text a frame may carry. */
const MAX_VERSION_BYTES = 255;
/** A frame's content type is refused past this (see isStorableType). */
const MAX_TYPE_BYTES = 255;
/** The most bytes of a record from another node before its value. */
const MAX_RECORD_HEAD = 6 + MAX_VERSION_BYTES + MAX_TYPE_BYTES + 8;
const NO_LIMITS: EntryLimits = { maxKeyBytes: 0xffff, maxValueBytes: 0xffffffff };

/** An entry's record, after `headroom` bytes left for the caller to fill (a frame's head). */
export function encodeRecord(entry: Entry, headroom = 0): Buffer {
  const version = formatVersion(entry.version);
  const versionBytes = Buffer.byteLength(version);
  const typeBytes = Buffer.byteLength(entry.type);
  const expires = entry.expiresAt !== undefined;
  const size = 6 + versionBytes + typeBytes + (expires ? 8 : 0) + entry.value.length;
  const record = Buffer.allocUnsafe(headroom + size);
  record[headroom] = FORMAT;
  record[headroom + 1] = (entry.deleted ? TOMBSTONE : 0) | (expires ? EXPIRES : 0);
  let at = record.writeUInt16LE(versionBytes, headroom + 2);
  at += record.write(version, at);
  at = record.writeUInt16LE(typeBytes, at);
  at += record.write(entry.type, at);
  if (expires) at = record.writeDoubleLE(entry.expiresAt as number, at);
  entry.value.copy(record, at);
  return record;
}

/**
 * The entry a record holds, with its own copy of the value; throws on a record that is not
 * one. With `limits` (a record from another node) it also refuses a field past them, a
 * content type that is not storable and an expiry that is not a number.
 */
export function decodeRecord(record: Buffer, limits?: EntryLimits): Entry {
  // Copied out: a received chunk or lmdb's read buffer is not the entry's to keep.
  return recordEntry(record, limits, true);
}

/** decodeRecord, the value a view of `record` unless `copy`. */
function recordEntry(record: Buffer, limits: EntryLimits | undefined, copy: boolean): Entry {
  if (record[0] !== FORMAT) throw new Error(`unknown format ${record[0]} (a newer diststore?)`);
  const flags = record.readUInt8(1);
  let at = 2;
  const field = (what: string, max: number): string => {
    const length = record.readUInt16LE(at);
    if (limits && length > max) throw new Error(`${what} of ${length} bytes (at most ${max})`);
    const end = at + 2 + length;
    if (end > record.length) throw new RangeError(`${what} runs past the end`);
    const text = record.toString('utf8', at + 2, end);
    at = end;
    return text;
  };
  const version = parseVersion(field('a version', MAX_VERSION_BYTES));
  if (!version) throw new Error('bad version');
  const type = field('a content type', MAX_TYPE_BYTES);
  const expiresAt = flags & EXPIRES ? record.readDoubleLE(at) : undefined;
  if (expiresAt !== undefined) at += 8;
  if (limits) {
    if (!isStorableType(type)) throw new Error('a content type that is not printable text');
    if (expiresAt !== undefined && !Number.isFinite(expiresAt)) throw new Error('a bad expiry');
    const valueBytes = record.length - at;
    if (valueBytes > limits.maxValueBytes) {
      throw new Error(`a value of ${valueBytes} bytes (at most ${limits.maxValueBytes})`);
    }
  }
  const value = copy ? Buffer.from(record.subarray(at)) : record.subarray(at);
  return makeEntry(value, type, version, { deleted: (flags & TOMBSTONE) !== 0, expiresAt });
}

/** Whether a record is a tombstone's, without decoding it. */
export function recordIsTombstone(record: Buffer): boolean {
  return ((record[1] as number) & TOMBSTONE) !== 0;
}

/** A record's version, without decoding the rest; throws on a record that is not one. */
export function recordVersion(record: Buffer): Version {
  if (record[0] !== FORMAT) throw new Error(`unknown format ${record[0]} (a newer diststore?)`);
  const end = 4 + record.readUInt16LE(2);
  if (end > record.length) throw new RangeError('a version runs past the end');
  const version = parseVersion(record.toString('utf8', 4, end));
  if (!version) throw new Error('bad version');
  return version;
}

/** Whether a record is a tombstone or has an expiry: no other record is ever swept. */
export function recordMayExpire(record: Buffer): boolean {
  return (record[1] as number) !== 0;
}

/** Encodes entries as frames, in chunks of roughly `chunkBytes`. */
export function encodeEntries(
  entries: Iterable<[string, Entry]>,
  chunkBytes = 256 * 1024,
): Generator<Buffer> {
  return inChunks(
    (function* () {
      for (const [key, entry] of entries) yield encodeEntry(key, entry);
    })(),
    chunkBytes,
  );
}

/**
 * Buffers joined into chunks of roughly `chunkBytes`: the frames of a sync, as the data dir
 * stores them, go out with neither a decode nor an encode of each entry.
 */
export function* inChunks(parts: Iterable<Buffer>, chunkBytes = 256 * 1024): Generator<Buffer> {
  let held: Buffer[] = [];
  let size = 0;
  for (const part of parts) {
    held.push(part);
    size += part.length;
    if (size >= chunkBytes) {
      yield Buffer.concat(held, size);
      held = [];
      size = 0;
    }
  }
  if (size > 0) yield Buffer.concat(held, size);
}

/** A frame's bytes before its record: the key's length, the key, the record's length. */
function frameHead(key: string, recordBytes: number): Buffer {
  const keyBytes = Buffer.byteLength(key);
  const head = Buffer.allocUnsafe(2 + keyBytes + 4);
  head.writeUInt16LE(keyBytes, 0);
  head.write(key, 2);
  head.writeUInt32LE(recordBytes, 2 + keyBytes);
  return head;
}

/** One frame of a record already encoded. */
export function frameOf(key: string, record: Buffer): Buffer {
  return Buffer.concat([frameHead(key, record.length), record]);
}

/** The key of one whole frame (one the caller wrote: not checked). */
export function frameKey(frame: Buffer): string {
  return frame.toString('utf8', 2, 2 + frame.readUInt16LE(0));
}

/** The record of one whole frame, in the frame's memory (not copied). */
export function frameRecord(frame: Buffer): Buffer {
  return frame.subarray(2 + frame.readUInt16LE(0) + 4);
}

/** One frame: the key, then the entry's record. */
export function encodeEntry(key: string, entry: Entry): Buffer {
  const keyBytes = Buffer.byteLength(key);
  const head = 2 + keyBytes + 4;
  const frame = encodeRecord(entry, head);
  frame.writeUInt16LE(keyBytes, 0);
  frame.write(key, 2);
  frame.writeUInt32LE(frame.length - head, head - 4);
  return frame;
}

/**
 * An entry as another node sent it: its key, the entry and its frame (a copy of the bytes
 * received, which the entry's value is a view of), checked, so that the data dir can store it
 * as it came (layout 3) instead of encoding the entry again. decodeEntries gives every frame.
 */
export type ReceivedEntry = [key: string, entry: Entry, frame?: Buffer];

/**
 * Decodes a stream of frames, however it was chunked; throws on a truncated or bad frame, or
 * one over the limits.
 */
export async function* decodeEntries(
  chunks: AsyncIterable<Uint8Array> | Iterable<Uint8Array>,
  limits: EntryLimits = NO_LIMITS,
): AsyncGenerator<ReceivedEntry> {
  let parts: Buffer[] = [];
  let buffered = 0;
  // Bytes held when the last decode stopped inside a frame: a large value arriving in many
  // chunks is joined again only once the buffer has doubled, not on every chunk.
  let stuckAt = 0;
  for await (const chunk of chunks) {
    // A view, not a copy: every frame decoded is copied out of it (decodeAt).
    parts.push(Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength));
    buffered += chunk.length;
    if (buffered < 2 * stuckAt) continue;
    const joined = parts.length === 1 ? (parts[0] as Buffer) : Buffer.concat(parts, buffered);
    const { entries, rest } = decodeComplete(joined, limits);
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
): { entries: ReceivedEntry[]; rest: Buffer } {
  const entries: ReceivedEntry[] = [];
  let at = 0;
  for (let decoded = decodeAt(buf, at, limits); decoded; decoded = decodeAt(buf, at, limits)) {
    entries.push(decoded.item);
    at = decoded.next;
  }
  return { entries, rest: buf.subarray(at) };
}

/** The frame at `start`, or undefined when it is not all there yet. */
function decodeAt(
  buf: Buffer,
  start: number,
  limits: EntryLimits,
): { item: ReceivedEntry; next: number } | undefined {
  if (buf.length < start + 2) return undefined;
  const keyBytes = buf.readUInt16LE(start);
  if (keyBytes > limits.maxKeyBytes) {
    throw new Error(`a key of ${keyBytes} bytes (at most ${limits.maxKeyBytes})`);
  }
  if (keyBytes === 0) throw new Error('an empty key');
  const recordAt = start + 2 + keyBytes + 4;
  if (buf.length < recordAt) return undefined;
  // The value's exact size is checked once the record is here; its bound holds before.
  const recordBytes = buf.readUInt32LE(recordAt - 4);
  const maxRecordBytes = MAX_RECORD_HEAD + limits.maxValueBytes;
  if (recordBytes > maxRecordBytes) {
    throw new Error(`a record of ${recordBytes} bytes (at most ${maxRecordBytes})`);
  }
  const next = recordAt + recordBytes;
  if (buf.length < next) return undefined;
  const key = buf.toString('utf8', start + 2, recordAt - 4);
  // Bytes that are not UTF-8 read as U+FFFD: the frame, stored as it came, would not hold
  // the key it is stored for. A node encodes every key it sends from a string, so never;
  // the bytes are compared only when a U+FFFD shows (three bad bytes can read as one).
  if (key.includes('\uFFFD') && !Buffer.from(key).equals(buf.subarray(start + 2, recordAt - 4))) {
    throw new Error('a key that is not UTF-8');
  }
  const frame = Buffer.from(buf.subarray(start, next));
  const entry = recordEntry(frame.subarray(recordAt - start), limits, false);
  return { item: [key, entry, frame], next };
}
