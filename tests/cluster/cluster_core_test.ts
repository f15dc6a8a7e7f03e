/**
 * Cluster mode end to end inside one process: a head and nodes on loopback
 * (in-process, see in_process_cluster.ts), a driver joining with
 * `init({ address, token })`. Placement by resources, strategies and
 * affinity; objects moving between nodes in both directions; nested tasks;
 * refs inside values; a dead node's tasks retried elsewhere.
 */
import assert from "node:assert/strict";
import * as ray from "../../mod.ts";
import {
  bumpFromTask,
  checksum,
  failsHere,
  fnv,
  holderOf,
  LocatorActor,
  nestedSquares,
  pattern,
  patternBytes,
  readHolder,
  whereAfter,
  whereAmI,
} from "../fixtures/cluster_fns.ts";
import { square } from "../fixtures/remote_fns.ts";
import { CounterActor } from "../fixtures/actor_classes.ts";
import { clusterTest, startInProcessCluster, TEST_TOKEN } from "./in_process_cluster.ts";

clusterTest("nodes(), clusterResources() and availableResources() show every node", [
  { numWorkers: 2, resources: { GPU: 1 } },
  { numWorkers: 1 },
], async (c) => {
  const info = await ray.init({ address: c.address, token: TEST_TOKEN, ignoreReinitError: true });
  assert.equal(info.address, c.address, "init answers the cluster's address");
  const nodes = await ray.nodes();
  assert.equal(nodes.length, 3);
  const ids = new Set(nodes.map((n) => n.nodeId));
  for (const p of [c.head, ...c.nodes]) assert.ok(ids.has(p.nodeId), `${p.nodeId} listed`);
  assert.ok(nodes.every((n) => n.alive));
  const gpuNode = nodes.find((n) => n.nodeId === c.nodes[0].nodeId)!;
  assert.equal(gpuNode.address, c.nodes[0].address);
  assert.deepEqual(gpuNode.resources, { CPU: 2, GPU: 1 });
  assert.equal(gpuNode.numWorkers, 2);
  assert.deepEqual(await ray.clusterResources(), { CPU: 4, GPU: 1 });
  const free = await ray.availableResources();
  assert.equal(free.GPU, 1);
});

clusterTest("tasks from the driver run on the nodes with exact results", [
  { numWorkers: 1 },
  { numWorkers: 1 },
], async (c) => {
  const refs = Array.from({ length: 2000 }, (_, i) => square.remote(i));
  const got = await ray.get(refs);
  assert.deepEqual(got, Array.from({ length: 2000 }, (_, i) => i * i));
  // Once the head's view is fresh (every CPU free again), 30 overlapping tasks spread.
  for (let i = 0; i < 100 && (await ray.availableResources()).CPU !== 3; i++) {
    await new Promise((r) => setTimeout(r, 50));
  }
  const where = new Set(await ray.get(Array.from({ length: 30 }, () => whereAfter.remote(50))));
  const driverNode = ray.getRuntimeContext().nodeId;
  assert.ok(!where.has(driverNode), "the driver runs no task");
  assert.ok(
    where.size >= 2,
    `tasks spread over nodes: ${[...where]} of ${[c.head, ...c.nodes].map((p) => p.nodeId)}`,
  );
  for (const n of where) {
    assert.ok([c.head, ...c.nodes].some((p) => p.nodeId === n), `${n} is a cluster node`);
  }
});

clusterTest("SPREAD uses every node; affinity pins; soft affinity falls back", [
  { numWorkers: 1 },
  { numWorkers: 1 },
], async (c) => {
  const spread = whereAmI.options({ schedulingStrategy: "SPREAD" });
  const seen = new Set(await ray.get(Array.from({ length: 9 }, () => spread.remote())));
  assert.equal(seen.size, 3, `SPREAD over 3 nodes, saw ${[...seen]}`);
  const target = c.nodes[1].nodeId;
  const pinned = whereAmI.options({ schedulingStrategy: { nodeId: target } });
  const at = await ray.get(Array.from({ length: 6 }, () => pinned.remote()));
  assert.ok(at.every((n) => n === target), `all on ${target}: ${at}`);
  const unknown = "0".repeat(28);
  await assert.rejects(
    ray.get(whereAmI.options({ schedulingStrategy: { nodeId: unknown } }).remote()),
    (err: Error) => err instanceof ray.RayError && err.message.includes(unknown),
  );
  const soft = whereAmI.options({ schedulingStrategy: { nodeId: unknown, soft: true } });
  assert.ok(typeof await ray.get(soft.remote()) === "string");
});

