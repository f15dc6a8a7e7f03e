/**
 * Actors whose node dies (in-process clusters; the node is stopped, which
 * closes its links and ends its workers mid-call): restarts on another
 * node within `maxRestarts`, calls in flight retried within
 * `maxTaskRetries`, scheduling strategies, detached named actors.
 */
import assert from "node:assert/strict";
import * as ray from "../../mod.ts";
import type { ClusterProcess } from "../../runtime/cluster/mod.ts";
import type { ActorId } from "../../runtime/common/mod.ts";
import {
  incrFromTask,
  type Roamer,
  RoamerActor,
  slowCallsFromTask,
} from "../fixtures/cluster_restarts.ts";
import { clusterTest, type InProcessCluster, TEST_TOKEN } from "./in_process_cluster.ts";

/** The node process with id `nodeId`. */
function nodeOf(c: InProcessCluster, nodeId: string): ClusterProcess {
  const found = c.nodes.find((p) => p.nodeId === nodeId);
  assert.ok(found, `node ${nodeId} is one of the cluster's`);
  return found;
}

/**
 * Stops node `nodeId` (its links close, its workers end mid-call) and waits
 * until the head lists it dead: the head's notice reached this driver
 * before that answer (one link, in order), so calls made from then on are
 * not in flight on the dead node.
 */
async function stopNode(c: InProcessCluster, nodeId: string): Promise<void> {
  await nodeOf(c, nodeId).stop();
  await until(`node ${nodeId} is listed dead`, async () => {
    const nodes = await ray.nodes();
    return nodes.find((n) => n.nodeId === nodeId)?.alive === false;
  });
}

