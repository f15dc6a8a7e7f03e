/**
 * The progress hook: how `get` and `wait` (runtime/core) tell a progress
 * display (runtime/observability draws one on a terminal) that they wait.
 *
 * @module
 */

/**
 * What `get` and `wait` call when they start waiting for `total` objects:
 * `poll` counts those ready now. Returns the function that ends the
 * display, or `undefined` when nothing is shown.
 */
export type ProgressHook = (
  kind: "get" | "wait",
  total: number,
  poll: () => Promise<number>,
) => (() => void) | undefined;
