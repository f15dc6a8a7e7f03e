/**
 * Garbage collection on demand, and freeing what it found dropped. Objects
 * in the shared store are freed when their ObjectRefs are collected, but the
 * store's bytes do not count as JS heap, so V8 alone may not collect for a
 * long time while the store fills. The node collects when much was stored
 * since V8 last collected, and before it would spill a full store.
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
 * Runs a full collection in this thread (unless it holds no object) and
 * releases at once the watched refs it found dropped (refs made by `put`
 * to store bytes), instead of waiting for their finalizers on a later turn.
 * Returns how many were released.
 */
export function reclaimDropped(): number {
  if (!collectGarbage || refTracker.holding === 0) return 0;
  collectGarbage();
  return refTracker.sweep();
}

/**
 * `reclaimDropped` for a full store: after a try that released nothing,
 * the next ones do nothing until the current run of code ends (a microtask
 * later), since nothing dropped since could be seen before its turn ends.
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

/** Something V8 collects at its first collection after the turn that made it. */
let sentinel = new WeakRef({});

/**
 * True when V8 collected in this thread since the last call that returned
 * true (or since this module loaded): the refs dropped before then are
 * found, and their finalizers or a `sweep` release them without a forced
 * collection. A call that returns false keeps the sentinel alive until the
 * current turn ends.
 */
export function collectedSinceLastAsked(): boolean {
  if (sentinel.deref() !== undefined) return false;
  sentinel = new WeakRef({});
  return true;
}
