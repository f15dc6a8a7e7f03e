import assert from "node:assert/strict";
import * as ray from "../../mod.ts";
import { add, sleepMs } from "../fixtures/remote_fns.ts";

Deno.test("isInitialized() is false before init() and after shutdown()", async () => {
  assert.equal(ray.isInitialized(), false);
  await ray.init({ numWorkers: 1 });
  try {
    assert.equal(ray.isInitialized(), true);
  } finally {
    await ray.shutdown();
  }
  assert.equal(ray.isInitialized(), false);
});

Deno.test("init() returns the embedded cluster's ClusterInfo", async () => {
  const info = await ray.init({ numWorkers: 2 });
  try {
    assert.equal(info.numWorkers, 2);
    assert.equal(typeof info.address, "string");
    assert.equal(typeof info.nodeId, "string");
    assert.ok(info.nodeId.length > 0);
    assert.equal(typeof info.resources, "object");
  } finally {
    await ray.shutdown();
  }
});

Deno.test("init() twice rejects with RayError", async () => {
  await ray.init({ numWorkers: 1 });
  try {
    await assert.rejects(ray.init({ numWorkers: 1 }), ray.RayError);
    assert.equal(ray.isInitialized(), true);
    assert.equal(await ray.get(add.remote(1, 2)), 3);
  } finally {
    await ray.shutdown();
  }
});

Deno.test("init() twice with ignoreReinitError keeps the running cluster", async () => {
  const first = await ray.init({ numWorkers: 1 });
  try {
    const second = await ray.init({ numWorkers: 3, ignoreReinitError: true });
    assert.equal(second.nodeId, first.nodeId);
    assert.equal(await ray.get(add.remote(2, 3)), 5);
  } finally {
    await ray.shutdown();
  }
});

Deno.test("shutdown() twice is safe", async () => {
  await ray.init({ numWorkers: 1 });
  await ray.shutdown();
  await ray.shutdown();
  assert.equal(ray.isInitialized(), false);
});

Deno.test({
  name: "shutdown() leaves no ops or resources running after tasks ran",
  sanitizeOps: true,
  sanitizeResources: true,
  sanitizeExit: true,
  async fn() {
    await ray.init({ numWorkers: 2 });
    const refs = [add.remote(1, 2), add.remote(ray.put(3), 4)];
    assert.deepEqual(await ray.get(refs), [3, 7]);
    await ray.shutdown();
  },
});

Deno.test("init() after shutdown() starts a working cluster again", async () => {
  for (let round = 0; round < 2; round++) {
    await ray.init({ numWorkers: 1 });
    try {
      assert.equal(await ray.get(add.remote(round, 10)), round + 10);
      assert.equal(await ray.get(ray.put(`round ${round}`)), `round ${round}`);
    } finally {
      await ray.shutdown();
    }
  }
});

Deno.test({
  name: "shutdown() while tasks run settles pending get() and leaves nothing running",
  sanitizeOps: true,
  sanitizeResources: true,
  async fn() {
    await ray.init({ numWorkers: 2 });
    const pending = ray.get([sleepMs.remote(3000), sleepMs.remote(3000), sleepMs.remote(3000)]);
    const settled = pending.then(() => "resolved", (err: unknown) => err);
    await new Promise((resolve) => setTimeout(resolve, 100));
    const start = performance.now();
    await ray.shutdown();
    assert.ok(performance.now() - start < 2000, "shutdown() waited for running tasks");
    const outcome = await settled;
    assert.ok(outcome instanceof ray.RayError, `pending get() settled with ${String(outcome)}`);
  },
});
