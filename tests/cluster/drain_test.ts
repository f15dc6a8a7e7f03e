/**
 * `rayd start` nodes (real processes, tests/_cluster) drain on SIGTERM: the
 * head places no new work there, the task running there finishes and its
 * result reaches the driver, then the process exits 0.
 */
import assert from "node:assert/strict";
import * as ray from "../../mod.ts";
import { fnv, KeeperActor, pattern, patternBytes, whereAfter } from "../fixtures/cluster_fns.ts";
import { markThenSleep } from "../fixtures/cluster_drain.ts";
import { TestCluster } from "../_cluster/test_cluster.ts";

Deno.test("a node sent SIGTERM takes no new work, lets its running task finish, then exits 0", async () => {
  await using cluster = await TestCluster.start({
    head: { numWorkers: 1 },
    nodes: [{ numWorkers: 1, resources: { GPU: 1 } }],
  });
  await ray.init({ address: cluster.address, token: cluster.token });
  try {
    const gpu = cluster.nodes[0];
    // No retries: were the node to stop under it, the task would fail.
    const marker = await Deno.makeTempFile({ prefix: "rayd_drain_" });
    await Deno.remove(marker);
    const running = markThenSleep.options({ resources: { GPU: 1 }, maxRetries: 0 })
      .remote(marker, 2500);
    await waitFor(() => Deno.stat(marker).then(() => true, () => false), 60_000); // it runs
    const exited = cluster.terminate(0);
    await waitFor(() => /takes no new work/.test(gpu.output()), 10_000);
    // Only the draining node has a GPU: once the head heard it drains (a moment after it said so),
    // a new task needing one cannot be placed.
    await waitFor(async () => {
      const next = whereAfter.options({ resources: { GPU: 1 }, maxRetries: 0 }).remote(0);
      const err = await ray.get(next).then(() => undefined, (e: Error) => e);
      if (err) assert.match(err.message, /cannot be placed/);
      return err !== undefined;
    }, 2000);
    assert.equal(await ray.get(running), gpu.nodeId, "the running task finished there");
    const status = await exited;
    assert.equal(status.code, 0, gpu.output());
    assert.match(gpu.output(), /SIGTERM: stopping node/);
    assert.doesNotMatch(gpu.output(), /node node/, "its role said once");
    // Tasks that need nothing special still run on the head.
    assert.equal(await ray.get(whereAfter.remote(0)), cluster.head.nodeId);
    await Deno.remove(marker);
  } finally {
    await ray.shutdown();
  }
});

Deno.test("a draining node's objects that others need are taken by them before it exits", async () => {
  await using cluster = await TestCluster.start({
    head: { numWorkers: 1 },
    nodes: [{ numWorkers: 1, resources: { GPU: 1 } }, { numWorkers: 1, resources: { B: 1 } }],
  });
  await ray.init({ address: cluster.address, token: cluster.token });
  try {
    const n = 8 * 1024 * 1024 + 5; // big: it stays on the node that made it
    const want = fnv(patternBytes(n, 3));
    // No retries: after the node is gone the object could not be made again.
    const made = pattern.options({ resources: { GPU: 1 }, maxRetries: 0 }).remote(n, 3);
    // One held by the driver (the owner), one inside a value a task on B keeps.
    const inner = pattern.options({ resources: { GPU: 1 }, maxRetries: 0 }).remote(n, 4);
    const keeper = KeeperActor.options({ resources: { B: 1 } }).remote();
    assert.equal(await ray.get(keeper.keepRef.remote({ ref: inner })), true);
    await ray.wait([made], { fetchLocal: false });
    const status = await cluster.terminate(0);
    assert.equal(status.code, 0, cluster.nodes[0].output());
    assert.doesNotMatch(cluster.nodes[0].output(), /objects not yet taken/);
    const got = await ray.get(made, { timeoutMs: 10_000 });
    assert.equal(fnv(got), want, "the driver's copy, taken while the node drained");
    assert.equal(await ray.get(keeper.sumKept.remote()), fnv(patternBytes(n, 4)), "B's copy");
  } finally {
    await ray.shutdown();
  }
});

async function waitFor(ok: () => boolean | Promise<boolean>, ms: number): Promise<void> {
  const until = Date.now() + ms;
  while (!(await ok())) {
    if (Date.now() > until) throw new Error(`not within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