clusterTest("custom resources place tasks; an impossible demand fails at once naming it", [
  { numWorkers: 1, resources: { GPU: 2 } },
], async (c) => {
  const onGpu = whereAmI.options({ resources: { GPU: 1 } });
  const at = new Set(await ray.get(Array.from({ length: 4 }, () => onGpu.remote())));
  assert.deepEqual([...at], [c.nodes[0].nodeId]);
  const t0 = performance.now();
  await assert.rejects(
    ray.get(whereAmI.options({ resources: { TPU: 1 } }).remote()),
    (err: Error) => err instanceof ray.RayError && /TPU/.test(err.message),
  );
  assert.ok(performance.now() - t0 < 5000, "infeasible fails at once");
  await assert.rejects(
    ray.get(whereAmI.options({ resources: { GPU: 3 } }).remote()),
    (err: Error) => /GPU/.test(err.message) && /2/.test(err.message),
  );
});

clusterTest("a 40 MiB object made on one node is read on another and by the driver", [
  { numWorkers: 1, resources: { A: 1 } },
  { numWorkers: 1, resources: { B: 1 } },
], async (c) => {
  const n = 40 * 1024 * 1024 + 7; // bigger than two fetch chunks, not a multiple of one
  const made = pattern.options({ resources: { A: 1 } }).remote(n, 42);
  const sum = await ray.get(checksum.options({ resources: { B: 1 } }).remote(made));
  const want = fnv(patternBytes(n, 42));
  assert.deepEqual(sum, { sum: want, length: n, nodeId: c.nodes[1].nodeId });
  const local = await ray.get(made);
  assert.equal(local.length, n);
  assert.equal(fnv(local), want);
});

clusterTest("the driver's put is read by tasks on the nodes", [
  { numWorkers: 1, resources: { A: 1 } },
], async () => {
  const bytes = patternBytes(3 * 1024 * 1024, 7);
  const ref = ray.put(bytes);
  const small = ray.put(patternBytes(100, 9));
  const [big, little] = await ray.get([
    checksum.options({ resources: { A: 1 } }).remote(ref),
    checksum.options({ resources: { A: 1 } }).remote(small),
  ]);
  assert.equal(big.sum, fnv(bytes));
  assert.equal(little.sum, fnv(patternBytes(100, 9)));
});

clusterTest("tasks submit tasks on their node; refs inside values cross nodes", [
  { numWorkers: 2, resources: { A: 1 } },
  { numWorkers: 1, resources: { B: 1 } },
], async () => {
  assert.equal(await ray.get(nestedSquares.remote(50)), 40425);
  const holder = holderOf.options({ resources: { A: 1 } }).remote({ deep: [1, 2, 3] });
  assert.deepEqual(
    await ray.get(readHolder.options({ resources: { B: 1 } }).remote(holder)),
    { deep: [1, 2, 3] },
  );
  const { ref } = await ray.get(holder) as { ref: ray.ObjectRef };
  assert.deepEqual(await ray.get(ref), { deep: [1, 2, 3] });
});

clusterTest("errors thrown on a node reach the driver as RayTaskError", [
  { numWorkers: 1 },
], async () => {
  await assert.rejects(
    ray.get(failsHere.remote("made to fail")),
    (err: Error) => err instanceof ray.RayTaskError && err.message.includes("made to fail"),
  );
});

clusterTest("tasks on a node that stops are retried on another", [
  { numWorkers: 1, resources: { X: 1 } },
  { numWorkers: 1, resources: { X: 1 } },
], async (c) => {
  const slow = whereAfter.options({ resources: { X: 1 }, maxRetries: 3 });
  const refs = Array.from({ length: 4 }, () => slow.remote(1500));
  await new Promise((r) => setTimeout(r, 500));
  const victim = c.nodes[0];
  await victim.stop();
  const at = await ray.get(refs);
  assert.ok(at.every((n) => n === c.nodes[1].nodeId), `all finished on the survivor: ${at}`);
  const nodes = await ray.nodes();
  assert.equal(nodes.find((n) => n.nodeId === victim.nodeId)?.alive, false);
});

