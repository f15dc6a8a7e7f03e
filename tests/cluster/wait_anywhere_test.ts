/**
 * `wait(refs, { fetchLocal: false })` on a cluster: ready once the object
 * exists on any node, without pulling it to the waiter (a driver here);
 * the default wait pulls it. WaitsAnywhere (the agent's part) alone: objects
 * it will hear of, objects only the head can locate, the deadline.
 */
import assert from "node:assert/strict";
import * as ray from "../../mod.ts";
import { type ObjectId, objectLost } from "../../runtime/common/mod.ts";
import { currentBackend } from "../../runtime/core/mod.ts";
import type { Node } from "../../runtime/node/mod.ts";
import { WaitsAnywhere } from "../../runtime/cluster/waits_anywhere.ts";
import { pattern, whereAfter } from "../fixtures/cluster_fns.ts";
import { startInProcessCluster, TEST_TOKEN } from "./in_process_cluster.ts";

Deno.test({
  name: "wait with fetchLocal false sees a result on another node ready without pulling it",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    const c = await startInProcessCluster({ numWorkers: 1 }, [{ numWorkers: 1 }]);
    try {
      await ray.init({ address: c.address, token: TEST_TOKEN });
      const there = { schedulingStrategy: { nodeId: c.nodes[0].nodeId, soft: false } };
      const driver = currentBackend() as Node;
      const big = pattern.options(there).remote(1 << 20, 7); // stays on its node
      const before = driver.objectCounts().stored;
      const [ready] = await ray.wait([big], { fetchLocal: false, timeoutMs: 30_000 });
      assert.equal(ready.length, 1, "ready while on its node");
      await new Promise((r) => setTimeout(r, 200));
      assert.equal(driver.objectCounts().stored, before, "not pulled to the driver");
      const [pulled] = await ray.wait([big], { timeoutMs: 30_000 });
      assert.equal(pulled.length, 1);
      assert.equal(driver.objectCounts().stored, before + 1, "the default wait pulls it");
      // Not ready before its task ends; then ready.
      const slow = whereAfter.options(there).remote(800);
      const [early] = await ray.wait([slow], { fetchLocal: false, timeoutMs: 50 });
      assert.equal(early.length, 0);
      const [late] = await ray.wait([slow], { fetchLocal: false, timeoutMs: 30_000 });
      assert.equal(late.length, 1);
    } finally {
      await ray.shutdown();
      await c.stop();
    }
  },
});

Deno.test("WaitsAnywhere: told, located, and timed out", async () => {
  const known = new Set<string>();
  const located = Promise.withResolvers<void>();
  const waits = new WaitsAnywhere({
    exists: (id) => known.has(id) ? true : id.startsWith("told") ? false : undefined,
    locate: () => located.promise,
  });
  const [a, b, c] = ["told-a", "told-b", "other"] as ObjectId[];
  known.add(a);
  const now = waits.wait([a], 1, undefined);
  assert.equal(now.immediate, true);
  assert.deepEqual((await now.promise).ready, [true]);
  const two = waits.wait([a, b, c], 3, undefined);
  assert.equal(two.immediate, false);
  waits.changed(b); // not there yet: nothing
  known.add(b);
  waits.changed(b);
  located.resolve(); // the head found `c`
  assert.deepEqual((await two.promise).ready, [true, true, true]);
  const late = waits.wait(["told-z" as ObjectId], 1, 30);
  assert.deepEqual((await late.promise).ready, [false], "the deadline answers what is ready");
});

Deno.test("WaitsAnywhere: an object whose owner is gone is ready (its get fails); other failures are not", async () => {
  const [lost, flaky] = ["lost", "flaky"] as ObjectId[];
  const waits = new WaitsAnywhere({
    exists: () => undefined,
    locate: (id) =>
      Promise.reject(
        id === lost
          ? objectLost(id, "its owner n1 (h:1) is dead or gone")
          : new Error("link reset"),
      ),
  });
  const w = waits.wait([lost, flaky], 1, 200);
  assert.deepEqual((await w.promise).ready, [true, false]);
});
