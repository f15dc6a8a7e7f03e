/** The Redis store's write queue: a task's changes merge into its waiting submission, in order. */
import assert from "node:assert/strict";
import type { JobId, NodeId, TaskId } from "../../runtime/common/mod.ts";
import type { ControlStoreEvent, TaskState } from "../../runtime/gcs/mod.ts";
import { eventsOf, WriteQueue } from "../../runtime/gcs/_write_queue.ts";
import { encodeBatch } from "../../runtime/gcs/_redis_codec.ts";
import { spec, taskId } from "./_contract.ts";

const submitted = (id: TaskId): ControlStoreEvent => ({
  type: "taskSubmitted",
  jobId: "j" as JobId,
  spec: spec(id),
  ts: 1,
});
const state = (id: TaskId, s: TaskState, ts = 2): ControlStoreEvent => ({
  type: "taskState",
  taskId: id,
  state: s,
  ts,
});

/** Every event of every entry in the queue, cutting and writing batches until it is empty. */
function drain(q: WriteQueue, max = 1000): ControlStoreEvent[] {
  const out: ControlStoreEvent[] = [];
  while (q.entries > 0) {
    for (const e of q.cut(max).entries) out.push(...eventsOf(e));
    q.done();
  }
  return out;
}

Deno.test("a task's changes merge into its waiting submission: one entry, every event kept", () => {
  const q = new WriteQueue();
  const a = taskId(), b = taskId();
  const events = [
    submitted(a),
    submitted(b),
    state(a, "running"),
    { type: "kvPut", key: "k", value: "v" } as ControlStoreEvent,
    state(b, "running"),
    state(a, "finished", 3),
    state(b, "failed", 3),
  ];
  for (const e of events) q.push(e);
  assert.equal(q.entries, 3);
  assert.equal(q.events, 7);
  const out = drain(q);
  assert.equal(out.length, 7);
  // Each task's events stay in order, right after its submission.
  assert.deepEqual(out.map((e) => e.type === "taskState" ? e.state : e.type), [
    "taskSubmitted",
    "running",
    "finished",
    "taskSubmitted",
    "running",
    "failed",
    "kvPut",
  ]);
  assert.equal(q.events, 0);
});

Deno.test("changes after a cut, a pin or the end of a task are queued behind, not merged", () => {
  const q = new WriteQueue();
  const a = taskId(), b = taskId(), c = taskId();
  q.push(submitted(a));
  q.push(submitted(b));
  q.push(submitted(c));
  q.push(state(c, "finished"));
  const first = q.cut(2);
  assert.equal(first.entries.length, 2);
  q.push(state(a, "running")); // a's batch is cut: a plain entry behind
  q.push({ type: "lineagePinned", taskId: c });
  q.push(state(c, "ready", 4)); // c ended: behind the pin
  assert.equal(q.entries, 6);
  assert.equal(q.events, 7);
  q.done();
  const rest = drain(q);
  assert.deepEqual(
    rest.map((e) => e.type === "taskState" ? `${e.taskId === a ? "a" : "c"}:${e.state}` : e.type),
    [
      "taskSubmitted",
      "c:finished",
      "a:running",
      "lineagePinned",
      "c:ready",
    ],
  );
});

Deno.test("a task submitted again while its first submission waits keeps both, in order", () => {
  const q = new WriteQueue();
  const a = taskId();
  q.push(submitted(a));
  q.push(state(a, "failed"));
  q.push(submitted(a));
  q.push(state(a, "running", 5));
  const out = drain(q);
  assert.deepEqual(out.map((e) => e.type === "taskState" ? e.state : e.type), [
    "taskSubmitted",
    "failed",
    "taskSubmitted",
    "running",
  ]);
});

Deno.test("a batch that failed is cut again as it was; events prepended go before it", () => {
  const q = new WriteQueue();
  const a = taskId();
  q.push(submitted(a));
  q.push(state(a, "running"));
  const cut = q.cut(10);
  q.push(state(a, "finished", 3)); // after the cut: plain
  assert.equal(q.cut(10), cut, "the same batch until it is written");
  q.prepend([{ type: "kvPut", key: "alive", value: "1" }]);
  assert.equal(q.events, 4);
  const out = drain(q);
  assert.deepEqual(out.map((e) => e.type === "taskState" ? e.state : e.type), [
    "kvPut",
    "taskSubmitted",
    "running",
    "finished",
  ]);
});

