import { type Entry, makeEntry } from './entry.js';
import type { Version } from './version.js';

/**
 * An entry as the store holds it: one flat string, one char per byte (all codes < 256, so V8
 * keeps it at one byte per char). A node holds millions of entries; an Entry object with its
 * Version object and a Buffer per value costs several times the value, a string a few dozen
 * bytes of header. Entry objects are made again only when someone reads one.
 *
 * Layout, numbers big-endian:
 *   flags       u8   1 tombstone, 2 expires, 4 node inline, 8 type inline
 *   wall        f64  version wall-clock ms
 *   counter     u32  version counter
 *   expiresAt   f64  only with flag 2
 *   node, type  u16 index into a table of strings seen before, or with the inline flag a
 *               u32 length and the UTF-8 bytes (when the table is full or the string long)
 *   value       the value's bytes, to the end of the string
 */

const TOMBSTONE = 1;
const EXPIRES = 2;
const NODE_INLINE = 4;
const TYPE_INLINE = 8;
const AT_WALL = 1;
const AT_COUNTER = 9;
const AT_EXPIRES = 13;

/** Longer strings are never put in a table: they would stay there for good. */
const MAX_TABLE_STRING = 256;

/**
 * Strings that repeat across entries (node ids, content types), each stored once and named by
 * its index. Entries never leave a table, so it is bounded in count and in string length
 * (content types come from clients); what does not fit goes inline.
 */
class StringTable {
  private readonly strings: string[] = [];
  private readonly ids = new Map<string, number>();

  constructor(private readonly capacity: number) {}

  /** The string's index, added if there is room; undefined when it is to go inline. */
  idOf(text: string): number | undefined {
    const id = this.ids.get(text);
    if (id !== undefined || this.strings.length >= this.capacity) return id;
    if (text.length > MAX_TABLE_STRING) return undefined;
    this.strings.push(text);
    this.ids.set(text, this.strings.length - 1);
    return this.strings.length - 1;
  }

  at(id: number): string {
    const text = this.strings[id];
    if (text === undefined) throw new Error(`packed entry names unknown string #${id}`);
    return text;
  }
}

/**
 * Packs entries into their stored string form and reads them back. The string tables and
 * scratch buffers are its own: strings packed by one packer are read only by it, so a node's
 * store and cache tier share one, and two nodes in a process have one each.
 */
export class EntryPacker {
  private readonly nodes = new StringTable(0xffff);
  private readonly types = new StringTable(4096);
  // Packing writes into this buffer and reads it back as a latin1 string (flat, one byte per
  // char). Larger entries get a buffer of their own rather than growing this one for good.
  private readonly scratch = Buffer.allocUnsafeSlow(64 * 1024);
  private readonly float = Buffer.allocUnsafeSlow(8);

  /** Packs an entry into its stored string form. */
  packEntry(entry: Entry): string {
    const { version, value } = entry;
    if (!Number.isInteger(version.counter) || version.counter < 0 || version.counter > 0xffffffff) {
      throw new RangeError(`version counter ${version.counter} is not a u32`);
    }
    const nodeId = this.nodes.idOf(version.node);
    const typeId = this.types.idOf(entry.type);
    const nodeBytes = nodeId === undefined ? Buffer.from(version.node) : undefined;
    const typeBytes = typeId === undefined ? Buffer.from(entry.type) : undefined;
    const expires = entry.expiresAt !== undefined;
    const size =
      AT_EXPIRES +
      (expires ? 8 : 0) +
      (nodeBytes ? 4 + nodeBytes.length : 2) +
      (typeBytes ? 4 + typeBytes.length : 2) +
      value.length;
    const out = size <= this.scratch.length ? this.scratch : Buffer.allocUnsafe(size);
    out[0] =
      (entry.deleted ? TOMBSTONE : 0) |
      (expires ? EXPIRES : 0) |
      (nodeBytes ? NODE_INLINE : 0) |
      (typeBytes ? TYPE_INLINE : 0);
    out.writeDoubleBE(version.wall, AT_WALL);
    let at = out.writeUInt32BE(version.counter, AT_COUNTER);
    if (expires) at = out.writeDoubleBE(entry.expiresAt as number, at);
    at = writeString(out, at, nodeId, nodeBytes);
    at = writeString(out, at, typeId, typeBytes);
    value.copy(out, at);
    return out.toString('latin1', 0, size);
  }

  /** The entry a packed string holds, as a new object with its own value bytes. */
  unpackEntry(packed: string): Entry {
    const flags = packed.charCodeAt(0);
    const node = readString(packed, stringsAt(flags), flags & NODE_INLINE, this.nodes);
    const type = readString(packed, node.next, flags & TYPE_INLINE, this.types);
    const version = {
      wall: this.wallOf(packed),
      counter: readU32(packed, AT_COUNTER),
      node: node.text,
    };
    return makeEntry(Buffer.from(packed.slice(type.next), 'latin1'), type.text, version, {
      deleted: (flags & TOMBSTONE) !== 0,
      expiresAt: this.expiresAtOf(packed),
    });
  }

  /** The version of a packed entry. */
  versionOf(packed: string): Version {
    const flags = packed.charCodeAt(0);
    return {
      wall: this.wallOf(packed),
      counter: readU32(packed, AT_COUNTER),
      node: readString(packed, stringsAt(flags), flags & NODE_INLINE, this.nodes).text,
    };
  }

  /** The version's wall-clock ms, without building the version. */
  wallOf(packed: string): number {
    return this.readDouble(packed, AT_WALL);
  }

  /** The per-key expiry in wall-clock ms, if any. */
  expiresAtOf(packed: string): number | undefined {
    return packed.charCodeAt(0) & EXPIRES ? this.readDouble(packed, AT_EXPIRES) : undefined;
  }

  private readDouble(packed: string, at: number): number {
    for (let i = 0; i < 8; i++) this.float[i] = packed.charCodeAt(at + i);
    return this.float.readDoubleBE(0);
  }
}

function writeString(out: Buffer, at: number, id: number | undefined, bytes?: Buffer): number {
  if (!bytes) return out.writeUInt16BE(id as number, at);
  const next = out.writeUInt32BE(bytes.length, at);
  return next + bytes.copy(out, next);
}

/** True for a tombstone (no packer needed: the flag is in the string itself). */
export function isTombstone(packed: string): boolean {
  return (packed.charCodeAt(0) & TOMBSTONE) !== 0;
}

/** The number of value bytes (no packer needed: inline lengths are in the string itself). */
export function valueLengthOf(packed: string): number {
  const flags = packed.charCodeAt(0);
  let at = stringsAt(flags);
  at += flags & NODE_INLINE ? 4 + readU32(packed, at) : 2;
  at += flags & TYPE_INLINE ? 4 + readU32(packed, at) : 2;
  return packed.length - at;
}

/** Where the node field starts: after the expiry, when there is one. */
function stringsAt(flags: number): number {
  return AT_EXPIRES + (flags & EXPIRES ? 8 : 0);
}

function readString(
  packed: string,
  at: number,
  inline: number,
  table: StringTable,
): { text: string; next: number } {
  if (!inline) return { text: table.at(readU16(packed, at)), next: at + 2 };
  const length = readU32(packed, at);
  const text = Buffer.from(packed.slice(at + 4, at + 4 + length), 'latin1').toString('utf8');
  return { text, next: at + 4 + length };
}

function readU16(packed: string, at: number): number {
  return (packed.charCodeAt(at) << 8) | packed.charCodeAt(at + 1);
}

function readU32(packed: string, at: number): number {
  return readU16(packed, at) * 0x10000 + readU16(packed, at + 2);
}
