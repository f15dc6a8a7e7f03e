/**
 * Object locations kept by owners, in an in-process cluster: an object's id
 * names its owner (the process whose thread made it); holders publish to
 * that owner and readers locate there, never at the head; a reader of an
 * object whose owner is gone fails at once with ObjectLostError naming it.
 */
import assert from "node:assert/strict";
import * as ray from "../../mod.ts";
import { ownerTagOf } from "../../runtime/common/mod.ts";
import { checksum, fnv, pattern, patternBytes } from "../fixtures/cluster_fns.ts";
import { boxedPattern, readBoxed } from "../fixtures/owner_fns.ts";
import { clusterTest } from "./in_process_cluster.ts";
import { TestCluster } from "../_cluster/test_cluster.ts";

const MIB = 1024 * 1024;

async function until(what: string, ok: () => boolean | Promise<boolean>, ms = 10_000) {
  const end = Date.now() + ms;
  while (!(await ok())) {
    if (Date.now() > end) throw new Error(`timed out waiting until ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

clusterTest("publish and locate go to the object's owner, not to the head", [
  { numWorkers: 1, resources: { A: 1 } },
  { numWorkers: 1, resources: { B: 1 } },
], async (c) => {
  const [a, b] = c.nodes;
  const head = c.head.owners;
  // Put inside a task on A: A's process owns it (its workers' ids carry A's tag).
  const box = await ray.get(boxedPattern.options({ resources: { A: 1 } }).remote(2 * MIB, 7));
  const tag = ownerTagOf(box.ref.id);
  assert.equal(tag, a.node.ids.ownerTag);
  assert.notEqual(tag, b.node.ids.ownerTag);
  assert.notEqual(tag, c.head.node.ids.ownerTag);
  const served = a.owners.locatesServed;
  const read = await ray.get(readBoxed.options({ resources: { B: 1 } }).remote(box));
  assert.deepEqual(read, { sum: fnv(patternBytes(2 * MIB, 7)), length: 2 * MIB, nodeId: b.nodeId });
  assert.ok(a.owners.locatesServed > served, "B asked A, the owner, where it is");
  assert.ok(b.owners.locatesSent >= 1);
  // B's pulled copy is told to A (so later readers may take it from B).
  await until("A heard of B's copy", () => a.owners.publishesTaken >= 1);

  // Put by the driver: the driver owns it; A asks the driver.
  const sentBefore = a.owners.locatesSent;
  const big = ray.put(patternBytes(3 * MIB, 8));
  assert.notEqual(ownerTagOf(big.id), a.node.ids.ownerTag);
  const sum = await ray.get(checksum.options({ resources: { A: 1 } }).remote(big));
  assert.equal(sum.sum, fnv(patternBytes(3 * MIB, 8)));
  assert.ok(a.owners.locatesSent > sentBefore, "A located the driver's object at the driver");

  assert.equal(head.locatesServed, 0, "the head answered no locate of others' objects");
  assert.equal(head.publishesTaken, 0, "no holder published to the head");
});

clusterTest("placement: the owner's directory sends a task to the node holding its argument", [
  { numWorkers: 2, resources: { A: 1 } },
  { numWorkers: 2, resources: { B: 1 } },
], async (c) => {
  for (const [i, at] of [[0, c.nodes[0]], [1, c.nodes[1]], [2, c.nodes[0]]] as const) {
    const made = pattern.options({ resources: { [i === 1 ? "B" : "A"]: 1 } }).remote(4 * MIB, i);
    await ray.wait([made], { fetchLocal: false });
    const sums = await ray.get([0, 1, 2].map(() => checksum.remote(made)));
    for (const s of sums) assert.equal(s.nodeId, at.nodeId, `run ${i}: where its 4 MiB are`);
  }
});

clusterTest("a reader of an object whose owner is gone fails at once, naming the owner", [
  { numWorkers: 1, resources: { A: 1 } },
  { numWorkers: 1, resources: { C: 1 } },
], async (c) => {
  const [a] = c.nodes;
  const box = await ray.get(boxedPattern.options({ resources: { A: 1 } }).remote(1 * MIB, 9));
  assert.equal(ownerTagOf(box.ref.id), a.node.ids.ownerTag);
  await a.stop();
  await until("A is seen dead", async () => {
    const nodes = await ray.nodes();
    return nodes.some((n) => n.nodeId === a.nodeId && !n.alive);
  });
  const started = performance.now();
  const read = await ray.get(readBoxed.options({ resources: { C: 1 } }).remote(box));
  const took = performance.now() - started;
  assert.equal((read as { error?: string }).error, "ObjectLostError", JSON.stringify(read));
  const message = (read as { message: string }).message;
  assert.match(message, new RegExp(`its owner ${a.nodeId} \\(${a.address}\\) is dead or gone`));
  assert.ok(took < 10_000, `failed at once, not at the pull deadline (${took.toFixed(0)} ms)`);
});

Deno.test({
  name:
    "real processes: the owner killed (SIGKILL), a reader of its object fails at once naming it",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    await using cluster = await TestCluster.start({
      head: { numWorkers: 1 },
      nodes: [{ numWorkers: 1, resources: { A: 1 } }, { numWorkers: 1, resources: { C: 1 } }],
    });
    await ray.init({ address: cluster.address, token: cluster.token });
    try {
      const [a] = cluster.nodes;
      const box = await ray.get(boxedPattern.options({ resources: { A: 1 } }).remote(MIB, 11));
      await cluster.kill(0);
      await until("A is seen dead", async () => {
        const nodes = await ray.nodes();
        return nodes.some((n) => n.nodeId === a.nodeId && !n.alive);
      }, 30_000);
      const started = performance.now();
      const read = await ray.get(readBoxed.options({ resources: { C: 1 } }).remote(box));
      const took = performance.now() - started;
      assert.equal((read as { error?: string }).error, "ObjectLostError", JSON.stringify(read));
      assert.match((read as { message: string }).message, new RegExp(`its owner ${a.nodeId} `));
      assert.ok(took < 10_000, `failed at once, not at the pull deadline (${took.toFixed(0)} ms)`);
    } finally {
      await ray.shutdown();
    }
  },
});