/** Waits until `check` returns true (polling), failing after `ms`. */
async function until(what: string, check: () => Promise<boolean>, ms = 20_000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await check())) {
    assert.ok(Date.now() < end, `timed out waiting: ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

clusterTest(
  "an actor with maxRestarts 1 whose node dies restarts on another (constructor again), reached from the driver and from a task on a third node",
  [
    { numWorkers: 1, resources: { A: 1 } },
    { numWorkers: 1, resources: { A: 1 } },
    { numWorkers: 1, resources: { T: 1 } },
  ],
  async (c) => {
    const roamer = RoamerActor.options({ resources: { A: 1 }, maxRestarts: 1 }).remote();
    assert.deepEqual(await ray.get([roamer.incr.remote(), roamer.incr.remote()]), [1, 2]);
    const first = await ray.get(roamer.where.remote());
    assert.equal(first.n, 2);
    await stopNode(c, first.nodeId);
    const again = await ray.get(roamer.where.remote());
    assert.notEqual(again.nodeId, first.nodeId);
    assert.equal(again.n, 0, "the constructor ran again: its state starts anew");
    assert.equal(await ray.get(roamer.incr.remote()), 1);
    const fromTask = await ray.get(incrFromTask.options({ resources: { T: 1 } }).remote(roamer, 2));
    assert.equal(fromTask.nodeId, c.nodes[2].nodeId);
    assert.deepEqual(fromTask.counts, [2, 3]);
    // The control store has it RESTARTING, then ALIVE on its new node, with its restart counted.
    const gcs = nodeOf(c, again.nodeId).node.gcs;
    await until("the new node records the actor alive", async () => {
      const rec = await gcs.getActor(again.actorId as ActorId);
      return rec?.state === "alive" && rec.restarts === 1 && rec.nodeId === again.nodeId;
    });
    const headRecord = await c.head.node.gcs.getActor(again.actorId as ActorId);
    assert.equal(headRecord?.restarts, 1, "the head recorded the restart");
  },
);

clusterTest(
  "calls in flight when an actor's node dies are retried once each with maxTaskRetries 1, in order; with 0 they fail naming the node",
  [
    { numWorkers: 1, resources: { A: 2 } },
    { numWorkers: 1, resources: { A: 2 } },
  ],
  async (c) => {
    const home = c.nodes[0].nodeId;
    const there = {
      resources: { A: 1 },
      maxRestarts: 1,
      schedulingStrategy: { nodeId: home, soft: true },
    };
    const retried = RoamerActor.options({ ...there, maxTaskRetries: 1 }).remote();
    const plain = RoamerActor.options(there).remote();
    assert.equal((await ray.get(retried.where.remote())).nodeId, home);
    assert.equal((await ray.get(plain.where.remote())).nodeId, home);
    const inFlight = [retried.slowIncr.remote(1500), retried.incr.remote(), retried.incr.remote()];
    const lost = plain.slowIncr.remote(1500);
    await new Promise((r) => setTimeout(r, 300));
    await nodeOf(c, home).stop();
    // Each ran once on the restarted actor, in the order made.
    assert.deepEqual(await ray.get(inFlight), [1, 2, 3]);
    assert.equal((await ray.get(retried.where.remote())).n, 3);
    await assert.rejects(
      ray.get(lost),
      (err: Error) =>
        err instanceof ray.RayActorError && err.message.includes(home) &&
        err.message.includes("slowIncr"),
    );
    assert.equal(await ray.get(plain.incr.remote()), 1, "the actor itself restarted");
  },
);

clusterTest(
  "calls in flight from a task on a third node are retried on the restarted actor, in order",
  [
    { numWorkers: 1, resources: { A: 1 } },
    { numWorkers: 1, resources: { A: 1 } },
    { numWorkers: 1, resources: { T: 1 } },
  ],
  async (c) => {
    const home = c.nodes[0].nodeId;
    const roamer = RoamerActor.options({
      resources: { A: 1 },
      maxRestarts: 1,
      maxTaskRetries: 1,
      schedulingStrategy: { nodeId: home, soft: true },
    }).remote();
    assert.equal((await ray.get(roamer.where.remote())).nodeId, home);
    const task = slowCallsFromTask.options({ resources: { T: 1 } }).remote(roamer, 3, 1000);
    await new Promise((r) => setTimeout(r, 600));
    await c.nodes[0].stop();
    const got = await ray.get(task, { timeoutMs: 30_000 });
    assert.equal(got.nodeId, c.nodes[2].nodeId);
    assert.deepEqual(got.counts, [1, 2, 3]);
    const after = await ray.get(roamer.where.remote());
    assert.equal(after.nodeId, c.nodes[1].nodeId);
    assert.equal(after.n, 3, "each ran once on the restarted actor");
  },
);

clusterTest(
  "an actor that restarts on the node of a task calling it goes on answering that task, in order",
  [
    { numWorkers: 1, resources: { A: 1 } },
    { numWorkers: 2, resources: { A: 1 } },
  ],
  async (c) => {
    const [home, caller] = [c.nodes[0].nodeId, c.nodes[1].nodeId];
    const roamer = RoamerActor.options({
      resources: { A: 1 },
      maxRestarts: 1,
      maxTaskRetries: 1,
      schedulingStrategy: { nodeId: home, soft: true },
    }).remote();
    assert.equal((await ray.get(roamer.where.remote())).nodeId, home);
    const onCaller = { numCpus: 0, schedulingStrategy: { nodeId: caller } };
    const task = slowCallsFromTask.options(onCaller).remote(roamer, 3, 1000);
    await new Promise((r) => setTimeout(r, 600));
    await c.nodes[0].stop();
    assert.deepEqual((await ray.get(task, { timeoutMs: 30_000 })).counts, [1, 2, 3]);
    const later = await ray.get(incrFromTask.options(onCaller).remote(roamer, 2));
    assert.deepEqual(later.counts, [4, 5]);
    assert.equal((await ray.get(roamer.where.remote())).nodeId, caller);
  },
);

clusterTest(
  "an actor whose node dies with no other node to host it restarts on a node that joins later",
  [{ numWorkers: 1, resources: { A: 1 } }],
  async (c) => {
    const roamer = RoamerActor.options({ resources: { A: 1 }, maxRestarts: 1 }).remote();
    assert.equal(await ray.get(roamer.incr.remote()), 1);
    await stopNode(c, c.nodes[0].nodeId);
    const call = roamer.where.remote(); // waits for a node to restart on
    await new Promise((r) => setTimeout(r, 500));
    const replacement = await c.addNode({ numWorkers: 1, resources: { A: 1 } });
    const at = await ray.get(call, { timeoutMs: 30_000 });
    assert.equal(at.nodeId, replacement.nodeId);
    assert.equal(at.n, 0);
  },
);

clusterTest(
  "an actor out of restarts when its node dies again is dead: calls fail with RayActorError",
  [
    { numWorkers: 1, resources: { A: 1 } },
    { numWorkers: 1, resources: { A: 1 } },
  ],
  async (c) => {
    const roamer = RoamerActor.options({ resources: { A: 1 }, maxRestarts: 1 }).remote();
    const first = (await ray.get(roamer.where.remote())).nodeId;
    await stopNode(c, first);
    const second = (await ray.get(roamer.where.remote())).nodeId;
    assert.notEqual(second, first);
    await c.addNode({ numWorkers: 1, resources: { A: 1 } }); // room for a restart it may not have
    await stopNode(c, second);
    await assert.rejects(
      ray.get(roamer.incr.remote()),
      (err: Error) =>
        err instanceof ray.RayActorError && /after 1 restart/.test(err.message) &&
        err.message.includes(second),
    );
  },
);

clusterTest(
  "a detached named actor outlives its creator's exit and its node's death; getActor finds it",
  [
    { numWorkers: 1, resources: { A: 1 } },
    { numWorkers: 1, resources: { A: 1 } },
  ],
  async (c) => {
    const made = RoamerActor.options({
      name: "roamer",
      lifetime: "detached",
      resources: { A: 1 },
      maxRestarts: -1,
      maxTaskRetries: 1,
    }).remote();
    assert.equal(await ray.get(made.incr.remote()), 1);
    await ray.shutdown(); // the creating driver leaves
    await ray.init({ address: c.address, token: TEST_TOKEN });
    const found = await ray.getActor<Roamer>("roamer");
    const at = await ray.get(found.where.remote());
    assert.equal(at.n, 1, "the same actor, still alive after its creator left");
    // Asked for at once: an answer the head sent before it saw the node die may come after its
    // notice, and must not send calls to the dead node.
    await nodeOf(c, at.nodeId).stop();
    const again = await ray.getActor<Roamer>("roamer");
    const moved = await ray.get(again.where.remote(), { timeoutMs: 20_000 });
    assert.notEqual(moved.nodeId, at.nodeId);
    assert.equal(moved.n, 0, "restarted elsewhere");
    assert.equal(await ray.get(found.incr.remote()), 1, "the old handle reaches it too");
    await ray.kill(again);
  },
);

clusterTest(
  "an actor pinned softly to a node that dies restarts on another; pinned hard, it dies saying why",
  [
    { numWorkers: 1, resources: { A: 1 } },
    { numWorkers: 1, resources: { A: 1 } },
  ],
  async (c) => {
    const pinned = c.nodes[0].nodeId;
    const soft = RoamerActor.options({
      resources: { A: 0.5 },
      maxRestarts: 1,
      schedulingStrategy: { nodeId: pinned, soft: true },
    }).remote();
    const hard = RoamerActor.options({
      resources: { A: 0.5 },
      maxRestarts: 1,
      schedulingStrategy: { nodeId: pinned },
    }).remote();
    assert.equal((await ray.get(soft.where.remote())).nodeId, pinned);
    assert.equal((await ray.get(hard.where.remote())).nodeId, pinned);
    await stopNode(c, pinned);
    const moved = await ray.get(soft.where.remote());
    assert.equal(moved.nodeId, c.nodes[1].nodeId);
    assert.equal(await ray.get(soft.incr.remote()), 1);
    await assert.rejects(
      ray.get(hard.incr.remote()),
      (err: Error) =>
        err instanceof ray.RayActorError && /cannot be restarted/.test(err.message) &&
        err.message.includes(pinned),
    );
  },
);

clusterTest("actor options take a schedulingStrategy and refuse a bad one", [
  { numWorkers: 1, resources: { A: 1 } },
], async (c) => {
  const target = c.nodes[0].nodeId;
  const a = RoamerActor.options({ schedulingStrategy: { nodeId: target } }).remote();
  assert.equal((await ray.get(a.where.remote())).nodeId, target);
  assert.throws(
    () => RoamerActor.options({ schedulingStrategy: "NEAR" as "SPREAD" }),
    (err: Error) => err instanceof TypeError && /schedulingStrategy/.test(err.message),
  );
});
