/**
 * The remote functions the benchmark suite times. They live at the top level
 * of their own module because workers find a remote function by importing
 * the module that declared it. Private to scripts/bench/.
 *
 * @module
 */
import * as ray from "../../mod.ts";

/** Does nothing and returns 0: the unit of every task-rate metric. */
export const noop = ray.remote(function noop() {
  return 0;
});

/** Returns 1: the fan-out tasks of fanout_fanin_10k, so that the fan-in sum checks the count. */
export const one = ray.remote(function one() {
  return 1;
});

/** Returns the length of the typed array it receives (by ref, zero-copy). */
export const arrayLength = ray.remote(function arrayLength(array: ArrayLike<number>) {
  return array.length;
});

/** Sums its arguments: the fan-in task of fanout_fanin_10k. */
export const sumArgs = ray.remote(function sumArgs(...values: number[]) {
  let sum = 0;
  for (const v of values) sum += v;
  return sum;
});

/** Submits `n` no-op tasks from inside a task and gets them all: one client of multi_client_tasks_async. */
export const submitAndGet = ray.remote(async function submitAndGet(n: number) {
  const refs = [];
  for (let i = 0; i < n; i++) refs.push(noop.remote());
  await ray.get(refs);
  return n;
});

/** Recursive Fibonacci, one task per call: fib(n) = fib(n - 1) + fib(n - 2). */
export const fib = ray.remote(async function fibTask(n: number): Promise<number> {
  if (n < 2) return n;
  const [a, b] = await ray.get([fib.remote(n - 1), fib.remote(n - 2)]);
  return a + b;
});

/** Returns `[0, 1, ..., n - 1]`; called with `numReturns: n`, each element is its own object. */
export const range = ray.remote(function range(n: number) {
  return Array.from({ length: n }, (_, i) => i);
});

/** Keeps its worker's thread busy for `ms` milliseconds (so that tasks queue behind it); returns `ms`. */
export const spin = ray.remote(function spin(ms: number) {
  const end = Date.now() + ms;
  while (Date.now() < end) { /* busy */ }
  return ms;
});

/** A counter: the actor of many_actors. */
export class Tally {
  n = 0;
  /** Adds `by`; returns the count. */
  add(by: number): number {
    return (this.n += by);
  }
}
/** Actor class of Tally. */
export const TallyActor = ray.remote(Tally);
