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

/** Parses `wall.counter.node`; node ids may contain dots, so split only twice. */
export function parseVersion(text: string): Version | undefined {
  const match = /^(\d{1,15})\.(\d{1,9})\.(.+)$/.exec(text);
  if (!match) return undefined;
  return { wall: Number(match[1]), counter: Number(match[2]), node: match[3] as string };
}

/** Issues versions that are newer than everything this node has issued or observed. */
export class HybridClock {
  private wall = 0;
  private counter = 0;

  constructor(
    private readonly node: string,
    private readonly now: () => number = Date.now,
  ) {}

  /** A fresh version for a local write. */
  next(): Version {
    const physical = this.now();
    if (physical > this.wall) {
      this.wall = physical;
      this.counter = 0;
    } else {
      this.counter += 1;
    }
    return { wall: this.wall, counter: this.counter, node: this.node };
  }

  /** Moves the clock past a version seen from another node, so our next write beats it. */
  observe(seen: Version): void {
    if (seen.wall > this.wall) {
      this.wall = seen.wall;
      this.counter = seen.counter;
    } else if (seen.wall === this.wall && seen.counter > this.counter) {
      this.counter = seen.counter;
    }
  }
}
