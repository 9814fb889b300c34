/** A timer handle, as the clock that set it gave it. */
export type TimerHandle = { unref?(): unknown };

/**
 * Time as the cluster logic sees it: the wall clock and timers, injected so that tests can
 * drive a whole cluster through elections and syncs without waiting (manual-clock.ts).
 */
export interface Clock {
  /** Wall-clock milliseconds since the epoch (versions and expiry are in these). */
  now(): number;
  setTimeout(fn: () => void, ms: number): TimerHandle;
  clearTimeout(timer: TimerHandle | undefined): void;
  setInterval(fn: () => void, ms: number): TimerHandle;
  clearInterval(timer: TimerHandle | undefined): void;
}

/** The process's own clock and timers. */
export const systemClock: Clock = {
  now: Date.now,
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (timer) => clearTimeout(timer as NodeJS.Timeout | undefined),
  setInterval: (fn, ms) => setInterval(fn, ms),
  clearInterval: (timer) => clearInterval(timer as NodeJS.Timeout | undefined),
};
