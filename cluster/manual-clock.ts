import type { Clock, TimerHandle } from './clock.js';

interface Timer extends TimerHandle {
  at: number;
  every: number | undefined;
  fn: () => void;
  order: number;
}

/**
 * A clock for tests that moves only when told (`advance`): timers fire in time order, and
 * after each one the work it started (in-memory packets, peers, disk-less stores) is let run
 * to completion before the next. A whole cluster's minutes then pass in milliseconds.
 */
export class ManualClock implements Clock {
  private time: number;
  private readonly timers = new Set<Timer>();
  private order = 0;

  constructor(start = Date.UTC(2026, 0, 1)) {
    this.time = start;
  }

  now(): number {
    return this.time;
  }

  /** The simulated time too: a test moves a node's wall clock by wrapping `now` alone. */
  monotonic(): number {
    return this.time;
  }

  setTimeout(fn: () => void, ms: number): TimerHandle {
    return this.add(fn, ms, undefined);
  }

  setInterval(fn: () => void, ms: number): TimerHandle {
    return this.add(fn, ms, Math.max(1, ms));
  }

  clearTimeout(timer: TimerHandle | undefined): void {
    this.timers.delete(timer as Timer);
  }

  clearInterval(timer: TimerHandle | undefined): void {
    this.timers.delete(timer as Timer);
  }

  /** Moves time forward by `ms`, firing every timer due on the way, each in its turn. */
  async advance(ms: number): Promise<void> {
    const end = this.time + ms;
    await settle();
    for (;;) {
      const next = this.nextDue(end);
      if (!next) break;
      this.time = Math.max(this.time, next.at);
      if (next.every === undefined) this.timers.delete(next);
      else next.at += next.every;
      next.fn();
      await settle();
    }
    this.time = end;
  }

  private nextDue(end: number): Timer | undefined {
    let next: Timer | undefined;
    for (const timer of this.timers) {
      if (timer.at > end) continue;
      if (!next || timer.at < next.at || (timer.at === next.at && timer.order < next.order)) {
        next = timer;
      }
    }
    return next;
  }

  private add(fn: () => void, ms: number, every: number | undefined): TimerHandle {
    const timer: Timer = { at: this.time + Math.max(0, ms), every, fn, order: this.order++ };
    this.timers.add(timer);
    return timer;
  }
}

/**
 * Lets in-process work run out: promise chains, microtask deliveries and setImmediate
 * callbacks (a lookup's last look at answers). A few turns, since one turn's work may queue
 * the next's.
 */
export async function settle(turns = 5): Promise<void> {
  for (let i = 0; i < turns; i++) await new Promise<void>((resolve) => setImmediate(resolve));
}
