/**
 * Smoke test of `deno task bench:frames`: the quick run gives positive
 * finite numbers and shows small frames batched into few socket writes.
 * Nothing here asserts on speed.
 *
 * @module
 */
import assert from "node:assert/strict";
import { framesBench } from "../../scripts/bench/frames.ts";

Deno.test("quick frames bench gives positive numbers and batches small frames", async () => {
  const report = await framesBench(true);
  for (const [name, value] of Object.entries(report)) {
    assert.ok(Number.isFinite(value) && value > 0, `${name} is ${value}`);
  }
  assert.ok(report.small_frames_writes_per_frame < 0.1, `${report.small_frames_writes_per_frame}`);
});
