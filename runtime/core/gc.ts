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
