/**
 * The control store's Redis restarts (with persistence) in the middle of a
 * job on a cluster of real processes: the job goes on (each process keeps
 * its records queued while Redis is away), every result is exact, and once
 * Redis is back every task's record arrives, exactly once.
 */
import assert from "node:assert/strict";
import * as ray from "../../mod.ts";
import { connectRedis } from "../../runtime/gcs/mod.ts";
import { TestCluster } from "../_cluster/test_cluster.ts";
import { REDIS_SERVER, startRedis } from "../gcs/redis_server.ts";

if (!REDIS_SERVER) {
  console.warn("SKIPPED: redis-server not on PATH: the cluster's Redis restart test skipped");
}

const TASKS = 3000;

/** `i * 3`, after a short pause. */
export const triple = ray.remote(async function triple(i: number) {
  await new Promise((r) => setTimeout(r, 2));
  return i * 3;
});

Deno.test({
  name: "a cluster's Redis restarts mid-job: every result exact, every task recorded once",
  ignore: !REDIS_SERVER,
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    const redis = await startRedis({ args: ["--appendonly", "yes", "--appendfsync", "always"] });
    try {
      await using cluster = await TestCluster.start({
        head: { numWorkers: 1, numCpus: 0, redisAddress: redis.url },
        nodes: [{ numWorkers: 2 }, { numWorkers: 2 }],
      });
      await ray.init({ address: cluster.address, token: cluster.token });
      try {
        const refs: ray.ObjectRef<number>[] = [];
        const submit = async (n: number) => {
          for (let i = 0; i < n; i++) refs.push(triple.remote(refs.length));
          await new Promise((r) => setTimeout(r, 100));
        };
        await submit(TASKS / 3);
        await redis.stop();
        await submit(TASKS / 3); // submitted, run and finished while Redis is away
        await new Promise((r) => setTimeout(r, 1000));
        await redis.start();
        await submit(TASKS / 3);
        const values = await ray.get(refs, { timeoutMs: 120_000 });
        assert.deepEqual(values, Array.from({ length: TASKS }, (_, i) => i * 3));
      } finally {
        await ray.shutdown();
      }
      // Each process writes its records when Redis is back: poll until they are all there.
      const store = await connectRedis(redis.url);
      try {
        let finished = 0;
        for (let i = 0; i < 150 && finished < TASKS; i++) {
          const summary = await store.summary();
          finished = summary.tasks.byFunction.triple?.finished ?? 0;
          if (finished < TASKS) await new Promise((r) => setTimeout(r, 200));
        }
        assert.equal(finished, TASKS, "every task's record, once");
      } finally {
        await store.close();
      }
    } finally {
      await redis.stop();
    }
  },
});
