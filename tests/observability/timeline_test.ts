import assert from "node:assert/strict";
import type { ObjectId, TaskId } from "../../runtime/common/mod.ts";
import type { TaskState } from "../../runtime/gcs/mod.ts";
import { buildTimeline, type TimelineTask } from "../../runtime/observability/mod.ts";

function task(
  id: string,
  worker: string,
  history: [TaskState, number][],
  extra: Partial<TimelineTask> = {},
): TimelineTask {
  return {
    taskId: id as TaskId,
    name: `fn_${id}`,
    state: history[history.length - 1][0],
    history: history.map(([state, ts]) => ({ state, ts })),
    nodeId: "node-a" as never,
    workerId: worker as never,
    attempt: 0,
    deps: [],
    returns: [],
    submittedAt: history[0][1],
    ...extra,
  };
}

/** Asserts every event has the Chrome trace event fields with the right types. */
function assertSchema(events: unknown[]): void {
  for (const e of events as Record<string, unknown>[]) {
    assert.equal(typeof e.name, "string");
    assert.equal(typeof e.cat, "string");
    assert.ok(e.ph === "X" || e.ph === "M", `ph ${e.ph}`);
    assert.ok(Number.isFinite(e.ts), "ts is a number");
    assert.ok(Number.isInteger(e.pid) && Number.isInteger(e.tid), "pid and tid are integers");
    assert.equal(typeof e.args, "object");
    if (e.ph === "X") assert.ok(Number.isFinite(e.dur) && (e.dur as number) >= 0, "dur");
  }
  JSON.parse(JSON.stringify(events));
}

Deno.test("buildTimeline() gives one X slice per task run, in microseconds, on its worker's row", () => {
  const events = buildTimeline([
    task("a", "w1", [["submitted", 1000], ["running", 1002], ["finished", 1010]]),
    task("b", "w2", [["submitted", 1000], ["running", 1005], ["failed", 1006]], {
      error: "RayTaskError: boom",
    }),
  ]);
  assertSchema(events);
  const slices = events.filter((e) => e.ph === "X");
  assert.equal(slices.length, 2);
  const [a, b] = slices;
  assert.deepEqual(
    { name: a.name, cat: a.cat, ts: a.ts, dur: a.dur, tid: a.tid },
    { name: "fn_a", cat: "task", ts: 1_002_000, dur: 8_000, tid: 1 },
  );
  assert.deepEqual(a.args, { taskId: "a", state: "finished", attempt: 0, waitMs: 2 });
  assert.equal(b.tid, 2);
  assert.equal(b.pid, a.pid, "one process per node");
  assert.equal(b.args.state, "failed");
  assert.equal(b.args.error, "RayTaskError: boom");
  assert.equal(b.args.waitMs, 5);
});

Deno.test("buildTimeline() names each node and worker row with metadata events", () => {
  const events = buildTimeline([
    task("a", "w3", [["submitted", 1], ["running", 2], ["finished", 3]]),
    task("b", "w1", [["submitted", 1], ["running", 2], ["finished", 3]], { nodeId: "n2" as never }),
  ]);
  const meta = events.filter((e) => e.ph === "M");
  assert.deepEqual(
    meta.filter((e) => e.name === "process_name").map((e) => [e.pid, e.args.name]),
    [[1, "node node-a"], [2, "node n2"]],
  );
  assert.deepEqual(
    meta.filter((e) => e.name === "thread_name").map((e) => [e.pid, e.tid, e.args.name]),
    [[1, 3, "worker w3"], [2, 1, "worker w1"]],
  );
  assert.ok(events.findIndex((e) => e.ph === "X") > events.findLastIndex((e) => e.ph === "M"));
});

Deno.test("buildTimeline() leaves out tasks that never ran or have not ended", () => {
  const events = buildTimeline([
    task("queued", "w1", [["submitted", 1]]),
    task("running", "w1", [["submitted", 1], ["running", 2]]),
    task("cancelled", "w1", [["submitted", 1], ["cancelled", 2]]),
  ]);
  assert.deepEqual(events, []);
});

Deno.test("buildTimeline() shows the last run of a retried task, waiting from the retry", () => {
  const [slice] = buildTimeline([
    task("r", "w2", [
      ["submitted", 10],
      ["running", 11],
      ["ready", 15],
      ["running", 20],
      ["finished", 30],
    ], { attempt: 1 }),
  ]).filter((e) => e.ph === "X");
  assert.equal(slice.ts, 20_000);
  assert.equal(slice.dur, 10_000);
  assert.equal(slice.args.waitMs, 5);
  assert.equal(slice.args.attempt, 1);
});

Deno.test("buildTimeline() reports time blocked in get and the sizes of arguments it knows", () => {
  const dep = "d".repeat(28) as ObjectId;
  const [slice] = buildTimeline(
    [
      task("n", "w1", [
        ["submitted", 0],
        ["running", 1],
        ["blocked", 2],
        ["running", 7],
        ["finished", 9],
      ], { deps: [dep, "e".repeat(28) as ObjectId], args: new Uint8Array(40) }),
    ],
    new Map([[dep, 500_000]]),
  ).filter((e) => e.ph === "X");
  assert.equal(slice.args.blockedMs, 5);
  assert.equal(slice.args.inlineArgBytes, 40);
  assert.deepEqual(slice.args.refArgBytes, { [dep]: 500_000 });
});
