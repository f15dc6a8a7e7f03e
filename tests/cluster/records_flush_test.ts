/**
 * `ray.graph` and `ray.timeline` in cluster mode ask every node to write its
 * queued control-store records first: a node that batches them for long
 * (here a flush interval of a minute) still shows the task a driver just got.
 */
import assert from "node:assert/strict";
import * as ray from "../../mod.ts";
import { add } from "../fixtures/observability_fns.ts";
import { TestCluster } from "../_cluster/test_cluster.ts";

const boxes = (dot: string) => dot.match(/^ {2}"t:[^"]*" \[shape=box/gm)?.length ?? 0;

Deno.test({
  name: "graph and timeline right after a get show the task a node has not written on its own yet",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    await using cluster = await TestCluster.start({
      head: { numWorkers: 1, numCpus: 0 },
      nodes: [{ numWorkers: 1, env: { RAYD_GCS_FLUSH_INTERVAL_MS: "60000" } }],
    });
    await ray.init({ address: cluster.address, token: cluster.token });
    try {
      const c = add.remote(1, 2);
      assert.equal(await ray.get(c), 3);
      const dot = await ray.graph({ refs: [c] });
      assert.equal(boxes(dot), 1, `the task's box:\n${dot}`);
      const d = add.remote(2, 3);
      assert.equal(await ray.get(d), 5);
      const slices = (await ray.timeline()).filter((e) => e.ph === "X");
      assert.equal(slices.length, 2, "a slice for each task run");
    } finally {
      await ray.shutdown();
    }
  },
});
