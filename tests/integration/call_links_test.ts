/**
 * Call links: tasks and actors call actors straight through shared memory
 * and own the results. Owned refs that leave their thread reach the node;
 * results too big to come back inline are sealed at the node; worker deaths,
 * kills and restarts lose no call; a caller that dies leaves an error, not a
 * hang, for refs it sent out.
 */
import assert from "node:assert/strict";
import * as ray from "../../mod.ts";
import {
  BulkyActor,
  CounterActor,
  FragileActor,
  RecorderActor,
} from "../fixtures/actor_classes.ts";
import {
  bigAndNested,
  crashThenIncr,
  EchoActor,
  echoMany,
  incrMany,
  killWithQueued,
  mixedSizes,
  passOwnedRefs,
  sendAndForget,
  sendRefsOut,
  sendThenDie,
  SpawnerActor,
  viaSpawner,
  waitsWithDeadlines,
} from "../fixtures/link_fns.ts";
import { rayTest } from "./_with_ray.ts";
import { collectGarbage, currentBackend } from "../../runtime/core/mod.ts";
import type { Node } from "../../runtime/node/mod.ts";

rayTest("2,000 calls from each of two tasks run in each caller's order", async () => {
  const c = CounterActor.remote(0);
  const [a, b] = await ray.get([incrMany.remote(c, 2000), incrMany.remote(c, 2000)]);
  for (const seen of [a, b]) {
    assert.equal(seen.length, 2000);
    for (let i = 1; i < seen.length; i++) assert.ok(seen[i] > seen[i - 1], "in order");
  }
  assert.deepEqual(
    [...a, ...b].sort((x, y) => x - y),
    Array.from({ length: 4000 }, (_, i) => i + 1),
  );
});

for (const waitFirst of [false, true]) {
  rayTest(
    `owned refs sent out of their task ${waitFirst ? "after" : "before"} their results came`,
    async () => {
      const c = CounterActor.remote(0);
      const { sums, pairs, boom } = await ray.get(sendRefsOut.remote(c, waitFirst));
      assert.deepEqual(await ray.get(sums), Array.from({ length: 20 }, (_, i) => i + 100));
      assert.deepEqual(await ray.get(pairs), [["left", "right"], ["left", "right"]]);
      await assert.rejects(ray.get(boom), ray.RayTaskError);
    },
  );
}

rayTest("an owned ref passed to a call, to a task and inside a put resolves", async () => {
  const c = CounterActor.remote(0);
  assert.deepEqual(await ray.get(passOwnedRefs.remote(c)), [13, 42, 10, 4, 7]);
});

rayTest("big returns and refs a method put come back through the node", async () => {
  const b = BulkyActor.remote();
  assert.deepEqual(await ray.get(bigAndNested.remote(b)), [300 * 1024, [4, 5], true]);
});

rayTest("arguments and results of every size keep their call order", async () => {
  const b = BulkyActor.remote();
  const sizes = [8, 20 * 1024, 8, 90 * 1024, 60 * 1024, 8, 200 * 1024, 8];
  assert.deepEqual(
    await ray.get(mixedSizes.remote(b)),
    sizes.map((size, tag) => [size, tag, tag]),
  );
});

rayTest("a crash with linked calls in flight: retried within maxTaskRetries", async () => {
  const f = FragileActor.options({ maxRestarts: 1, maxTaskRetries: 1 }).remote(0);
  const key = `RAYD_TEST_LINK_CRASH_${crypto.randomUUID()}`;
  // crashOnce runs again after the restart (state rebuilt: n = 0), then the incrs.
  assert.deepEqual(await ray.get(crashThenIncr.remote(f, key)), [0, 1, 2, 3, 4]);
});

rayTest(
  "a crash with linked calls in flight and no retries: they fail, later calls run",
  async () => {
    const f = FragileActor.options({ maxRestarts: 1 }).remote(0);
    const key = `RAYD_TEST_LINK_CRASH_${crypto.randomUUID()}`;
    const seen = await ray.get(crashThenIncr.remote(f, key));
    assert.equal(seen[0], "RayActorError");
    // The incrs were taken with crashOnce's batch: lost with it.
    assert.deepEqual(seen.slice(1, 4), ["RayActorError", "RayActorError", "RayActorError"]);
    assert.equal(seen[4], 1);
  },
);

rayTest("kill from a task while its linked calls are queued: every one rejects", async () => {
  const f = FragileActor.remote(0);
  assert.deepEqual(await ray.get(killWithQueued.remote(f)), [
    "RayActorError",
    "RayActorError",
    "RayActorError",
  ]);
});

rayTest("wait and get deadlines on owned refs", async () => {
  const f = FragileActor.remote(3);
  assert.deepEqual(await ray.get(waitsWithDeadlines.remote(f)), [0, "GetTimeoutError", 2]);
});

rayTest(
  "a caller that dies after sending an owned ref out leaves an error, not a hang",
  async () => {
    const f = FragileActor.remote(0);
    const rec = RecorderActor.remote();
    await assert.rejects(ray.get(sendThenDie.remote(f, rec)), ray.WorkerCrashedError);
    const [[ref]] = await ray.get(rec.entries.remote()) as [ray.ObjectRef<number>][];
    await assert.rejects(ray.get(ref), ray.ObjectLostError);
  },
);

rayTest(
  "an actor killed again and again while two tasks and the driver stream calls: no call lost",
  async () => {
    const e = EchoActor.options({ maxRestarts: -1, maxTaskRetries: -1 }).remote();
    const tasks = [echoMany.remote(e, 0, 3000), echoMany.remote(e, 100_000, 3000)];
    const mine: ray.ObjectRef<number>[] = [];
    for (let k = 0; k < 8; k++) {
      for (let i = 0; i < 200; i++) mine.push(e.echo.remote(200_000 + k * 200 + i));
      await new Promise((r) => setTimeout(r, 15));
      await ray.kill(e, { noRestart: false });
    }
    const [a, b] = await ray.get(tasks);
    assert.deepEqual(a, Array.from({ length: 3000 }, (_, i) => i));
    assert.deepEqual(b, Array.from({ length: 3000 }, (_, i) => 100_000 + i));
    assert.deepEqual(await ray.get(mine), Array.from({ length: 1600 }, (_, i) => 200_000 + i));
  },
);

rayTest("a non-detached actor finishes the calls waiting in links before it dies", async () => {
  const refs = await (async () => {
    const h = CounterActor.options({ name: "drained" }).remote(0);
    return await ray.get(sendAndForget.remote(h, 300));
  })();
  assert.deepEqual(await ray.get(refs), Array.from({ length: 300 }, (_, i) => i + 1));
  // Every handle is dropped: the driver's here, the task's in its worker. Storing an
  // eighth of the store makes the node collect garbage in every thread.
  const gcs = (currentBackend() as Node).gcs;
  const deadline = Date.now() + 10_000;
  while (Date.now() < deadline) {
    collectGarbage!();
    await ray.get(ray.put(new Uint8Array(9 * 1024 * 1024)));
    await new Promise((r) => setTimeout(r, 50));
    // Polled in the control store: a getActor would make a handle and keep it alive.
    const actors = await gcs.listActors();
    if (actors.find((a) => a.name === "drained")?.state === "dead") return;
  }
  assert.fail("the actor was still alive 10 s after its last handle was dropped");
}, { objectStoreMemory: 64 * 1024 * 1024 });

rayTest("a task waiting on an actor gives its CPU back to the task the actor needs", async () => {
  const s = SpawnerActor.remote();
  assert.equal(await ray.get(viaSpawner.remote(s, 21)), 42);
}, { numCpus: 1 });
