import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { type Entry, makeEntry, makeTombstone } from '../../cluster/entry.js';
import {
  decodeEntries,
  decodeRecord,
  type EntryLimits,
  encodeEntries,
  encodeEntry,
  encodeRecord,
  inChunks,
  type ReceivedEntry,
} from '../../cluster/entry-codec.js';

/** A deterministic pseudo-random generator, so a failing split can be reproduced. */
function seeded(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state * 1_664_525 + 1_013_904_223) >>> 0;
    return state / 2 ** 32;
  };
}

function sampleEntries(): Array<[string, Entry]> {
  const random = seeded(7);
  const binary = Buffer.from(Array.from({ length: 256 }, (_, i) => i));
  const entries: Array<[string, Entry]> = [
    ['empty value', makeEntry(Buffer.alloc(0), 'text/plain; charset=utf-8', v(1, 0, 'n1'))],
    [
      'ключ/🙂 with spaces',
      makeEntry(Buffer.from('значение ✓'), 'text/plain; charset=utf-8', v(2, 0, 'n1')),
    ],
    ['binary', makeEntry(binary, 'application/octet-stream', v(3, 1, '127.0.0.1:8181'))],
    ['nul\u0000inside', makeEntry(Buffer.from([0, 0, 0]), 'application/x-zero', v(3, 2, 'a.b.c'))],
    ['.', makeEntry(Buffer.from('dot'), '', v(4, 0, '[::1]:8181'))],
    [
      'k'.repeat(1024),
      makeEntry(Buffer.from('long key'), 'text/plain', v(1_700_000_000_000, 9, 'n2')),
    ],
  ];
  entries.push(
    ['deleted key', makeTombstone(v(5, 0, 'n1'))],
    [
      'expiring',
      makeEntry(Buffer.from('short-lived'), 'text/plain', v(6, 0, 'n1'), {
        expiresAt: 1_700_000_300_000,
      }),
    ],
    [
      'expired tombstone',
      makeEntry(Buffer.alloc(0), '', v(7, 0, 'n2'), { deleted: true, expiresAt: 1 }),
    ],
  );
  for (let i = 0; i < 200; i++) {
    const extra = i % 7 === 0 ? { expiresAt: 1_700_000_000_000 + i } : {};
    const value = Buffer.from(
      Array.from({ length: Math.floor(random() * 64) }, () => Math.floor(random() * 256)),
    );
    entries.push([
      `key-${i}-é`,
      makeEntry(value, 'application/octet-stream', v(1000 + i, i % 3, `n${i % 5}`), extra),
    ]);
  }
  return entries;
}

function v(wall: number, counter: number, node: string) {
  return { wall, counter, node };
}

async function* chunksOf(...buffers: Uint8Array[]): AsyncGenerator<Uint8Array> {
  for (const buffer of buffers) yield buffer;
}

async function decodeAll(chunks: AsyncIterable<Uint8Array>): Promise<ReceivedEntry[]> {
  const out: ReceivedEntry[] = [];
  for await (const item of decodeEntries(chunks)) out.push(item);
  return out;
}

/** The whole encoded stream as one buffer. */
function encodedBytes(entries: Array<[string, Entry]>): Buffer {
  return Buffer.concat([...encodeEntries(entries)]);
}

/** Compares decoded entries field by field (values as bytes). */
function assertSameEntries(actual: ReceivedEntry[], expected: Array<[string, Entry]>): void {
  assert.equal(actual.length, expected.length);
  for (let i = 0; i < expected.length; i++) {
    const [key, entry] = expected[i] as [string, Entry];
    const [gotKey, got] = actual[i] as ReceivedEntry;
    assert.equal(gotKey, key, `key #${i}`);
    assert.ok(got.value.equals(entry.value), `value of ${JSON.stringify(key.slice(0, 40))}`);
    assert.equal(got.type, entry.type);
    assert.deepEqual(got.version, entry.version);
    assert.equal(got.deleted === true, entry.deleted === true, `tombstone flag of ${key}`);
    assert.equal(got.expiresAt, entry.expiresAt, `expiry of ${key}`);
  }
}

