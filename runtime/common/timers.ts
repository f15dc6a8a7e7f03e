/**
 * Timers for durations that users and settings give: `setTimeout` keeps at
 * most 2^31 - 1 ms (about 24.8 days) and fires a longer delay at once, so a
 * longer one is chained from shorter timers here, and `Infinity` never fires.
 *
 * @module
 */

/** Longest delay one `setTimeout` keeps, in ms; a longer one fires at once. */
export const MAX_TIMER_MS = 2 ** 31 - 1;

/** A pending {@link longTimeout} or {@link longInterval}. */
export interface LongTimer {
  /** Stops the timer; it does not fire afterwards. Safe to call twice. */
  clear(): void;
}

/** Options of {@link longTimeout} and {@link longInterval}. */
export interface LongTimerOptions {
  /** Do not keep the process alive for this timer (`Deno.unrefTimer`). */
  unref?: boolean;
}

const NEVER: LongTimer = { clear: () => {} };

/**
 * Calls `fn` once after `ms` milliseconds, however long; `Infinity` never does.
 *
 * @param fn what to call
 * @param ms the delay: a number >= 0, or `Infinity`
 * @param options whether the timer keeps the process alive
 * @returns the timer, to clear
 * @example
 * ```ts
 * import { longTimeout } from "./timers.ts";
 * const timer = longTimeout(() => console.log("in 30 days"), 30 * 24 * 3600 * 1000);
 * timer.clear();
 * ```
 */
export function longTimeout(
  fn: () => void,
  ms: number,
  options: LongTimerOptions = {},
): LongTimer {
  if (ms === Infinity) return NEVER;
  let id: ReturnType<typeof setTimeout>;
  const arm = (left: number) => {
    id = left > MAX_TIMER_MS
      ? setTimeout(() => arm(left - MAX_TIMER_MS), MAX_TIMER_MS)
      : setTimeout(fn, left);
    if (options.unref) Deno.unrefTimer(id as unknown as number);
  };
  arm(ms);
  return { clear: () => clearTimeout(id) };
}

/**
 * Calls `fn` every `ms` milliseconds, however long; `Infinity` never does.
 *
 * @param fn what to call
 * @param ms the period: a number > 0, or `Infinity`
 * @param options whether the timer keeps the process alive
 * @returns the timer, to clear
 */
export function longInterval(
  fn: () => void,
  ms: number,
  options: LongTimerOptions = {},
): LongTimer {
  if (ms <= MAX_TIMER_MS) {
    const id = setInterval(fn, ms);
    if (options.unref) Deno.unrefTimer(id as unknown as number);
    return { clear: () => clearInterval(id) };
  }
  let timer = NEVER;
  let cleared = false;
  const tick = () => {
    if (cleared) return;
    timer = longTimeout(tick, ms, options);
    fn();
  };
  timer = longTimeout(tick, ms, options);
  return {
    clear: () => {
      cleared = true;
      timer.clear();
    },
  };
}

/**
 * Resolves after `ms` milliseconds, however long; `Infinity` never does.
 *
 * @param ms the delay
 * @returns a promise of nothing
 */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => longTimeout(resolve, ms));
}
