import { DiststoreError } from './errors.js';

/**
 * Hybrid logical clock versions: (wall ms, counter, node id), totally ordered.
 * Every entry carries one; conflicts resolve last-writer-wins by comparing them.
 */
export interface Version {
  readonly wall: number;
  readonly counter: number;
  readonly node: string;
}

/** Negative when a is older than b, positive when newer, 0 when equal. */
export function compareVersions(a: Version, b: Version): number {
  if (a.wall !== b.wall) return a.wall - b.wall;
  if (a.counter !== b.counter) return a.counter - b.counter;
  return a.node < b.node ? -1 : a.node > b.node ? 1 : 0;
}

/** True when a is strictly newer than b (or b is missing). */
export function isNewer(a: Version, b: Version | undefined): boolean {
  return b === undefined || compareVersions(a, b) > 0;
}

/** Text form `wall.counter.node`, used in headers and TXT records. */
export function formatVersion(v: Version): string {
  return `${v.wall}.${v.counter}.${v.node}`;
}

/**
 * The largest counter a version may carry. A clock that would pass it moves its wall time on
 * by a millisecond instead, so no node ever needs more; a version from outside with a larger
 * counter is malformed. Without the bound one huge counter, once observed, was carried into
 * every later write of that node, past what its peers would parse.
 */
export const MAX_COUNTER = 0xffff;

/** Parses `wall.counter.node`; node ids may contain dots, so split only twice. */
export function parseVersion(text: string): Version | undefined {
  // By hand, what /^(\d{1,15})\.(\d{1,5})\.(.{1,200})$/ takes (test/unit/version.test.ts
  // checks the two agree): every record read from a data dir or a sync is parsed, and the
  // regular expression took about 0.55 µs a version, a twentieth of a sync's CPU (profiled).
  const first = text.indexOf('.');
  const second = text.indexOf('.', first + 1);
  const nodeLength = text.length - second - 1;
  if (first < 1 || first > 15 || second - first < 2 || second - first > 6) return undefined;
  if (nodeLength < 1 || nodeLength > 200) return undefined;
  const wall = digits(text, 0, first);
  const counter = digits(text, first + 1, second);
  const node = text.slice(second + 1);
  if (wall < 0 || counter < 0 || counter > MAX_COUNTER || LINE_BREAK.test(node)) return undefined;
  return { wall, counter, node };
}

/** What a regular expression's `.` does not match. */
const LINE_BREAK = /[\n\r\u2028\u2029]/;

/** The number the ASCII digits text[from, to) spell; -1 for anything else. */
function digits(text: string, from: number, to: number): number {
  let value = 0;
  for (let i = from; i < to; i++) {
    const digit = text.charCodeAt(i) - 48;
    if (digit < 0 || digit > 9) return -1;
    value = value * 10 + digit;
  }
  return value;
}

/** A version from outside too far ahead of this node's clock (see HybridClock.admits). */
export class VersionAheadError extends DiststoreError {
  readonly code = 'version_ahead';

  constructor(
    readonly version: Version,
    readonly aheadMs: number,
    readonly maxAheadMs: number,
  ) {
    super(
      `version ${formatVersion(version)} is ${Math.round(aheadMs)} ms ahead of this node's clock ` +
        `(at most ${maxAheadMs} ms allowed, --max-clock-skew): check the clocks (NTP)`,
    );
  }
}

/**
 * Issues versions that are newer than everything this node has issued or observed, and
 * refuses to be moved by a version from too far in the future: a node that took one would
 * stamp it on every later write, and per-key TTLs computed from it would never run out.
 */
export class HybridClock {
  private wall = 0;
  private counter = 0;
  /** The newest version of another node's admitted (observe): every later write beats it. */
  private seenWall = 0;
  private seenCounter = 0;

  constructor(
    private readonly node: string,
    private readonly now: () => number = Date.now,
    /** How far ahead of our wall clock a version from outside may be (--max-clock-skew). */
    private readonly maxAheadMs = Number.POSITIVE_INFINITY,
  ) {}

  /**
   * A fresh version for a local write. One exception to "newer than everything issued": when
   * our own last version is further ahead than any node admits (this clock was wrong, and was
   * put right), the clock starts again from the newest version seen from outside. Continuing
   * from our own, every write would be refused by the masters until the wall clock caught up
   * (an hour, for a clock that had jumped an hour); no node took those versions.
   */
  next(): Version {
    const physical = this.now();
    if (this.wall > physical + this.maxAheadMs && this.wall > this.seenWall) {
      this.wall = this.seenWall;
      this.counter = this.seenCounter;
    }
    if (physical > this.wall) {
      this.wall = physical;
      this.counter = 0;
    } else if (this.counter < MAX_COUNTER) {
      this.counter += 1;
    } else {
      this.wall += 1;
      this.counter = 0;
    }
    return { wall: this.wall, counter: this.counter, node: this.node };
  }

  /** Whether a version from outside is within the allowed skew of our clock. */
  admits(seen: Version): boolean {
    return seen.wall <= this.now() + this.maxAheadMs;
  }

  /** Throws VersionAheadError for a version this clock does not admit. */
  check(seen: Version): void {
    if (!this.admits(seen)) {
      throw new VersionAheadError(seen, seen.wall - this.now(), this.maxAheadMs);
    }
  }

  /**
   * Moves the clock past a version seen from another node, so our next write beats it;
   * returns false, and leaves the clock alone, for a version it does not admit.
   */
  observe(seen: Version): boolean {
    if (!this.admits(seen)) return false;
    const { seenWall, seenCounter } = this;
    const newer = seen.wall > seenWall || (seen.wall === seenWall && seen.counter > seenCounter);
    if (seen.node !== this.node && newer) {
      this.seenWall = seen.wall;
      this.seenCounter = seen.counter;
    }
    if (seen.wall > this.wall) {
      this.wall = seen.wall;
      this.counter = seen.counter;
    } else if (seen.wall === this.wall && seen.counter > this.counter) {
      this.counter = seen.counter;
    }
    return true;
  }
}