Deno.test("encodeBatch: a merged task is one wire entry with its changes in `then`, no args once ended", () => {
  const q = new WriteQueue();
  const a = taskId(), b = taskId();
  q.push(submitted(a));
  q.push({ ...state(a, "running"), nodeId: "n1" as NodeId } as ControlStoreEvent);
  q.push(state(a, "finished", 3));
  q.push(submitted(b));
  q.push(state(b, "running"));
  const { members, events, json } = encodeBatch(q.cut(100).entries);
  const [wire] = JSON.parse(json);
  assert.equal(wire.length, 2);
  assert.deepEqual(members, [[0, 1, 2], [3, 4]]);
  assert.equal(events.length, 5);
  assert.deepEqual(wire[0].then, [{ state: "running", ts: 2, nodeId: "n1" }, {
    state: "finished",
    ts: 3,
  }]);
  assert.equal(wire[0].args, undefined, "an ended task's arguments are not kept");
  assert.equal(typeof wire[1].args, "string", "a running task's arguments are kept");
});

Deno.test("an ended task with `keep` ended ones queued behind it is counted; encodeBatch sums them", () => {
  const q = new WriteQueue();
  const ids = Array.from({ length: 10 }, () => taskId());
  for (const id of ids) {
    q.push(submitted(id));
    q.push(state(id, "running"));
  }
  for (const id of ids.slice(0, 9)) q.push(state(id, id === ids[0] ? "failed" : "finished", 3));
  const cut = q.cut(1000, 3);
  const counted = cut.entries.map((e) => "sub" in e && e.counted === true);
  // Nine ended: the first six have at least three ended behind them; the running one is written.
  assert.deepEqual(counted, [true, true, true, true, true, true, false, false, false, false]);
  const { json, members } = encodeBatch(cut.entries);
  const [wire] = JSON.parse(json);
  assert.equal(wire.length, 5);
  assert.deepEqual(wire[4], {
    type: "tasksEnded",
    counts: { add: { failed: 1, finished: 5 } },
    n: 6,
  });
  assert.equal(members[4].length, 18, "each counted task's three events are published");
  assert.equal(q.events, 29);
  q.done();
  assert.equal(q.events, 0);
});

Deno.test("pressure counts what the scheduler no longer holds: not tasks still waiting or running", () => {
  const q = new WriteQueue();
  const ids = Array.from({ length: 5 }, () => taskId());
  for (const id of ids) q.push(submitted(id));
  q.push(state(ids[0], "running"));
  assert.equal(q.pressure, 0, "five tasks waiting or running");
  q.push(state(ids[0], "finished", 3));
  q.push({ type: "kvPut", key: "k", value: "v" });
  assert.equal(q.pressure, 2, "an ended task and a plain event");
  q.cut(4); // the ended task (three events) and the next (waiting) one: cut, no longer open
  assert.equal(q.pressure, 3);
  q.done();
  assert.equal(q.pressure, 1);
});

Deno.test("cut(openAfter): an open task submitted after it ends the batch, with what is behind it", () => {
  const q = new WriteQueue();
  const old = taskId(), young = taskId(), ended = taskId();
  q.push({ ...submitted(old), ts: 10 } as ControlStoreEvent);
  q.push({ ...submitted(young), ts: 50 } as ControlStoreEvent);
  q.push({ ...submitted(ended), ts: 60 } as ControlStoreEvent);
  q.push(state(ended, "finished", 61));
  const first = q.cut(100, Infinity, 20);
  assert.deepEqual(first.entries.flatMap(eventsOf).map((e) => e.type), ["taskSubmitted"]);
  q.done();
  assert.equal(q.openAt, 50, "the young open task is at the front");
  const held = q.cut(100, Infinity, 20);
  assert.equal(held.entries.length, 0, "nothing while it is held");
  q.push(state(young, "finished", 70));
  assert.equal(q.openAt, undefined, "it ended: no longer held");
  const rest = q.cut(100, Infinity, 20);
  assert.deepEqual(
    rest.entries.flatMap(eventsOf).map((e) => e.type === "taskState" ? e.state : e.type),
    ["taskSubmitted", "finished", "taskSubmitted", "finished"],
    "each ended task in one entry",
  );
});
