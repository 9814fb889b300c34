import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  compareVersions,
  formatVersion,
  HybridClock,
  isNewer,
  MAX_COUNTER,
  parseVersion,
  type Version,
} from '../../cluster/version.js';

/** A clock that returns the given readings in turn, then repeats the last one. */
function readings(...values: number[]): () => number {
  let i = 0;
  return () => values[Math.min(i++, values.length - 1)] as number;
}

function assertStrictlyIncreasing(versions: Version[]): void {
  for (let i = 1; i < versions.length; i++) {
    const [before, after] = [versions[i - 1] as Version, versions[i] as Version];
    assert.ok(
      compareVersions(after, before) > 0,
      `${formatVersion(after)} should be newer than ${formatVersion(before)}`,
    );
  }
}

describe('HybridClock', () => {
  test('issues strictly increasing versions while the wall clock stands still', () => {
    const clock = new HybridClock('n1', () => 1_000);
    const versions = Array.from({ length: 1_000 }, () => clock.next());
    assertStrictlyIncreasing(versions);
  });

  test('issues strictly increasing versions while the wall clock goes backwards', () => {
    const clock = new HybridClock('n1', readings(5_000, 4_000, 3_000, 3_000, 10, 0));
    const versions = Array.from({ length: 10 }, () => clock.next());
    assertStrictlyIncreasing(versions);
  });

  test('follows the wall clock when it moves forward again', () => {
    const clock = new HybridClock('n1', readings(100, 100, 100, 200));
    clock.next();
    clock.next();
    clock.next();
    assert.deepEqual(clock.next(), { wall: 200, counter: 0, node: 'n1' });
  });

  test('stamps versions with its node id', () => {
    const clock = new HybridClock('127.0.0.1:8181', () => 42);
    assert.equal(clock.next().node, '127.0.0.1:8181');
  });

  test('after observe(), the next version beats a version from a clock far ahead', () => {
    const clock = new HybridClock('a', () => 100);
    const seen: Version = { wall: 9_000_000, counter: 17, node: 'zzz' };
    clock.observe(seen);
    assert.ok(compareVersions(clock.next(), seen) > 0);
  });

  test('after observe(), the next version beats one with the same wall and a higher counter', () => {
    const clock = new HybridClock('a', () => 100);
    clock.next();
    const seen: Version = { wall: 100, counter: 50, node: 'zzz' };
    clock.observe(seen);
    assert.ok(compareVersions(clock.next(), seen) > 0);
  });

  test('after observe(), the next version beats an equal stamp from a larger node id', () => {
    const clock = new HybridClock('a', () => 100);
    const mine = clock.next();
    const seen: Version = { wall: mine.wall, counter: mine.counter, node: 'zzz' };
    clock.observe(seen);
    assert.ok(compareVersions(clock.next(), seen) > 0);
  });

  test('observing an old version never makes the clock go back', () => {
    const clock = new HybridClock('a', () => 1_000);
    const before = clock.next();
    clock.observe({ wall: 1, counter: 0, node: 'zzz' });
    assert.ok(compareVersions(clock.next(), before) > 0);
  });

  test('versions keep increasing across interleaved observe() and next()', () => {
    const clock = new HybridClock('b', readings(10, 10, 5, 5, 5, 20, 20));
    const issued: Version[] = [];
    for (let i = 0; i < 7; i++) {
      const seen: Version = { wall: 10 + i, counter: i, node: i % 2 ? 'a' : 'c' };
      clock.observe(seen);
      const next = clock.next();
      assert.ok(compareVersions(next, seen) > 0, `round ${i}`);
      issued.push(next);
    }
    assertStrictlyIncreasing(issued);
  });
});

