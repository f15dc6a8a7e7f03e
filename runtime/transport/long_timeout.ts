/**
 * Timeouts of any length: `setTimeout` fires at once for delays of 2^31 ms or
 * more, so longer delays are chained in steps below that.
 */

/** Longest delay one `setTimeout` handles (2^31 - 1 ms, about 24.8 days). */
export const MAX_TIMER_MS = 2 ** 31 - 1;

/**
 * Calls `fn` once after `ms` milliseconds, for any `ms` including those of
 * 2^31 or more; `Infinity` never fires.
 *
 * @param fn what to call
 * @param ms delay in ms, a number ≥ 0 (NaN is refused)
 * @returns a function that cancels the timeout (safe to call more than once)
 * @throws RangeError when `ms` is negative or NaN
 * @example
 * ```ts
 * import { setLongTimeout } from "./long_timeout.ts";
 * const cancel = setLongTimeout(() => console.log("thirty days later"), 30 * 24 * 3600e3);
 * cancel();
 * ```
 */
export function setLongTimeout(fn: () => void, ms: number): () => void {
  if (Number.isNaN(ms) || ms < 0) {
    throw new RangeError(`Cannot set timeout: ${ms} ms is not a number ≥ 0`);
  }
  if (ms === Infinity) return () => {};
  const due = Date.now() + ms;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const arm = (left: number) => {
    timer = setTimeout(() => {
      const rest = due - Date.now();
      if (rest > 0 && left > MAX_TIMER_MS) arm(rest);
      else fn();
    }, Math.min(left, MAX_TIMER_MS));
  };
  arm(ms);
  return () => clearTimeout(timer);
}
