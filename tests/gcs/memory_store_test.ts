import assert from "node:assert/strict";
import type { JobId, TaskId } from "../../runtime/common/mod.ts";
import { MemoryControlStore } from "../../runtime/gcs/mod.ts";
import { controlStoreContract, spec } from "./_contract.ts";

Deno.test({
  name: "MemoryControlStore passes the control store contract",
  sanitizeOps: true,
  sanitizeResources: true,
  fn: (t) => controlStoreContract(t, (o) => Promise.resolve(new MemoryControlStore(o))),
});

Deno.test("MemoryControlStore keeps the latest taskHistoryMax transitions of a task", async () => {
  const s = new MemoryControlStore({ taskHistoryMax: 3 });
  const id = "0a0000000000000000000001" as TaskId;
  s.record({ type: "taskSubmitted", jobId: "01" as JobId, spec: spec(id), ts: 1 });
  for (const [state, ts] of [["waiting", 2], ["running", 3], ["failed", 4]] as const) {
    s.record({ type: "taskState", taskId: id, state, ts });
  }
  await s.flush();
  assert.deepEqual((await s.getTask(id))?.history, [
    { state: "waiting", ts: 2 },
    { state: "running", ts: 3 },
    { state: "failed", ts: 4 },
  ]);
  await s.close();
});

Deno.test("MemoryControlStore's capped history reads right across its compactions, and gives back a retried task", async () => {
  const s = new MemoryControlStore({ maxFinishedTasks: 1500 });
  const id = (i: number) => `0b${i.toString(16).padStart(22, "0")}` as TaskId;
  const finish = (i: number, ts: number, state: "finished" | "failed" = "finished") => {
    s.record({
      type: "taskState",
      taskId: id(i),
      state: "running",
      ts: ts - 1,
      workerId: "w1" as never,
    });
    s.record({
      type: "taskState",
      taskId: id(i),
      state,
      ts,
      error: state === "failed" ? "E" : undefined,
    });
  };
  for (let i = 0; i < 4000; i++) {
    s.record({ type: "taskSubmitted", jobId: "01" as JobId, spec: spec(id(i)), ts: 10 * i });
    finish(i, 10 * i + 5, i % 7 === 0 ? "failed" : "finished");
  }
  await s.flush();
  assert.equal(await s.getTask(id(2499)), undefined, "the oldest 2,500 were dropped");
  const kept = await s.getTask(id(3003));
  assert.deepEqual(kept?.history.map((h) => [h.state, h.ts]), [
    ["submitted", 30030],
    ["running", 30034],
    ["failed", 30035],
  ]);
  assert.equal(kept?.error, "E");
  assert.equal(kept?.workerId, "w1");
  // A retry takes a task out of the history; it comes back, newest, when it ends again.
  s.record({ type: "taskState", taskId: id(2500), state: "ready", ts: 50_000, attempt: 1 });
  await s.flush();
  assert.equal((await s.getTask(id(2500)))?.state, "ready");
  finish(2500, 50_002);
  s.record({ type: "taskSubmitted", jobId: "01" as JobId, spec: spec(id(4000)), ts: 50_010 });
  finish(4000, 50_011);
  await s.flush();
  assert.equal((await s.getTask(id(2500)))?.attempt, 1, "kept: it finished after 2,501");
  assert.equal(await s.getTask(id(2501)), undefined, "dropped in its place");
  const newest = await s.listTasks({ state: "finished", limit: 2 });
  assert.deepEqual(newest.map((t) => t.taskId), [id(4000), id(2500)]);
  assert.equal((await s.summary()).tasks.retained, 1500);
  await s.close();
});
