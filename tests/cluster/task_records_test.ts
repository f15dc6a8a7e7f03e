/**
 * The control store's record of tasks a driver sends into the cluster: one
 * record per task, written by the node that runs it, and by the driver when
 * no node ever takes it.
 */
import assert from "node:assert/strict";
import * as ray from "../../mod.ts";
import { square } from "../fixtures/remote_fns.ts";
import { REDIS_SERVER, startRedis, waitFor } from "../gcs/redis_server.ts";
import { connectRedis } from "../../runtime/gcs/mod.ts";
import { taskIdOf } from "../../runtime/common/mod.ts";
import { startInProcessCluster, TEST_TOKEN } from "./in_process_cluster.ts";

if (!REDIS_SERVER) console.warn("SKIPPED: redis-server not on PATH: cluster task records skipped");

Deno.test({
  name: "a task run on another node is recorded there; one no node can take, by its driver",
  ignore: !REDIS_SERVER,
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    const redis = await startRedis();
    const cluster = await startInProcessCluster({ numCpus: 0, redisAddress: redis.url }, [{}]);
    const node = cluster.nodes[0];
    const store = await connectRedis(redis.url);
    try {
      await ray.init({ address: cluster.address, token: TEST_TOKEN });
      const refs = Array.from({ length: 50 }, (_, i) => square.remote(i));
      assert.deepEqual(await ray.get(refs), Array.from({ length: 50 }, (_, i) => i * i));
      const never = square.options({ resources: { gpu: 1 } }).remote(3);
      await assert.rejects(ray.get(never), /gpu/);
      await ray.shutdown();
      const ids = refs.map((r) => taskIdOf(r.id));
      const finished = async () => (await Promise.all(ids.map((id) => store.getTask(id))));
      await waitFor(async () => (await finished()).every((t) => t?.state === "finished"), 10_000);
      for (const t of await finished()) {
        assert.equal(t!.name, "square");
        assert.equal(t!.nodeId, node.nodeId, "recorded by the node that ran it");
        assert.deepEqual(t!.history.map((h) => h.state), ["submitted", "running", "finished"]);
      }
      const failed = await store.getTask(taskIdOf(never.id));
      assert.equal(failed?.state, "failed", JSON.stringify(failed));
      assert.equal(failed.name, "square", "the driver recorded the task it could not place");
      assert.match(failed.error ?? "", /gpu/);
    } finally {
      await store.close();
      await cluster.stop();
      await redis.stop();
    }
  },
});
