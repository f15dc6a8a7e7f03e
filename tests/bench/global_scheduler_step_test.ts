import assert from "node:assert/strict";
import { runGlobalScheduler } from "../../scripts/bench/_global_scheduler.ts";

Deno.test("runGlobalScheduler() places every simulated task and counts the rate", () => {
  let samples = 0;
  const run = runGlobalScheduler(20, 20_001, () => samples++);
  assert.equal(run.nodes, 20);
  assert.equal(run.decisions, 20_001);
  assert.equal(run.placed, 20_001);
  assert.equal(run.infeasible, 0);
  assert.equal(samples, 3);
  assert.ok(run.decisionsPerSecond > 0 && Number.isFinite(run.decisionsPerSecond));
});
