/**
 * A way to run V8's garbage collector on demand. Objects in the shared store
 * are freed when their ObjectRefs are collected, but the store's bytes do not
 * count as JS heap, so V8 alone may not collect for a long time while the
 * store fills. The node calls `collectGarbage` when much has been stored
 * since the last collection.
 *
 * @module
 */
import v8 from "node:v8";
import vm from "node:vm";
import { refTracker } from "./ref_tracker.ts";

function exposeGc(): (() => void) | undefined {
  try {
    v8.setFlagsFromString("--expose-gc");
    const gc = vm.runInNewContext("gc");
    return typeof gc === "function" ? gc : undefined;
  } catch {
    return undefined;
  }
}

/** Runs a full collection in this thread; finalizers run on a later turn. Absent when V8 refuses. */
export const collectGarbage: (() => void) | undefined = exposeGc();

/**
 * Runs a full collection in this thread, unless it holds no object, and
 * releases at once the watched refs (refs to store bytes, see
 * `RefTracker.trackWatched`) it found dropped, instead of waiting for their
 * finalizers on a later turn. Returns how many were released (0 without `gc`).
 *
 * With `forGrowth` (the node asks because the store grew), it collects only
 * if this thread holds objects through holders that only a finalizer can
 * release: watched refs wait for a full store, which sweeps them without a
 * turn, since a forced full collection costs more than the copy it saves.
 */
export function reclaimDropped(forGrowth = false): number {
  if (!collectGarbage || refTracker.holding === 0) return 0;
  if (forGrowth && !refTracker.holdsUnwatched) return 0;
  collectGarbage();
  return refTracker.watchedCount === 0 ? 0 : refTracker.sweep();
}

/**
 * `reclaimDropped` for a full store: after a try that released nothing,
 * the next waits for a new run of the event loop (refs made in this run and
 * dropped stay alive until it ends, so another collection would not help).
 */
export function storeReclaimer(): () => number {
  let barren = false;
  return () => {
    if (barren) return 0;
    const released = reclaimDropped();
    if (released === 0) {
      barren = true;
      queueMicrotask(() => barren = false);
    }
    return released;
  };
}