describe('encodeEntries / decodeEntries', () => {
  const entries = sampleEntries();
  const bytes = encodedBytes(entries);
  // Over 64 KiB, so its length needs the u32 field; kept out of the byte-by-byte feeds.
  const large: [string, Entry] = [
    'large',
    makeEntry(Buffer.alloc(70_000, 0xab), 'image/png', v(9_999, 0, 'n9')),
  ];
  const withLarge = [...entries.slice(0, 3), large, ...entries.slice(3)];

  test('round-trips entries as encoded (default chunking)', async () => {
    assertSameEntries(await decodeAll(chunksOf(...encodeEntries(withLarge))), withLarge);
  });

  test('frames joined in chunks (a sync from lmdb) are the stream of their entries', async () => {
    const frames = withLarge.map(([key, entry]) => encodeEntry(key, entry));
    const chunks = [...inChunks(frames, 100)];
    assert.ok(chunks.length > 1 && chunks.length < frames.length, 'frames joined, not one');
    assert.deepEqual(Buffer.concat(chunks), Buffer.concat([...encodeEntries(withLarge)]));
    assertSameEntries(await decodeAll(chunksOf(...inChunks(frames))), withLarge);
  });

  test('each entry comes with its frame as received, which its value is a view of', async () => {
    const decoded = await decodeAll(chunksOf(...encodeEntries(withLarge, 100)));
    for (const [i, [key, entry, frame]] of decoded.entries()) {
      const [sentKey, sent] = withLarge[i] as [string, Entry];
      assert.deepEqual(frame, encodeEntry(sentKey, sent), `frame of ${key}`);
      assert.equal(entry.value.buffer, frame?.buffer, 'the value is not a second copy');
    }
  });

  test('a key that is not UTF-8 is refused', async () => {
    const frame = encodeEntry('k', makeEntry(Buffer.from('x'), 't', v(1, 0, 'n')));
    frame[2] = 0xff; // the key's one byte
    await assert.rejects(decodeAll(chunksOf(frame)), /a key that is not UTF-8/);
    // A 4-byte sequence cut short reads as one U+FFFD of as many bytes as it has.
    const cut = encodeEntry('abc', makeEntry(Buffer.from('x'), 't', v(1, 0, 'n')));
    cut.set([0xf0, 0x90, 0x80], 2);
    await assert.rejects(decodeAll(chunksOf(cut)), /a key that is not UTF-8/);
  });

  test('a key that holds U+FFFD itself is a key like any other', async () => {
    const entry = makeEntry(Buffer.from('x'), 't', v(1, 0, 'n'));
    assertSameEntries(await decodeAll(chunksOf(encodeEntry('a\uFFFD', entry))), [
      ['a\uFFFD', entry],
    ]);
  });

  test('round-trips entries encoded into many small chunks', async () => {
    const chunks = [...encodeEntries(withLarge, 100)];
    assert.ok(chunks.length > 10, 'a small chunk size gives many chunks');
    assertSameEntries(await decodeAll(chunksOf(...chunks)), withLarge);
  });

  test('decodes the stream fed one byte at a time', async () => {
    const oneByte = Array.from({ length: bytes.length }, (_, i) => bytes.subarray(i, i + 1));
    assertSameEntries(await decodeAll(chunksOf(...oneByte)), entries);
  });

  test('decodes the stream however it is split', async () => {
    const bytes = encodedBytes(withLarge);
    for (const seed of [1, 2, 3, 4, 5]) {
      const random = seeded(seed);
      const pieces: Uint8Array[] = [];
      for (let at = 0; at < bytes.length; ) {
        const size = Math.min(bytes.length - at, 1 + Math.floor(random() * 3_000));
        // Plain Uint8Array copies: a stream need not hand us Buffers.
        pieces.push(new Uint8Array(bytes.subarray(at, at + size)));
        at += size;
      }
      assertSameEntries(await decodeAll(chunksOf(...pieces)), withLarge);
    }
  });

  test('decodes empty chunks in the stream', async () => {
    const middle = Math.floor(bytes.length / 2);
    const stream = chunksOf(
      Buffer.alloc(0),
      bytes.subarray(0, middle),
      Buffer.alloc(0),
      bytes.subarray(middle),
    );
    assertSameEntries(await decodeAll(stream), entries);
  });

  test('an empty stream decodes to no entries', async () => {
    assert.deepEqual([...encodeEntries([])], []);
    assert.deepEqual(await decodeAll(chunksOf()), []);
  });

  test('decoded values and frames do not change when the received chunk is reused', async () => {
    const one: Array<[string, Entry]> = [
      ['k', makeEntry(Buffer.from('original'), 'text/plain', v(1, 0, 'n'))],
    ];
    const chunk = Buffer.from(encodedBytes(one));
    const decoded = await decodeAll(chunksOf(chunk));
    chunk.fill(0);
    assertSameEntries(decoded, one);
    assert.deepEqual(decoded[0]?.[2], encodedBytes(one));
  });

  test('a stream truncated inside a frame throws', async () => {
    for (const cut of [1, 2, 5, bytes.length - 1]) {
      await assert.rejects(
        decodeAll(chunksOf(bytes.subarray(0, cut))),
        /ended inside a frame/,
        `cut at ${cut}`,
      );
    }
  });

  test('a truncated stream still throws when fed byte by byte', async () => {
    const cut = bytes.subarray(0, bytes.length - 3);
    const oneByte = Array.from({ length: cut.length }, (_, i) => cut.subarray(i, i + 1));
    await assert.rejects(decodeAll(chunksOf(...oneByte)), /ended inside a frame/);
  });

  test('a frame with a bad version throws', async () => {
    const one: Array<[string, Entry]> = [['k', makeEntry(Buffer.from('x'), 't', v(1, 0, 'n'))]];
    const frame = encodedBytes(one);
    // The version text starts after the u16 key length, the key, the u32 record length, and
    // the record's format, flags and u16 version length.
    frame.write('X', 2 + 1 + 4 + 1 + 1 + 2);
    await assert.rejects(decodeAll(chunksOf(frame)), /bad version/);
  });
});

