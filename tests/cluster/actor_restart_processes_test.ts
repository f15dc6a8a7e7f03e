/**
 * Ray's scenario with real `rayd start` processes (tests/_cluster): an actor
 * pinned softly to a node that is killed with SIGKILL restarts on another
 * node, and the driver's handle goes on working; the control store (the
 * head's Redis) records the restart.
 */
import assert from "node:assert/strict";
import * as ray from "../../mod.ts";
import { RoamerActor } from "../fixtures/cluster_restarts.ts";
import { TestCluster } from "../_cluster/test_cluster.ts";

const CLI = new URL("../../cli/main.ts", import.meta.url);

/** `rayd list actors --address` as JSON. */
async function listActors(
  address: string,
  token: string,
): Promise<{ actorId: string; state: string; restarts: number; nodeId?: string }[]> {
  const { code, stdout, stderr } = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", CLI.href, "list", "actors", "--address", address, "--format", "json"],
    env: { RAYD_TOKEN: token },
    stdout: "piped",
    stderr: "piped",
  }).output();
  assert.equal(code, 0, new TextDecoder().decode(stderr));
  return JSON.parse(new TextDecoder().decode(stdout));
}

Deno.test({
  name:
    "an actor pinned softly to a node killed with SIGKILL restarts elsewhere; the handle still works",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    await using cluster = await TestCluster.start({
      head: { numWorkers: 1, healthCheckPeriodMs: 100, healthCheckFailureThreshold: 3 },
      nodes: [{ numWorkers: 1, resources: { A: 1 } }, { numWorkers: 1, resources: { A: 1 } }],
    });
    await ray.init({ address: cluster.address, token: cluster.token });
    try {
      const pinned = cluster.nodes[0].nodeId;
      const roamer = RoamerActor.options({
        resources: { A: 1 },
        maxRestarts: 1,
        maxTaskRetries: 1, // a call sent before the driver hears of the death is sent again
        schedulingStrategy: { nodeId: pinned, soft: true },
      }).remote();
      assert.deepEqual(await ray.get([roamer.incr.remote(), roamer.incr.remote()]), [1, 2]);
      const before = await ray.get(roamer.where.remote());
      assert.equal(before.nodeId, pinned);
      await cluster.kill(0);
      const after = await ray.get(roamer.where.remote(), { timeoutMs: 30_000 });
      assert.equal(after.nodeId, cluster.nodes[1].nodeId);
      assert.equal(after.n, 0, "its constructor ran again on the new node");
      assert.equal(await ray.get(roamer.incr.remote()), 1);
      const until = Date.now() + 20_000;
      for (;;) {
        const rec = (await listActors(cluster.address, cluster.token))
          .find((a) => a.actorId === before.actorId);
        if (rec?.state === "alive" && rec.restarts === 1 && rec.nodeId === after.nodeId) break;
        assert.ok(Date.now() < until, `the store records the restart: ${JSON.stringify(rec)}`);
        await new Promise((r) => setTimeout(r, 200));
      }
    } finally {
      await ray.shutdown();
    }
  },
});