describe('compareVersions', () => {
  test('orders by wall time first, whatever the counter and node', () => {
    const older: Version = { wall: 1, counter: 999, node: 'zzz' };
    const newer: Version = { wall: 2, counter: 0, node: 'aaa' };
    assert.ok(compareVersions(older, newer) < 0);
    assert.ok(compareVersions(newer, older) > 0);
  });

  test('orders by counter when the wall times are equal', () => {
    const older: Version = { wall: 5, counter: 1, node: 'zzz' };
    const newer: Version = { wall: 5, counter: 2, node: 'aaa' };
    assert.ok(compareVersions(older, newer) < 0);
    assert.ok(compareVersions(newer, older) > 0);
  });

  test('breaks a tie on wall and counter by node id', () => {
    const a: Version = { wall: 5, counter: 1, node: '10.0.0.1:8181' };
    const b: Version = { wall: 5, counter: 1, node: '10.0.0.2:8181' };
    assert.ok(compareVersions(a, b) < 0);
    assert.ok(compareVersions(b, a) > 0);
  });

  test('is 0 only for identical versions', () => {
    assert.equal(
      compareVersions({ wall: 5, counter: 1, node: 'n' }, { wall: 5, counter: 1, node: 'n' }),
      0,
    );
  });

  test('sorts any shuffle of versions into one order', () => {
    const ordered: Version[] = [
      { wall: 1, counter: 0, node: 'b' },
      { wall: 1, counter: 1, node: 'a' },
      { wall: 1, counter: 1, node: 'b' },
      { wall: 2, counter: 0, node: 'a' },
      { wall: 2, counter: 0, node: 'c' },
      { wall: 3, counter: 7, node: 'a' },
    ];
    const shuffles = [
      [5, 4, 3, 2, 1, 0],
      [2, 0, 5, 1, 4, 3],
      [3, 5, 0, 4, 2, 1],
    ];
    for (const shuffle of shuffles) {
      const versions = shuffle.map((i) => ordered[i] as Version);
      assert.deepEqual(versions.sort(compareVersions), ordered);
    }
  });

  test('isNewer is true for a strictly newer version or a missing one', () => {
    const v: Version = { wall: 2, counter: 0, node: 'a' };
    assert.equal(isNewer(v, undefined), true);
    assert.equal(isNewer(v, { wall: 1, counter: 9, node: 'z' }), true);
    assert.equal(isNewer(v, { ...v }), false);
    assert.equal(isNewer(v, { wall: 2, counter: 0, node: 'b' }), false);
  });
});

describe('formatVersion and parseVersion', () => {
  const examples: Version[] = [
    { wall: 0, counter: 0, node: 'a' },
    { wall: 1_700_000_000_123, counter: 42, node: 'node-1' },
    { wall: 1_700_000_000_123, counter: 0, node: '127.0.0.1:8181' },
    { wall: 12, counter: MAX_COUNTER, node: 'host.example.com:9000' },
    { wall: 3, counter: 1, node: '[::1]:8181' },
    { wall: 3, counter: 1, node: '1.2.3' },
  ];

  for (const version of examples) {
    test(`round-trips ${formatVersion(version)}`, () => {
      assert.deepEqual(parseVersion(formatVersion(version)), version);
    });
  }

  test('formats as wall.counter.node', () => {
    assert.equal(
      formatVersion({ wall: 17, counter: 3, node: '127.0.0.1:8181' }),
      '17.3.127.0.0.1:8181',
    );
  });

  test('rejects text that is not a version', () => {
    const garbage = [
      '',
      'garbage',
      '1',
      '1.2',
      '1.2.',
      '.1.node',
      '1..node',
      'a.2.node',
      '1.b.node',
      '-1.2.node',
      '1.-2.node',
      '1.5e3.node',
      ' 1.2.node',
      '1234567890123456.0.node',
    ];
    for (const text of garbage) assert.equal(parseVersion(text), undefined, JSON.stringify(text));
  });

  test('takes exactly what its pattern describes', () => {
    // The format as a regular expression, which parseVersion once was.
    const pattern = /^(\d{1,15})\.(\d{1,5})\.(.{1,200})$/;
    const spec = (text: string) => {
      const match = pattern.exec(text);
      if (!match || Number(match[2]) > MAX_COUNTER) return undefined;
      return { wall: Number(match[1]), counter: Number(match[2]), node: match[3] as string };
    };
    // Each field from pieces that fit it and pieces that do not (signs, letters, line breaks).
    const walls = ['0', '7', '1764660000000', '123456789012345', '1234567890123456', '', 'a', '-1'];
    const counters = ['0', '42', '65535', '65536', '99999', '123456', '', 'x', '1e3'];
    const nodes = ['n', '127.0.0.1:8181', 'é'.repeat(200), 'n'.repeat(201), '', 'a\nb', '\u2028'];
    const dots = ['.', '.', '.', '..', ''];
    let seed = 1;
    const pick = <T>(from: T[]): T => {
      seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31;
      return from[Math.floor((seed / 2 ** 31) * from.length)] as T;
    };
    const texts: string[] = [];
    for (let i = 0; i < 20_000; i++) {
      texts.push(pick(walls) + pick(dots) + pick(counters) + pick(dots) + pick(nodes));
    }
    for (const text of texts)
      assert.deepEqual(parseVersion(text), spec(text), JSON.stringify(text));
    // Both sides of the line are walked: texts taken as versions, and texts refused.
    const taken = texts.filter((text) => spec(text) !== undefined).length;
    assert.ok(taken > 500 && taken < texts.length - 500, `${taken} of ${texts.length} taken`);
  });
});

