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
