/**
 * Keeps a thread from being ended while it holds the store's lock. A worker
 * terminated inside `alloc` or `free` would leave the lock held and every
 * later allocation, the main thread's included, waiting forever.
 *
 * Each worker gets two Int32 words shared with the main thread: "in a
 * critical section" (set by the worker around each locked heap operation)
 * and "stop requested" (set by the main thread before it terminates the
 * worker). Both sides write then read with sequentially consistent atomics,
 * so either the worker sees the request and does not take the lock, or the
 * main thread sees the worker inside and waits the few hundred nanoseconds
 * until it leaves.
 *
 * @module
 */

const INSIDE = 0;
const STOP = 1;

/** This thread's words (absent on the main thread, which is never terminated). */
let words: Int32Array | undefined;

/** A fresh pair of words for a new worker (made by the main thread). */
export function newStopWords(): SharedArrayBuffer {
  return new SharedArrayBuffer(8);
}

/** Installs this worker's words (in the worker, at start). */
export function useStopWords(sab: SharedArrayBuffer): void {
  words = new Int32Array(sab);
}

/**
 * Marks this thread inside a locked heap operation.
 * @throws Error when the thread is being stopped (it must not take the lock)
 */
export function enterCritical(): void {
  if (!words) return;
  Atomics.store(words, INSIDE, 1);
  if (Atomics.load(words, STOP) !== 0) {
    Atomics.store(words, INSIDE, 0);
    throw new Error("Cannot use the object store: this worker is being stopped");
  }
}

/** Marks this thread out of the locked heap operation. */
export function leaveCritical(): void {
  if (words) Atomics.store(words, INSIDE, 0);
}

/**
 * Asks the worker owning `sab` to stay out of the heap and waits (at most
 * `maxMs`) until it is out; then it may be terminated safely.
 */
export function stopAndWait(sab: SharedArrayBuffer, maxMs = 100): void {
  const w = new Int32Array(sab);
  Atomics.store(w, STOP, 1);
  const deadline = performance.now() + maxMs;
  while (Atomics.load(w, INSIDE) !== 0 && performance.now() < deadline) {
    // The worker is inside a locked heap operation: a few hundred nanoseconds.
  }
}
