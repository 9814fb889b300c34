/** Keys a long walk in the event loop takes between two looks at the clock. */
export const CHECK_EVERY = 256;

/**
 * Whether a walk that began at `started` (performance.now()) and has taken `walked` keys has
 * had its `budgetMs` and should let the event loop turn (the expiry sweep's steps, KEYS).
 */
export function walkBudgetSpent(walked: number, started: number, budgetMs: number): boolean {
  return walked % CHECK_EVERY === 0 && performance.now() - started >= budgetMs;
}
