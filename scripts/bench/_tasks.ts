/**
 * The task metrics of the suite: task throughput one at a time and in
 * flight, from the driver and from inside tasks, waits, dependencies, big
 * arguments by ref and nested tasks. Private to scripts/bench/.
 *
 * @module
 */
import * as ray from "../../mod.ts";
import type { Measurement } from "./_measure.ts";
import type { BenchContext, Metric } from "./_metric.ts";
import { arrayLength, fib, noop, one, submitAndGet, sumArgs } from "./_remote.ts";

/** Bytes of the typed array that task_args_100mb passes by ref. */
export const ARG_BYTES = 100 * 1024 * 1024;

/** Calls timed back to back in one batch of single_client_tasks_sync. */
const SYNC_BATCH = 100;
/** Tasks in flight per batch, as in Ray's benchmark. */
const IN_FLIGHT = 1000;
/** Clients (tasks that submit tasks) of multi_client_tasks_async. */
const CLIENTS = 4;

/**
 * A rayd metric: starts the embedded runtime (once per suite) before it runs.
 *
 * @param name the fixed metric name
 * @param unit the unit of its rate
 * @param body times the metric
 * @returns the metric
 */
export function raydMetric(
  name: string,
  unit: string,
  body: (ctx: BenchContext) => Promise<Measurement>,
): Metric {
  return {
    name,
    unit,
    kind: "rayd",
    async run(ctx) {
      await ctx.useRay();
      return await body(ctx);
    },
  };
}

/** Submits `n` no-op tasks at once; returns their refs. */
function submitNoops(n: number): ray.ObjectRef<number>[] {
  const refs = new Array<ray.ObjectRef<number>>(n);
  for (let i = 0; i < n; i++) refs[i] = noop.remote();
  return refs;
}

/** Throws when a benchmark computed the wrong thing: a fast wrong answer is no result. */
export function check(what: string, got: unknown, want: unknown): void {
  if (got !== want) {
    throw new Error(`Benchmark check failed: ${what} gave ${got}, expected ${want}`);
  }
}

/**
 * Number of remote calls `fib(n)` makes, itself included.
 *
 * @param n the argument of the outermost call
 * @returns calls(n) = 1 + calls(n - 1) + calls(n - 2), calls(0) = calls(1) = 1
 */
export function fibCalls(n: number): number {
  let [prev, cur] = [1, 1];
  for (let i = 1; i < n; i++) [prev, cur] = [cur, prev + cur + 1];
  return cur;
}

/** fib(n) computed locally, to check the remote result. */
function fibLocal(n: number): number {
  let [a, b] = [0, 1];
  for (let i = 0; i < n; i++) [a, b] = [b, a + b];
  return a;
}

/** The task metrics, in the order of docs/BENCHMARKS.md. */
export const TASK_METRICS: readonly Metric[] = [
  raydMetric("single_client_tasks_sync", "tasks/s", (ctx) =>
    ctx.measure(async () => {
      for (let i = 0; i < SYNC_BATCH; i++) await ray.get(noop.remote());
      return SYNC_BATCH;
    })),
  raydMetric("single_client_tasks_async", "tasks/s", (ctx) =>
    ctx.measure(async () => {
      await ray.get(submitNoops(IN_FLIGHT));
      return IN_FLIGHT;
    })),
  raydMetric("multi_client_tasks_async", "tasks/s", (ctx) =>
    ctx.measure(async () => {
      const refs = [];
      for (let c = 0; c < CLIENTS; c++) refs.push(submitAndGet.remote(IN_FLIGHT));
      const done = await ray.get(refs);
      check("multi_client_tasks_async", done.reduce((a, b) => a + b, 0), CLIENTS * IN_FLIGHT);
      return CLIENTS * IN_FLIGHT;
    })),
  raydMetric("single_client_tasks_and_get_batch", "batches/s", (ctx) =>
    ctx.measure(async () => {
      await ray.get(submitNoops(IN_FLIGHT));
      return 1;
    })),
  raydMetric("single_client_wait_1k_refs", "rounds/s", (ctx) =>
    ctx.measure(async () => {
      let notReady = submitNoops(IN_FLIGHT);
      let ready = 0;
      while (notReady.length > 0) {
        const [done, rest] = await ray.wait(notReady);
        ready += done.length;
        notReady = rest;
      }
      check("single_client_wait_1k_refs", ready, IN_FLIGHT);
      return 1;
    })),
  raydMetric("task_args_100mb", "tasks/s", async (ctx) => {
    const array = new Float64Array(ARG_BYTES / Float64Array.BYTES_PER_ELEMENT);
    const ref = ray.put(array);
    return await ctx.measure(async () => {
      check("task_args_100mb", await ray.get(arrayLength.remote(ref)), array.length);
      return 1;
    });
  }),
  raydMetric("fanout_fanin_10k", "tasks/s", (ctx) => {
    const n = ctx.quick ? 1_000 : 10_000;
    return ctx.measure(async () => {
      const refs = new Array<ray.ObjectRef<number>>(n);
      for (let i = 0; i < n; i++) refs[i] = one.remote();
      check("fanout_fanin_10k", await ray.get(sumArgs.remote(...refs)), n);
      return n + 1;
    });
  }),
  raydMetric("nested_tasks_fib", "tasks/s", (ctx) => {
    const n = ctx.quick ? 10 : 20;
    return ctx.measure(async () => {
      check(`fib(${n})`, await ray.get(fib.remote(n)), fibLocal(n));
      return fibCalls(n);
    });
  }),
];
