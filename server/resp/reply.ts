/**
 * RESP replies, encoded straight to Buffers (one allocation for a bulk string). RESP3 differs
 * from RESP2 only where a connection said `HELLO 3`: null, maps and sets.
 */
export type Protocol = 2 | 3;

export const OK = Buffer.from('+OK\r\n');
export const PONG = Buffer.from('+PONG\r\n');
const NULL2 = Buffer.from('$-1\r\n');
const NULL_ARRAY2 = Buffer.from('*-1\r\n');
const NULL3 = Buffer.from('_\r\n');
const SMALL_INTS = Array.from({ length: 16 }, (_, n) => Buffer.from(`:${n}\r\n`));
const MINUS_INTS = [Buffer.from(':-1\r\n'), Buffer.from(':-2\r\n')];

const CRLF = Buffer.from('\r\n');
/** `$<len>\r\n` of the lengths most values have, made once each. */
const HEADS: Buffer[] = [];
const HEADS_CACHED = 4096;

function head(length: number): Buffer {
  if (length >= HEADS_CACHED) return Buffer.from(`$${length}\r\n`, 'latin1');
  let cached = HEADS[length];
  if (!cached) {
    cached = Buffer.from(`$${length}\r\n`, 'latin1');
    HEADS[length] = cached;
  }
  return cached;
}

/**
 * A bulk string as its three parts, to be joined with the other replies of the same write:
 * the value is then copied once, into the write, instead of into a reply first.
 */
export function bulkParts(value: Buffer): Buffer[] {
  return [head(value.length), value, CRLF];
}

/** A bulk string: `$<len>\r\n<bytes>\r\n`. */
export function bulk(value: Buffer | string): Buffer {
  const body = typeof value === 'string' ? Buffer.from(value) : value;
  const length = body.length;
  const prefix = head(length);
  const out = Buffer.allocUnsafe(prefix.length + length + 2);
  prefix.copy(out);
  body.copy(out, prefix.length);
  out[prefix.length + length] = 13;
  out[prefix.length + length + 1] = 10;
  return out;
}

/** The absent value: `$-1` in RESP2, `_` in RESP3. */
export function nil(protocol: Protocol): Buffer {
  return protocol === 3 ? NULL3 : NULL2;
}

/** An absent array (SET … NX that did not set, with GET semantics): `*-1` or `_`. */
export function nilArray(protocol: Protocol): Buffer {
  return protocol === 3 ? NULL3 : NULL_ARRAY2;
}

export function integer(n: number): Buffer {
  if (n >= 0 && n < 16) return SMALL_INTS[n] as Buffer;
  if (n === -1 || n === -2) return MINUS_INTS[-n - 1] as Buffer;
  return Buffer.from(`:${n}\r\n`, 'latin1');
}

/** A status line (`+OK`); it must not contain CR or LF. */
export function simple(text: string): Buffer {
  return Buffer.from(`+${oneLine(text)}\r\n`);
}

/** An error line; `text` starts with its code (`ERR …`, `WRONGTYPE …`). */
export function error(text: string): Buffer {
  return Buffer.from(`-${oneLine(text)}\r\n`);
}

/** An array of encoded replies. */
export function array(items: Buffer[]): Buffer {
  return Buffer.concat([Buffer.from(`*${items.length}\r\n`), ...items]);
}

/** An array of bulk strings (or nulls). */
export function bulkArray(values: (Buffer | string | undefined)[], protocol: Protocol): Buffer {
  return array(values.map((v) => (v === undefined ? nil(protocol) : bulk(v))));
}

/** A map: `%<n>` in RESP3, a flat array of keys and values in RESP2. */
export function map(pairs: [string, Buffer][], protocol: Protocol): Buffer {
  const head = protocol === 3 ? `%${pairs.length}\r\n` : `*${2 * pairs.length}\r\n`;
  return Buffer.concat([Buffer.from(head), ...pairs.flatMap(([k, v]) => [bulk(k), v])]);
}

/** A set: `~<n>` in RESP3, an array in RESP2. */
export function set(items: Buffer[], protocol: Protocol): Buffer {
  if (protocol === 2) return array(items);
  return Buffer.concat([Buffer.from(`~${items.length}\r\n`), ...items]);
}

function oneLine(text: string): string {
  return text.replace(/[\r\n]+/g, ' ');
}
