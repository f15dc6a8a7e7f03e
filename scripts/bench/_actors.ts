/**
 * The actor metrics of the suite. The actor module is imported only when an
 * actor metric runs, so that the rest of the suite works before rayd has
 * actors. Private to scripts/bench/.
 *
 * @module
 */
import * as ray from "../../mod.ts";
import type { Measurement } from "./_measure.ts";
import type { BenchContext, Metric } from "./_metric.ts";
import { check } from "./_tasks.ts";

/** Calls in flight per batch, as in Ray's benchmark. */
const CALLS = 1000;
/** Calls timed back to back in one batch of 1_1_actor_calls_sync. */
const SYNC_BATCH = 100;
/** Why the actor metrics report no number until rayd has actors. */
const NOT_IMPLEMENTED = "actors not implemented yet";

/** An actor metric: starts the runtime and loads the actor module first. */
function actorMetric(
  name: string,
  body: (ctx: BenchContext, actors: typeof import("./_actor_classes.ts")) => Promise<Measurement>,
): Metric {
  return {
    name,
    unit: "calls/s",
    kind: "rayd",
    notImplemented: NOT_IMPLEMENTED,
    async run(ctx) {
      await ctx.useRay();
      return await body(ctx, await import("./_actor_classes.ts"));
    },
  };
}

/** The actor metrics, in the order of docs/BENCHMARKS.md. */
export const ACTOR_METRICS: readonly Metric[] = [
  actorMetric("1_1_actor_calls_sync", (ctx, { BenchActor }) => {
    const actor = BenchActor.remote();
    return ctx.measure(async () => {
      for (let i = 0; i < SYNC_BATCH; i++) await ray.get(actor.noop.remote());
      return SYNC_BATCH;
    });
  }),
  actorMetric("1_1_actor_calls_async", (ctx, { BenchActor }) => {
    const actor = BenchActor.remote();
    return ctx.measure(async () => {
      const refs = [];
      for (let i = 0; i < CALLS; i++) refs.push(actor.noop.remote());
      await ray.get(refs);
      return CALLS;
    });
  }),
  actorMetric("n_n_actor_calls_async", (ctx, { BenchActor, actorCaller }) => {
    const n = ctx.numWorkers;
    const actors = Array.from({ length: n }, () => BenchActor.remote());
    return ctx.measure(async () => {
      const refs = [];
      for (let c = 0; c < n; c++) refs.push(actorCaller.remote(actors, CALLS));
      const done = await ray.get(refs);
      check("n_n_actor_calls_async", done.reduce((a, b) => a + b, 0), n * CALLS);
      return n * CALLS;
    });
  }),
];
