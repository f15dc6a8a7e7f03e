/**
 * A cluster of real `rayd start --block` processes (tests/_cluster) with a
 * driver joining it by address: the nodes it lists, placement by the
 * resources given on `rayd start`, and a killed node declared dead by the
 * head's health checks set on its command line.
 */
import assert from "node:assert/strict";
import * as ray from "../../mod.ts";
import { whereAmI } from "../fixtures/cluster_fns.ts";
import { TestCluster } from "../_cluster/test_cluster.ts";
Deno.test("a driver joins a TestCluster: every node is listed, resources place tasks, a killed node is declared dead", async () => {
  await using cluster = await TestCluster.start({
    head: { numWorkers: 1, healthCheckPeriodMs: 100, healthCheckFailureThreshold: 3 },
    nodes: [{ numWorkers: 1, resources: { GPU: 1 } }, { numWorkers: 1, resources: { TPU: 1 } }],
  });
  await ray.init({ address: cluster.address, token: cluster.token });
  try {
    const listed = await ray.nodes();
    for (const node of cluster.all) {
      const info = listed.find((n) => n.nodeId === node.nodeId);
      assert.ok(info?.alive, `${node.role} ${node.nodeId} is listed alive`);
      assert.equal(info.address, node.address);
    }
    assert.equal(
      await ray.get(whereAmI.options({ resources: { GPU: 1 } }).remote()),
      cluster.nodes[0].nodeId,
    );
    assert.equal(
      await ray.get(whereAmI.options({ resources: { TPU: 1 } }).remote()),
      cluster.nodes[1].nodeId,
    );
    await cluster.kill(1);
    const until = Date.now() + 30_000;
    for (;;) {
      const dead = (await ray.nodes()).find((n) => n.nodeId === cluster.nodes[1].nodeId);
      if (dead && !dead.alive) break;
      assert.ok(Date.now() < until, "the head declares the killed node dead");
      await new Promise((r) => setTimeout(r, 100));
    }
  } finally {
    await ray.shutdown();
  }
});
