/**
 * The object metrics of the suite: put and get calls, put bandwidth, and a
 * get of an object holding many refs. Private to scripts/bench/.
 *
 * @module
 */
import * as ray from "../../mod.ts";
import type { Metric } from "./_metric.ts";
import { check, raydMetric } from "./_tasks.ts";

/** Bytes of the array single_client_put_gigabytes puts. */
export const PUT_BYTES = 100 * 1024 * 1024;
/** Calls per batch of the call-rate metrics. */
const CALLS = 1000;
/** Refs inside the object of single_client_get_object_containing_10k_refs. */
const NESTED_REFS = 10_000;

/** The object metrics, in the order of docs/BENCHMARKS.md. */
export const OBJECT_METRICS: readonly Metric[] = [
  raydMetric("single_client_put_calls", "calls/s", (ctx) =>
    ctx.measure(() => {
      for (let i = 0; i < CALLS; i++) ray.put(0);
      return CALLS;
    })),
  raydMetric("single_client_get_calls", "calls/s", (ctx) => {
    const ref = ray.put(0);
    return ctx.measure(async () => {
      for (let i = 0; i < CALLS; i++) await ray.get(ref);
      return CALLS;
    });
  }),
  raydMetric("single_client_put_gigabytes", "GB/s", (ctx) => {
    const array = new Float64Array(PUT_BYTES / Float64Array.BYTES_PER_ELEMENT);
    return ctx.measure(async () => {
      ray.put(array);
      // Yield a turn of the event loop, as a program does between puts: the
      // dropped ref's finalizer can then free its bytes for the next put.
      // (A tight loop with no turn only writes fresh pages: see docs/BENCHMARKS.md.)
      await new Promise((r) => setTimeout(r, 0));
      return PUT_BYTES / 1e9;
    });
  }),
  raydMetric("single_client_put_gigabytes_using", "GB/s", (ctx) => {
    const array = new Float64Array(PUT_BYTES / Float64Array.BYTES_PER_ELEMENT);
    return ctx.measure(() => {
      // Disposed at the end of the block: its bytes are free for the next put at once.
      using _ref = ray.put(array);
      return PUT_BYTES / 1e9;
    });
  }),
  raydMetric("single_client_get_object_containing_10k_refs", "calls/s", async (ctx) => {
    const refs = [];
    for (let i = 0; i < NESTED_REFS; i++) refs.push(ray.put(i));
    const holder = ray.put(refs);
    return await ctx.measure(async () => {
      check("get of 10k refs", (await ray.get(holder)).length, NESTED_REFS);
      return 1;
    });
  }),
];
