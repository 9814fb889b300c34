import type { Logger } from 'pino';

/**
 * How far this node's wall clock is from the cluster's. Every announcement carries its
 * sender's clock; on one LAN its transit time is well under a millisecond, so the sender's
 * clock minus ours on arrival is the sender's offset from us. The cluster's clock is the
 * median of every live member's (ours included, at 0): one or two wrong clocks do not move it,
 * so the node that is off is the one that is told.
 */
export class ClockOffsets {
  /** Whether the last check found this node off by more than the bound. */
  private off = false;

  constructor(
    private readonly options: {
      /** Off by more than this is reported (--max-clock-offset). */
      maxOffsetMs: number;
      log: Logger;
    },
  ) {}

  /**
   * This node's clock minus the cluster's median, in ms; undefined before another member's
   * clock was heard. `others` are the live members' offsets from us (their clock minus ours).
   */
  static ours(others: readonly number[]): number | undefined {
    if (others.length === 0) return undefined;
    const clocks = [0, ...others].sort((a, b) => a - b);
    const middle = clocks.length >> 1;
    const median =
      clocks.length % 2 === 1
        ? (clocks[middle] as number)
        : ((clocks[middle - 1] as number) + (clocks[middle] as number)) / 2;
    return median === 0 ? 0 : -median;
  }

  /**
   * Whether more than half of the cluster (us included) is behind us by more than `boundMs`:
   * then it is our clock that is wrong. With two nodes, or a split, nobody can tell: false.
   */
  static aheadOfMajority(others: readonly number[], boundMs: number): boolean {
    const behindUs = others.filter((offset) => offset < -boundMs).length;
    return behindUs * 2 > others.length + 1;
  }

  /** Whether an offset is past the bound. */
  isOff(offsetMs: number | undefined): boolean {
    return offsetMs !== undefined && Math.abs(offsetMs) > this.options.maxOffsetMs;
  }

  /** Logs when this node's clock goes off the cluster's, and when it is back. */
  check(offsetMs: number | undefined): void {
    const off = this.isOff(offsetMs);
    if (off === this.off) return;
    this.off = off;
    const offsetSeconds = offsetMs === undefined ? undefined : offsetMs / 1000;
    const maxOffsetSeconds = this.options.maxOffsetMs / 1000;
    if (off) {
      const way = (offsetMs ?? 0) > 0 ? 'ahead of' : 'behind';
      this.options.log.warn(
        { offsetSeconds, maxOffsetSeconds },
        `this node's clock is ${Math.abs(offsetSeconds ?? 0).toFixed(1)} s ${way} the cluster's median: check its time sync (NTP); writes stay ordered by the masters, but versions, TTLs and tombstone expiry use this clock, and other nodes refuse versions more than --max-clock-skew ahead of theirs`,
      );
    } else {
      this.options.log.info({ offsetSeconds, maxOffsetSeconds }, "clock back within the cluster's");
    }
  }
}