/** A record as the data dir has held it since its first release, built byte by byte. */
function handBuiltRecord(): Buffer {
  const u16 = (n: number) => Buffer.from([n & 0xff, n >> 8]);
  const expiry = Buffer.alloc(8);
  expiry.writeDoubleLE(1_700_000_300_000.5);
  const version = Buffer.from('1700000000000.3.127.0.0.1:8181');
  const type = Buffer.from('text/plain');
  return Buffer.concat([
    Buffer.from([1, 2]), // format 1; flags: expires
    u16(version.length),
    version,
    u16(type.length),
    type,
    expiry,
    Buffer.from('héllo'),
  ]);
}

describe('encodeRecord / decodeRecord', () => {
  const expected = makeEntry(
    Buffer.from('héllo'),
    'text/plain',
    v(1_700_000_000_000, 3, '127.0.0.1:8181'),
    {
      expiresAt: 1_700_000_300_000.5,
    },
  );

  test('a record of the first release decodes, and the layout is unchanged', () => {
    assert.deepEqual(decodeRecord(handBuiltRecord()), expected);
    assert.deepEqual(encodeRecord(expected), handBuiltRecord());
  });

  test('records round-trip, tombstones and expiries included', () => {
    for (const [, entry] of sampleEntries())
      assert.deepEqual(decodeRecord(encodeRecord(entry)), entry);
  });

  test('a record of an unknown format, or cut short, throws', () => {
    const record = handBuiltRecord();
    assert.throws(() => decodeRecord(Buffer.from([99, 0, 0])), /unknown format 99/);
    assert.throws(() => decodeRecord(record.subarray(0, 10)), RangeError);
    assert.throws(() => decodeRecord(Buffer.alloc(0)), /unknown format/);
  });
});

describe('decodeEntries on frames over the limits or malformed', () => {
  const limits: EntryLimits = { maxKeyBytes: 8, maxValueBytes: 16 };
  const frames = (key: string, entry: Entry) => encodedBytes([[key, entry]]);
  const decodeWith = async (bytes: Buffer) => {
    for await (const _ of decodeEntries(chunksOf(bytes), limits));
  };
  const ok = makeEntry(Buffer.from('v'), 'text/plain', v(1, 0, 'n'));

  test('entries at the limits are accepted', async () => {
    await decodeWith(frames('k'.repeat(8), { ...ok, value: Buffer.alloc(16) }));
  });

  test('a key or a value over the limits is refused', async () => {
    await assert.rejects(decodeWith(frames('k'.repeat(9), ok)), /a key of 9 bytes \(at most 8\)/);
    const large = { ...ok, value: Buffer.alloc(17) };
    await assert.rejects(decodeWith(frames('k', large)), /a value of 17 bytes \(at most 16\)/);
  });

  test('a record length past the value limit is refused before the record arrives', async () => {
    const head = Buffer.from([1, 0, 0x6b, 0xff, 0xff, 0xff, 0x7f]); // key "k", a 2 GiB record
    await assert.rejects(decodeWith(head), /a record of 2147483647 bytes/);
  });

  test('an empty key, an unprintable type, a long version or a bad expiry is refused', async () => {
    await assert.rejects(decodeWith(frames('', ok)), /an empty key/);
    await assert.rejects(decodeWith(frames('k', { ...ok, type: 'text/\n' })), /not printable/);
    const longNode = v(1, 0, 'é'.repeat(150)); // a node id parseVersion takes, in 300 bytes
    await assert.rejects(decodeWith(frames('k', { ...ok, version: longNode })), /a version of/);
    const never = { ...ok, expiresAt: Number.NaN };
    await assert.rejects(decodeWith(frames('k', never)), /a bad expiry/);
  });
});
