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
import type { SharedArena } from "../object_store/mod.ts";

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

/**
 * Makes `arena.alloc` in this thread free the refs it dropped before it
 * writes memory no object used yet, when it allocated at least `everyBytes`
 * since the last time and at least that much of the store is still unused.
 * Memory never written costs a page fault per page at its first write (on
 * some virtual machines several times the cost of the copy itself) and stays
 * resident after: a loop that puts one array again and again, dropping each
 * ref, would otherwise walk fresh pages until V8 happened to collect.
 * `reclaim` is a forced collection, then a sweep (`storeReclaimer`; never a
 * sweep first: its `deref` of a live token keeps the token alive through a
 * collection in the same turn). After a try that freed less than half of
 * what was allocated since the one before, the next waits twice as long (up
 * to the store's capacity): a program that keeps what it puts pays for a
 * collection rarely. When less than `everyBytes` of the store was never
 * used, nothing is tried: what is left costs little to touch once, and V8's
 * own collections (a loop that makes fresh arrays gets them) free the rest.
 * `everyBytes` 0 installs nothing.
 */
export function reclaimBeforeFresh(
  arena: SharedArena,
  reclaim: () => number,
  everyBytes: number,
): void {
  if (everyBytes <= 0) return;
  let every = everyBytes;
  let lastAt = 0;
  arena.onFresh = () => {
    const since = arena.allocatedHere - lastAt;
    if (since < every || arena.capacity - arena.touched < every) return;
    lastAt = arena.allocatedHere;
    const before = arena.used;
    reclaim();
    const freed = before - arena.used;
    every = freed * 2 >= since ? everyBytes : Math.min(every * 2, arena.capacity);
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
