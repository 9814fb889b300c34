import { performance } from 'node:perf_hooks';

/** A timer handle, as the clock that set it gave it. */
export type TimerHandle = { unref?(): unknown };

/**
 * Time as the cluster logic sees it: the wall clock and timers, injected so that tests can
 * drive a whole cluster through elections and syncs without waiting (manual-clock.ts).
 */
export interface Clock {
  /** Wall-clock milliseconds since the epoch (versions and expiry are in these). */
  now(): number;
  /**
   * Milliseconds on a clock that never jumps: how long a member has been silent, how long
   * ago a master was heard. The wall clock may be stepped (NTP, an operator) by an hour:
   * every member would then look dead at once, or alive for an hour after it died.
   */
  monotonic(): number;
  setTimeout(fn: () => void, ms: number): TimerHandle;
  clearTimeout(timer: TimerHandle | undefined): void;
  setInterval(fn: () => void, ms: number): TimerHandle;
  clearInterval(timer: TimerHandle | undefined): void;
}

/** The process's own clock and timers. */
export const systemClock: Clock = {
  now: Date.now,
  monotonic: () => performance.now(),
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (timer) => clearTimeout(timer as NodeJS.Timeout | undefined),
  setInterval: (fn, ms) => setInterval(fn, ms),
  clearInterval: (timer) => clearInterval(timer as NodeJS.Timeout | undefined),
};
