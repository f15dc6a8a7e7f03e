/**
 * Actors created inside tasks running on nodes are placed by the head like
 * a driver's: on a node that has their resources (not only the task's
 * node), findable by name from the driver and from tasks on other nodes.
 */
import assert from "node:assert/strict";
import * as ray from "../../mod.ts";
import {
  actorFromTask,
  callNamed,
  cutShortGets,
  SleeperActor,
  waitOnActor,
  type Where,
} from "../fixtures/cluster_task_actors.ts";
import { startInProcessCluster, TEST_TOKEN } from "./in_process_cluster.ts";

Deno.test({
  name: "a task's actor that needs a resource only another node has lives there, found by name",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    const c = await startInProcessCluster({ numWorkers: 1 }, [
      { numWorkers: 1 },
      { numWorkers: 1, resources: { TPU: 1, GPU: 1 } },
    ]);
    try {
      await ray.init({ address: c.address, token: TEST_TOKEN });
      const [plain, tpu] = c.nodes.map((n) => n.nodeId);
      const onPlain = { schedulingStrategy: { nodeId: plain, soft: false } };
      const [taskNode, actorNode] = await ray.get(
        actorFromTask.options(onPlain).remote({ TPU: 1 }, "tpu-actor"),
      );
      assert.equal(taskNode, plain, "the task ran where it was sent");
      assert.equal(actorNode, tpu, "its actor lives on the node with the TPU");
      // Its name is the cluster's: the driver and a task on another node find it.
      const found = await ray.getActor<Where>("tpu-actor");
      assert.equal(await ray.get(found.node.remote()), tpu);
      const onHead = { schedulingStrategy: { nodeId: c.head.nodeId, soft: false } };
      const [caller, callee] = await ray.get(callNamed.options(onHead).remote("tpu-actor"));
      assert.deepEqual([caller, callee], [c.head.nodeId, tpu]);
      assert.equal(await ray.get(found.count.remote()), 3);
      // Placed by the head on the task's own node: a local actor there.
      const onTpu = { schedulingStrategy: { nodeId: tpu, soft: false } };
      assert.deepEqual(await ray.get(actorFromTask.options(onTpu).remote({ GPU: 1 })), [tpu, tpu]);
    } finally {
      await ray.shutdown();
      await c.stop();
    }
  },
});

Deno.test({
  name:
    "a task's wait or get on a call to an actor of another node: ready once finished, by its deadline and signal",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    const c = await startInProcessCluster({ numWorkers: 1 }, [
      { numWorkers: 1 },
      { numWorkers: 1, resources: { TPU: 1 } },
    ]);
    try {
      await ray.init({ address: c.address, token: TEST_TOKEN });
      const [plain] = c.nodes.map((n) => n.nodeId);
      const sleeper = SleeperActor.options({ resources: { TPU: 1 } }).remote();
      const onPlain = { schedulingStrategy: { nodeId: plain, soft: false } };
      assert.deepEqual(
        await ray.get(waitOnActor.options(onPlain).remote(sleeper, 1000)),
        [0, 1, "woke"],
      );
      // A get of such a call keeps its signal and its deadline.
      assert.deepEqual(
        await ray.get(cutShortGets.options(onPlain).remote(sleeper, 2000)),
        ["enough", "GetTimeoutError"],
      );
    } finally {
      await ray.shutdown();
      await c.stop();
    }
  },
});
