/**
 * The peer metrics: Piscina, the Node.js worker-pool library, under Deno
 * with the same worker count and the same no-op task as rayd. Private to
 * scripts/bench/.
 *
 * @module
 */
import { Piscina } from "./_piscina.ts";
import type { Measurement } from "./_measure.ts";
import type { BenchContext, Metric } from "./_metric.ts";

/** Calls timed back to back in one batch of the sync metric. */
const SYNC_BATCH = 100;
/** Tasks in flight per batch of the async metric, as for rayd. */
const IN_FLIGHT = 1000;

/** A Piscina metric: a pool of `numWorkers` threads for the time of the metric. */
function piscinaMetric(
  name: string,
  body: (ctx: BenchContext, pool: Piscina) => Promise<Measurement>,
): Metric {
  return {
    name,
    unit: "tasks/s",
    kind: "peer",
    async run(ctx) {
      const pool = new Piscina({
        filename: new URL("./_piscina_worker.ts", import.meta.url).href,
        minThreads: ctx.numWorkers,
        maxThreads: ctx.numWorkers,
      });
      try {
        return await body(ctx, pool);
      } finally {
        await pool.destroy();
      }
    },
  };
}

/** The peer metrics, in the order of docs/BENCHMARKS.md. */
export const PEER_METRICS: readonly Metric[] = [
  piscinaMetric("peer_piscina_tasks_async", (ctx, pool) =>
    ctx.measure(async () => {
      const runs = new Array<Promise<number>>(IN_FLIGHT);
      for (let i = 0; i < IN_FLIGHT; i++) runs[i] = pool.run(null);
      await Promise.all(runs);
      return IN_FLIGHT;
    })),
  piscinaMetric("peer_piscina_tasks_sync", (ctx, pool) =>
    ctx.measure(async () => {
      for (let i = 0; i < SYNC_BATCH; i++) await pool.run(null);
      return SYNC_BATCH;
    })),
];
