/**
 * The shared store under concurrent use: workers writing and reading at
 * once while objects are freed, and a shutdown in the middle of writes.
 * Each test checks that no value is corrupted or lost.
 */
import assert from "node:assert/strict";
import * as ray from "../../mod.ts";
import { collectGarbage } from "../../runtime/core/mod.ts";
import { pattern, verify } from "../fixtures/scheduler_fns.ts";

const N = 64 * 1024; // 512 KiB per array: out of band, in the store

Deno.test({
  name: "workers writing and reading the store at once while objects are freed corrupt nothing",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    await ray.init({ numWorkers: 2, objectStoreMemory: 128 * 1024 * 1024 });
    try {
      let checked = 0;
      for (let round = 0; round < 10; round++) {
        const made = Array.from({ length: 20 }, (_, i) => pattern.remote(N, round * 100 + i));
        const verified = made.map((ref, i) => verify.remote(ref, round * 100 + i));
        const counts = await ray.get(verified);
        checked += counts.reduce((a, b) => a + b, 0);
        const sample = await ray.get(made[round]);
        assert.ok(sample.every((x) => x === round * 100 + round));
        collectGarbage?.();
        await new Promise((r) => setTimeout(r, 10));
      }
      assert.equal(checked, 10 * 20 * N);
    } finally {
      await ray.shutdown();
    }
  },
});

Deno.test({
  name: "shutdown while workers write big results neither crashes nor blocks a new init",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    await ray.init({ numWorkers: 2 });
    const pending = Array.from({ length: 50 }, (_, i) => pattern.remote(N, i));
    const settled = ray.get(pending).then(() => "done", (e: Error) => e.message);
    await new Promise((r) => setTimeout(r, 20));
    await ray.shutdown();
    const outcome = await settled;
    assert.ok(outcome === "done" || /shut down/.test(outcome), outcome);
    await ray.init({ numWorkers: 2 });
    try {
      const arr = await ray.get(pattern.remote(N, 7));
      assert.ok(arr.every((x) => x === 7));
    } finally {
      await ray.shutdown();
    }
  },
});
