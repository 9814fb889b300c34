import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { type Entry, makeEntry, makeTombstone } from '../../cluster/entry.js';
import { EntryPacker, isTombstone, valueLengthOf } from '../../cluster/packed-entry.js';
import type { Version } from '../../cluster/version.js';

const TEXT = 'text/plain; charset=utf-8';
const packer = new EntryPacker();

function v(wall: number, counter = 0, node = 'n1'): Version {
  return { wall, counter, node };
}

/** Packs and unpacks, checks the accessors agree with the entry, and returns the copy. */
function roundTrip(entry: Entry): Entry {
  const packed = packer.packEntry(entry);
  for (let i = 0; i < packed.length; i++) assert.ok(packed.charCodeAt(i) < 256, 'one byte a char');
  const back = packer.unpackEntry(packed);
  assert.deepEqual(back, entry);
  assert.deepEqual(packer.versionOf(packed), entry.version);
  assert.equal(packer.wallOf(packed), entry.version.wall);
  assert.equal(isTombstone(packed), entry.deleted === true);
  assert.equal(packer.expiresAtOf(packed), entry.expiresAt);
  assert.equal(valueLengthOf(packed), entry.value.length);
  return back;
}

describe('EntryPacker', () => {
  test('a text value', () => {
    roundTrip(makeEntry(Buffer.from('hello, world'), TEXT, v(1_700_000_000_123, 4)));
  });

  test('a UTF-8 text value with characters beyond latin1', () => {
    const back = roundTrip(makeEntry(Buffer.from('ключ ✓ 🙂 é'), TEXT, v(1)));
    assert.equal(back.value.toString(), 'ключ ✓ 🙂 é');
  });

  test('a binary value holding every byte value', () => {
    const bytes = Buffer.from(Array.from({ length: 512 }, (_, i) => (i * 7) % 256));
    roundTrip(makeEntry(bytes, 'application/octet-stream', v(2, 1, 'n2')));
  });

  test('an empty value', () => {
    roundTrip(makeEntry(Buffer.alloc(0), TEXT, v(3)));
  });

  test('a tombstone', () => {
    const back = roundTrip(makeTombstone(v(1_700_000_000_000, 9, 'n3')));
    assert.equal(back.deleted, true);
    assert.equal(back.type, '');
  });

  test('an expiring entry, and an expiring tombstone', () => {
    roundTrip(makeEntry(Buffer.from('soon gone'), TEXT, v(5), { expiresAt: 1_700_000_060_000 }));
    roundTrip(makeEntry(Buffer.from('x'), TEXT, v(5), { expiresAt: 1_700_000_000_000.5 }));
    roundTrip(makeEntry(Buffer.alloc(0), '', v(5), { deleted: true, expiresAt: 42 }));
  });

  test('no deleted or expiresAt field appears unless set', () => {
    const back = packer.unpackEntry(packer.packEntry(makeEntry(Buffer.from('a'), TEXT, v(1))));
    assert.deepEqual(Object.keys(back).sort(), ['type', 'value', 'version']);
  });

  test('every version field at its extremes', () => {
    roundTrip(makeEntry(Buffer.from('a'), TEXT, v(0, 0, 'n')));
    roundTrip(makeEntry(Buffer.from('a'), TEXT, v(999_999_999_999_999, 999_999_999, 'n')));
    roundTrip(makeEntry(Buffer.from('a'), TEXT, v(1.5, 0xffffffff, '10.0.0.1:8181')));
    roundTrip(makeEntry(Buffer.from('a'), TEXT, v(7, 1, 'nœud-ü-🙂.example')));
  });

  test('node ids and types: an empty one, a long one, and one with a dot in it', () => {
    roundTrip(makeEntry(Buffer.from('a'), '', v(1, 0, 'a.b.c')));
    roundTrip(makeEntry(Buffer.from('a'), `image/${'x'.repeat(70_000)}`, v(1, 0, 'z'.repeat(300))));
  });

  test('a counter that is not a u32 is refused', () => {
    assert.throws(
      () => packer.packEntry(makeEntry(Buffer.from('a'), TEXT, v(1, 2 ** 32))),
      RangeError,
    );
    assert.throws(() => packer.packEntry(makeEntry(Buffer.from('a'), TEXT, v(1, -1))), RangeError);
  });

  test('a value larger than the packing buffer, then a small one', () => {
    const large = Buffer.alloc(200_000);
    for (let i = 0; i < large.length; i++) large[i] = i % 251;
    roundTrip(makeEntry(large, 'image/png', v(9)));
    roundTrip(makeEntry(Buffer.from('small'), TEXT, v(10)));
  });

  test('an unpacked value is a copy: changing it leaves the packed entry alone', () => {
    const packed = packer.packEntry(makeEntry(Buffer.from('abc'), TEXT, v(1)));
    packer.unpackEntry(packed).value.fill(0);
    assert.equal(packer.unpackEntry(packed).value.toString(), 'abc');
  });

  test('more distinct types than the table holds are stored inline and still round-trip', () => {
    // The type table is bounded (content types come from clients); past it, types go inline.
    const entries = Array.from({ length: 5_000 }, (_, i) =>
      makeEntry(Buffer.from(`value ${i}`), `application/x-type-${i}`, v(i, i % 3, `node-${i % 5}`)),
    );
    const packed = entries.map((entry) => packer.packEntry(entry));
    for (let i = 0; i < entries.length; i++) {
      assert.deepEqual(packer.unpackEntry(packed[i] as string), entries[i]);
    }
    assert.ok(
      (packed[4_999] as string).length > (packed[0] as string).length + 20,
      'a late type is inline',
    );
  });

  test('two packers keep tables of their own', () => {
    // Fill one packer's type table; another still names its first types from its table.
    const full = new EntryPacker();
    for (let i = 0; i < 4_096; i++) full.packEntry(makeEntry(Buffer.alloc(0), `x/${i}`, v(1)));
    const fresh = new EntryPacker();
    const entry = makeEntry(Buffer.from('a'), 'application/x-new', v(1, 0, 'other-node'));
    const inFull = full.packEntry(entry);
    const inFresh = fresh.packEntry(entry);
    assert.ok(inFresh.length < inFull.length, 'the fresh packer keeps the type in its table');
    assert.deepEqual(fresh.unpackEntry(inFresh), entry);
    assert.deepEqual(full.unpackEntry(inFull), entry);
  });
});