clusterTest("a driver's actors live on nodes: calls in order, names, kill", [
  { numWorkers: 2, numCpus: 4, resources: { A: 2 } },
], async (c) => {
  const counter = CounterActor.options({ resources: { A: 1 } }).remote(10);
  const got = await ray.get(Array.from({ length: 100 }, () => counter.incr.remote()));
  assert.deepEqual(got, Array.from({ length: 100 }, (_, i) => 11 + i));
  const locator = LocatorActor.options({ resources: { A: 1 } }).remote();
  assert.equal(await ray.get(locator.nodeId.remote()), c.nodes[0].nodeId);
  const named = CounterActor.options({ name: "shared-counter" }).remote(0);
  await ray.get(named.incr.remote(5));
  const found = await ray.getActor("shared-counter");
  assert.equal(await ray.get(found.incr.remote(1)), 6);
  await ray.kill(counter);
  await assert.rejects(
    ray.get(counter.incr.remote()),
    (err: Error) => err instanceof ray.RayActorError,
  );
});

clusterTest("calls to an actor whose node stops fail with RayActorError", [
  { numWorkers: 1, resources: { A: 1 } },
], async (c) => {
  const counter = CounterActor.options({ resources: { A: 1 } }).remote(0);
  assert.equal(await ray.get(counter.incr.remote()), 1);
  const slow = counter.slowIncr.remote(1, 3000);
  await new Promise((r) => setTimeout(r, 300));
  await c.nodes[0].stop();
  await assert.rejects(ray.get(slow), (err: Error) => err instanceof ray.RayActorError);
});

Deno.test({
  name: "a driver with a wrong token is refused at once, saying so",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    const c = await startInProcessCluster({ numWorkers: 1 }, []);
    try {
      const t0 = performance.now();
      await assert.rejects(
        ray.init({ address: c.address, token: "not-the-cluster-token" }),
        (err: Error) => /refused/i.test(err.message) && /token/i.test(err.message),
      );
      assert.ok(performance.now() - t0 < 5000, "refused at once");
      assert.equal(ray.isInitialized(), false);
    } finally {
      await c.stop();
    }
  },
});

clusterTest("tasks on one node call the driver's actor on another", [
  { numWorkers: 1, resources: { A: 1 } },
  { numWorkers: 2, resources: { B: 2 } },
], async (c) => {
  const counter = CounterActor.options({ resources: { A: 1 } }).remote(0);
  const bump = bumpFromTask.options({ resources: { B: 1 } });
  const results = await ray.get([bump.remote(counter, 10), bump.remote(counter, 10)]);
  for (const r of results) assert.equal(r.nodeId, c.nodes[1].nodeId);
  assert.equal(Math.max(...results.map((r) => r.last)), 20);
  assert.equal(await ray.get(counter.value.remote()), 20);
});

clusterTest("cancel reaches a task running on another node", [
  { numWorkers: 1 },
], async () => {
  const ref = whereAfter.remote(60_000);
  await new Promise((r) => setTimeout(r, 500));
  const t0 = performance.now();
  ray.cancel(ref);
  await assert.rejects(ray.get(ref), (err: Error) => err instanceof ray.TaskCancelledError);
  assert.ok(performance.now() - t0 < 5000, "ended promptly");
  // The node goes on running tasks.
  assert.equal(await ray.get(square.remote(12)), 144);
});

clusterTest("an object whose node died is made again by its task (lineage); a put's is lost", [
  { numWorkers: 1, resources: { X: 1 } },
  { numWorkers: 1, resources: { X: 1 } },
], async (c) => {
  const n = 1024 * 1024; // big: it stays on the node that made it
  const made = pattern.options({ resources: { X: 1 }, maxRetries: 2 }).remote(n, 5);
  const holder = holderOf.options({ resources: { X: 1 } }).remote(patternBytes(n, 6));
  // Only small answers reach the driver: `made` and the put in `holder` stay on the nodes.
  const first = await ray.get(checksum.options({ resources: { X: 1 } }).remote(made));
  assert.equal(first.sum, fnv(patternBytes(n, 5)));
  const { ref } = await ray.get(holder) as { ref: ray.ObjectRef<Uint8Array> };
  for (const p of c.nodes) await p.stop();
  const survivor = await c.addNode({ numWorkers: 1, resources: { X: 1 } });
  const again = await ray.get(made);
  assert.equal(fnv(again), fnv(patternBytes(n, 5)));
  const sum = await ray.get(checksum.options({ resources: { X: 1 } }).remote(made));
  assert.equal(sum.nodeId, survivor.nodeId);
  await assert.rejects(
    ray.get(ref),
    (err: Error) => err instanceof ray.ObjectLostError && /put/.test(err.message),
  );
});
