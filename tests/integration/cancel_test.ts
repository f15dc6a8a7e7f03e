/**
 * `ray.cancel` of running tasks that ignore their signal: the get ends at
 * once, the CPU is free at once, a late result is dropped, and a task still
 * running after the grace period (`cancelGraceMs`) has its worker replaced.
 */
import assert from "node:assert/strict";
import * as ray from "../../mod.ts";
import { rayTest } from "./_with_ray.ts";
import { currentBackend } from "../../runtime/core/mod.ts";
import { overrideSetting, type SettingName } from "../../runtime/common/mod.ts";
import type { Node } from "../../runtime/node/mod.ts";
import { forever, parentOfSleeps, sleep, sleepThenBig, spin } from "../fixtures/scheduler_fns.ts";

function node(): Node {
  return currentBackend() as Node;
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Loads the fixtures' module in every worker (a first task waits for that, about a second under load). */
async function warm(workers = 1): Promise<void> {
  const refs = Array.from({ length: workers }, () => sleep.remote(50, 0));
  await ray.get(refs, { timeoutMs: 20_000 });
}

/**
 * Runs `fn` with setting `name` set to `value` in this file's thread only
 * (`overrideSetting`: an environment variable would reach the nodes the
 * other test files of this process start meanwhile).
 */
async function withSetting(name: SettingName, value: number, fn: () => Promise<void>) {
  overrideSetting(name, value);
  try {
    await fn();
  } finally {
    overrideSetting(name, undefined);
  }
}

/** Runs `fn` and returns what it warned on the console. */
async function warnings(fn: () => Promise<void>): Promise<string[]> {
  const seen: string[] = [];
  const warn = console.warn;
  console.warn = (...args: unknown[]) => void seen.push(args.map(String).join(" "));
  try {
    await fn();
  } finally {
    console.warn = warn;
  }
  return seen;
}

rayTest("cancel() of a running task that ignores its signal ends its get at once", async () => {
  await warm();
  const ref = sleep.remote(60_000, "never");
  await delay(100);
  const t0 = performance.now();
  await ray.cancel(ref);
  await assert.rejects(ray.get(ref, { timeoutMs: 5_000 }), ray.TaskCancelledError);
  const ms = performance.now() - t0;
  assert.ok(ms < 1_000, `get ended ${ms.toFixed(0)} ms after the cancel`);
}, { numWorkers: 1 });

rayTest(
  "cancel() frees the running task's CPU at once: the next task runs on a 1-worker node",
  async () => {
    await warm();
    const ref = sleep.remote(60_000, "never");
    await delay(100);
    assert.equal((await ray.availableResources()).CPU, 0);
    await ray.cancel(ref);
    assert.equal((await ray.availableResources()).CPU, 1);
    const t0 = performance.now();
    assert.deepEqual(
      await ray.get([spin.remote(1, "a"), sleep.remote(10, "b")], { timeoutMs: 5_000 }),
      [
        "a",
        "b",
      ],
    );
    const ms = performance.now() - t0;
    assert.ok(
      ms < 2_000,
      `the next tasks (one round trip to the warm worker) took ${ms.toFixed(0)} ms`,
    );
    assert.equal((await ray.nodes())[0].numWorkers, 1, "no worker was started for them");
  },
  { numWorkers: 1 },
);

rayTest(
  "a cancelled task's late result is dropped: no object, no error, no record change",
  async () => {
    await warm();
    const before = node().objectCounts().stored;
    const ref = sleepThenBig.remote(1_500, 64 * 1024, 7);
    await delay(100);
    const seen = await warnings(async () => {
      await ray.cancel(ref);
      await assert.rejects(ray.get(ref, { timeoutMs: 1_000 }), ray.TaskCancelledError);
      // The cancel's error object (at the node, or kept by the driver when it owns the task).
      const stored = node().objectCounts().stored;
      assert.ok(stored <= before + 1, `${stored - before} objects made by the cancel`);
      await delay(1_800); // the task returns meanwhile
      assert.equal(node().objectCounts().stored, stored, "the late result is not stored");
      await assert.rejects(ray.get(ref), ray.TaskCancelledError);
      assert.equal(await ray.get(spin.remote(1, "next")), "next");
    });
    assert.deepEqual(seen, []);
    const slices = (await ray.timeline()).filter((e) =>
      e.ph === "X" && e.name.includes("sleepThenBig")
    );
    assert.deepEqual(slices.map((e) => e.args.state), ["cancelled"]);
  },
  { numWorkers: 1 },
);

rayTest(
  "a cancelled task still running after cancelGraceMs has its worker replaced, with a warning",
  async () => {
    await warm();
    await withSetting("cancelGraceMs", 300, async () => {
      const seen = await warnings(async () => {
        const ref = forever.remote();
        await delay(100);
        const t0 = performance.now();
        await ray.cancel(ref);
        await assert.rejects(ray.get(ref, { timeoutMs: 5_000 }), ray.TaskCancelledError);
        assert.ok(performance.now() - t0 < 1_000, "get ends before the grace period");
        // Handed to the stuck worker (its CPU is free): it runs again on the new worker.
        const after = spin.options({ maxRetries: 0 }).remote(1, "after");
        assert.equal(await ray.get(after, { timeoutMs: 30_000 }), "after");
        const ms = performance.now() - t0;
        assert.ok(ms >= 300, `ran after ${ms.toFixed(0)} ms, before the grace period ended`);
      });
      assert.equal(seen.length, 1, seen.join("\n"));
      assert.match(seen[0], /cancelled task forever .* still runs on worker w1 300 ms after/);
      assert.equal((await ray.nodes())[0].numWorkers, 1);
      assert.deepEqual(await ray.get([spin.remote(1, 1), sleep.remote(1, 2)]), [1, 2]);
    });
  },
  { numWorkers: 1 },
);

rayTest(
  "cancel({ force: true }) of a running timer task ends its get and its worker at once",
  async () => {
    await warm();
    const ref = sleep.remote(60_000, "never");
    await delay(100);
    const t0 = performance.now();
    await ray.cancel(ref, { force: true });
    await assert.rejects(ray.get(ref, { timeoutMs: 5_000 }), ray.TaskCancelledError);
    assert.ok(performance.now() - t0 < 1_000);
    assert.equal(await ray.get(sleep.remote(1, "next"), { timeoutMs: 30_000 }), "next");
    assert.equal((await ray.nodes())[0].numWorkers, 1);
  },
  { numWorkers: 1 },
);

rayTest(
  "short tasks lent a cancelled task's worker all return exact results around its late result",
  async () => {
    await warm();
    const long = sleepThenBig.remote(300, 1024, 1);
    await delay(50);
    await ray.cancel(long);
    const refs: ray.ObjectRef<number>[] = [];
    const t0 = performance.now();
    // Streams until well after the cancelled task returned on the same worker.
    for (let i = 0; performance.now() - t0 < 600 || i < 3000; i++) {
      refs.push(spin.remote(0, i) as ray.ObjectRef<number>);
      if (i % 200 === 0) await delay(1);
    }
    const values = await ray.get(refs, { timeoutMs: 30_000 });
    assert.deepEqual(values, Array.from({ length: refs.length }, (_, i) => i));
    await assert.rejects(ray.get(long), ray.TaskCancelledError);
    assert.equal((await ray.nodes())[0].numWorkers, 1, "the worker was not replaced");
  },
  { numWorkers: 1 },
);

rayTest(
  "a recursive cancel of a running parent fails its queued and running children at once",
  async () => {
    await warm(2);
    const parent = parentOfSleeps.remote(60_000);
    await delay(300);
    assert.equal((await ray.availableResources()).CPU, 0, "both children run");
    const t0 = performance.now();
    await ray.cancel(parent);
    await assert.rejects(ray.get(parent, { timeoutMs: 5_000 }), ray.TaskCancelledError);
    assert.ok(performance.now() - t0 < 1_000);
    // At once, or within a few messages when the children went to leases of the parent's worker.
    while ((await ray.availableResources()).CPU !== 2 && performance.now() - t0 < 1_000) {
      await delay(5);
    }
    assert.equal((await ray.availableResources()).CPU, 2, "the children's CPUs are free");
    assert.deepEqual(await ray.get([spin.remote(1, "x"), spin.remote(1, "y")]), ["x", "y"]);
  },
  { numWorkers: 2 },
);

Deno.test("init rejects a negative cancelGraceMs, naming the setting", async () => {
  await withSetting("cancelGraceMs", -1, async () => {
    await assert.rejects(
      ray.init({ numWorkers: 1 }),
      (err: Error) => err instanceof RangeError && /RAYD_CANCEL_GRACE_MS.*-1/.test(err.message),
    );
  });
  assert.equal(ray.isInitialized(), false);
});

rayTest(
  "cancel({ force: true }) after a plain cancel ends the still running task's worker at once",
  async () => {
    await warm();
    await withSetting("cancelGraceMs", 60000, async () => {
      const seen = await warnings(async () => {
        const ref = forever.remote();
        await delay(100);
        await ray.cancel(ref);
        await assert.rejects(ray.get(ref, { timeoutMs: 5_000 }), ray.TaskCancelledError);
        const next = sleep.remote(1, "next");
        await delay(100);
        const t0 = performance.now();
        await ray.cancel(ref, { force: true });
        assert.equal(await ray.get(next, { timeoutMs: 30_000 }), "next");
        const ms = performance.now() - t0;
        // A new worker must start first (seconds under load), but not the 60 s grace period.
        assert.ok(ms < 30_000, `the next task ran ${ms.toFixed(0)} ms after the forced cancel`);
      });
      assert.deepEqual(seen, [], "no grace-period warning");
    });
  },
  { numWorkers: 1 },
);