describe('HybridClock against versions from outside', () => {
  test('a version further ahead than the allowed skew is refused and leaves the clock alone', () => {
    const clock = new HybridClock('n1', () => 1_000_000, 60_000);
    const poisoned: Version = { wall: 999_999_999_999_999, counter: 0, node: 'evil' };
    assert.equal(clock.admits(poisoned), false);
    assert.equal(clock.observe(poisoned), false);
    assert.deepEqual(clock.next(), { wall: 1_000_000, counter: 0, node: 'n1' });
  });

  test('a clock put right after a jump ahead stamps from its wall time again', () => {
    let now = 1_000_000 + 3_600_000;
    const clock = new HybridClock('n1', () => now, 60_000);
    assert.equal(clock.next().wall, 4_600_000);
    now = 1_000_000;
    assert.deepEqual(clock.next(), { wall: 1_000_000, counter: 0, node: 'n1' });
    // Within the skew, its own versions still only go forward.
    now = 4_600_000;
    clock.next();
    now = 4_590_000;
    assert.deepEqual(clock.next(), { wall: 4_600_000, counter: 1, node: 'n1' });
  });

  test('a clock stepped back still beats every version it saw from outside', () => {
    let now = 5_000_000;
    const clock = new HybridClock('n1', () => now, 60_000);
    clock.observe({ wall: 5_000_500, counter: 7, node: 'peer' });
    clock.next();
    now = 1_000_000;
    assert.ok(isNewer(clock.next(), { wall: 5_000_500, counter: 7, node: 'peer' }));
  });

  test('a version within the skew is taken, and the next write beats it', () => {
    const clock = new HybridClock('n1', () => 1_000_000, 60_000);
    const ahead: Version = { wall: 1_059_000, counter: 3, node: 'peer' };
    assert.equal(clock.observe(ahead), true);
    assert.ok(isNewer(clock.next(), ahead));
  });

  test('the counter never passes MAX_COUNTER: the wall time moves on instead', () => {
    const clock = new HybridClock('n1', () => 500, 60_000);
    clock.observe({ wall: 500, counter: MAX_COUNTER - 1, node: 'peer' });
    const versions = [clock.next(), clock.next(), clock.next()];
    assert.deepEqual(
      versions.map((v) => [v.wall, v.counter]),
      [
        [500, MAX_COUNTER],
        [501, 0],
        [501, 1],
      ],
    );
    for (const v of versions) assert.deepEqual(parseVersion(formatVersion(v)), v);
  });

  test('a counter over MAX_COUNTER does not parse', () => {
    assert.equal(parseVersion(`5.${MAX_COUNTER + 1}.n`), undefined);
    assert.equal(parseVersion('5.999999999.n'), undefined);
  });
});
