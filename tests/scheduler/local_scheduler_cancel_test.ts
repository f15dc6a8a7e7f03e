/** LocalScheduler: cancels of queued and running tasks, and their races with results. */
import assert from "node:assert/strict";
import type { WorkerId } from "../../runtime/common/mod.ts";
import type { Instruction } from "../../runtime/scheduler/mod.ts";
import { cpus, dispatches, none, objectId, setup, task, tasks } from "./_local.ts";

Deno.test("LocalScheduler cancel() drops a waiting or queued task with a cancelled instruction", () => {
  const { scheduler } = setup(1, 1);
  const dep = objectId();
  const waiting = task([dep]);
  const running = task();
  const queued = task();
  scheduler.submit(waiting);
  scheduler.submit(running);
  scheduler.submit(queued);
  scheduler.dispatch();
  assert.equal(scheduler.cancel(waiting.taskId, { force: false, recursive: false }), true);
  assert.equal(scheduler.cancel(queued.taskId, { force: false, recursive: false }), true);
  assert.equal(
    scheduler.cancel(queued.taskId, { force: false, recursive: false }),
    false,
    "only once",
  );
  assert.deepStrictEqual(scheduler.dispatch(), [
    { type: "cancelled", spec: waiting },
    { type: "cancelled", spec: queued },
  ]);
  scheduler.objectCreated(dep, false);
  scheduler.taskFinished(running.taskId, 50);
  assert.deepStrictEqual(scheduler.dispatch(), [], "cancelled tasks never dispatch");
  assert.deepStrictEqual(tasks(scheduler), none);
});

Deno.test("LocalScheduler cancel() of a running task fails it at once, frees its CPU, drops its result", () => {
  const { scheduler } = setup(1, 1);
  const spec = task();
  scheduler.submit(spec);
  scheduler.dispatch();
  assert.equal(cpus(scheduler), 1);
  assert.equal(scheduler.cancel(spec.taskId, { force: false, recursive: false }), true);
  assert.deepStrictEqual(scheduler.dispatch(), [
    { type: "cancelled", spec },
    { type: "abort", workerId: "w1", spec, force: false },
  ]);
  assert.equal(cpus(scheduler), 0, "its CPU is free before it stops");
  assert.deepStrictEqual(tasks(scheduler), none);
  assert.equal(scheduler.workerOf(spec.taskId), "w1", "it still runs there");
  assert.equal(scheduler.hasTasks("w1" as WorkerId), true);
  assert.equal(scheduler.taskFinished(spec.taskId, 50), "cancelled");
  assert.deepStrictEqual(tasks(scheduler), none);
  assert.equal(scheduler.hasTasks("w1" as WorkerId), false);
  assert.equal(cpus(scheduler), 0);
});

Deno.test("LocalScheduler lends a cancelled, still running task's worker to the next task", () => {
  const { scheduler } = setup(1, 1, { total: { CPU: 1, GPU: 1 } });
  const a = task([], { resources: { GPU: 1 } });
  const b = task([], { resources: { GPU: 1 } });
  scheduler.submit(a);
  scheduler.submit(b);
  assert.deepStrictEqual(dispatches(scheduler.dispatch()).map((d) => d.spec), [a]);
  scheduler.cancel(a.taskId, { force: false, recursive: false });
  assert.deepStrictEqual(scheduler.dispatch(), [
    { type: "cancelled", spec: a },
    { type: "abort", workerId: "w1", spec: a, force: false },
    { type: "dispatch", workerId: "w1", spec: b },
  ], "CPU and GPU are free at once: b runs on the same worker");
  scheduler.taskUnblocked(a.taskId);
  scheduler.taskBlocked(a.taskId);
  assert.deepStrictEqual(scheduler.counts().used, { CPU: 1, GPU: 1 }, "a holds nothing");
  assert.equal(scheduler.taskFinished(a.taskId, 60_000, false, "w1" as WorkerId), "cancelled");
  assert.deepStrictEqual(scheduler.counts().used, { CPU: 1, GPU: 1 }, "b's, still");
  assert.equal(scheduler.averageMs(b.taskId), undefined, "a cancelled run is not timed");
  assert.equal(scheduler.taskFinished(b.taskId, 5, false, "w1" as WorkerId), "done");
  assert.deepStrictEqual(scheduler.counts().used, { CPU: 0, GPU: 0 });
});

Deno.test("LocalScheduler a worker that dies with a cancelled task on it fails nothing again", () => {
  const { scheduler } = setup(1, 1);
  const a = task([], { maxRetries: 0 });
  const b = task([], { maxRetries: 0 });
  scheduler.submit(a);
  scheduler.submit(b);
  scheduler.dispatch();
  scheduler.cancel(a.taskId, { force: false, recursive: false });
  assert.deepStrictEqual(scheduler.dispatch().map((i) => i.type), [
    "cancelled",
    "abort",
    "dispatch",
  ]);
  scheduler.workerDied("w1" as WorkerId, true);
  assert.deepStrictEqual(scheduler.dispatch(), [{ type: "spawnWorker", count: 1 }]);
  assert.equal(scheduler.workerOf(a.taskId), undefined);
  assert.equal(cpus(scheduler), 0);
  scheduler.workerAdded("w2" as WorkerId);
  assert.deepStrictEqual(scheduler.dispatch(), [{ type: "dispatch", workerId: "w2", spec: b }]);
  assert.equal(b.attempt, 0, "ended for a cancel: no retry spent");
});

Deno.test("LocalScheduler cancel() with force ends the worker; the others on it run again free", () => {
  const { scheduler } = setup(1, 1);
  const a = task([], { maxRetries: 0 });
  const b = task([], { maxRetries: 0 });
  scheduler.submit(a);
  scheduler.submit(b);
  scheduler.dispatch();
  scheduler.taskBlocked(a.taskId);
  scheduler.dispatch();
  scheduler.cancel(b.taskId, { force: true, recursive: false });
  assert.deepStrictEqual(scheduler.dispatch(), [
    { type: "cancelled", spec: b },
    { type: "abort", workerId: "w1", spec: b, force: true },
  ]);
  scheduler.workerDied("w1" as WorkerId, true);
  assert.deepStrictEqual(scheduler.dispatch(), [{ type: "spawnWorker", count: 1 }]);
  scheduler.workerAdded("w2" as WorkerId);
  assert.deepStrictEqual(scheduler.dispatch(), [{ type: "dispatch", workerId: "w2", spec: a }]);
  assert.equal(a.attempt, 0, "a cancel-kill spends no retry");
});

Deno.test("LocalScheduler cancel() with recursive cancels the tasks the task submitted", () => {
  const { scheduler } = setup(1, 1);
  const parent = task();
  scheduler.submit(parent);
  scheduler.dispatch();
  const child = task([], {}, { parentTaskId: parent.taskId });
  const grandchild = task([objectId()], {}, { parentTaskId: child.taskId });
  const other = task();
  scheduler.submit(child);
  scheduler.submit(grandchild);
  scheduler.submit(other);
  assert.equal(scheduler.cancel(parent.taskId, { force: false, recursive: true }), true);
  const out = scheduler.dispatch();
  assert.deepStrictEqual(
    new Set(out),
    new Set<Instruction>([
      { type: "cancelled", spec: grandchild },
      { type: "cancelled", spec: child },
      { type: "cancelled", spec: parent },
      { type: "abort", workerId: "w1" as WorkerId, spec: parent, force: false, recursive: true },
      { type: "dispatch", workerId: "w1" as WorkerId, spec: other },
    ]),
    "the parent's CPU goes to the other task at once",
  );
  assert.deepStrictEqual(tasks(scheduler), { queued: 0, running: 1, blocked: 0 });
});

Deno.test("LocalScheduler cancel() without recursive leaves the submitted tasks alone", () => {
  const { scheduler } = setup(1, 1);
  const parent = task();
  scheduler.submit(parent);
  scheduler.dispatch();
  scheduler.submit(task([], {}, { parentTaskId: parent.taskId }));
  scheduler.cancel(parent.taskId, { force: false, recursive: false });
  assert.deepStrictEqual(scheduler.dispatch().map((i) => i.type), [
    "cancelled",
    "abort",
    "dispatch",
  ]);
  assert.equal(tasks(scheduler).running, 1, "the child runs");
});

Deno.test("LocalScheduler cancels at once what a cancelled, still running task submits", () => {
  const { scheduler } = setup(1, 1);
  const parent = task();
  scheduler.submit(parent);
  scheduler.dispatch();
  scheduler.cancel(parent.taskId, { force: false, recursive: true });
  scheduler.dispatch();
  const late = task([], {}, { parentTaskId: parent.taskId });
  scheduler.submit(late);
  assert.deepStrictEqual(scheduler.dispatch(), [{ type: "cancelled", spec: late }]);
});

Deno.test("LocalScheduler race: a cancel after the result is too late and does nothing", () => {
  const { scheduler } = setup(1, 1);
  const t = task();
  scheduler.submit(t);
  scheduler.dispatch();
  assert.equal(scheduler.taskFinished(t.taskId, 1, false, "w1" as WorkerId), "done");
  assert.equal(scheduler.cancel(t.taskId, { force: true, recursive: true }), false);
  assert.deepStrictEqual(scheduler.dispatch(), []);
});

Deno.test("LocalScheduler race: a result after a cancel is dropped as cancelled", () => {
  const { scheduler } = setup(1, 1);
  const t = task();
  scheduler.submit(t);
  scheduler.dispatch();
  scheduler.cancel(t.taskId, { force: false, recursive: false });
  assert.deepStrictEqual(scheduler.dispatch(), [
    { type: "cancelled", spec: t },
    { type: "abort", workerId: "w1", spec: t, force: false },
  ]);
  assert.equal(scheduler.taskFinished(t.taskId, 1, false, "w1" as WorkerId), "cancelled");
  assert.equal(scheduler.taskFinished(t.taskId, 1, false, "w1" as WorkerId), "stale");
});

Deno.test("LocalScheduler a forced cancel after a plain one ends the still running task's worker", () => {
  const { scheduler } = setup(1, 1);
  const t = task();
  scheduler.submit(t);
  scheduler.dispatch();
  assert.equal(scheduler.cancel(t.taskId, { force: false, recursive: true }), true);
  assert.deepStrictEqual(scheduler.dispatch().map((i) => i.type), ["cancelled", "abort"]);
  assert.equal(
    scheduler.cancel(t.taskId, { force: false, recursive: true }),
    false,
    "a second plain cancel does nothing",
  );
  assert.equal(scheduler.cancel(t.taskId, { force: true, recursive: true }), true);
  assert.deepStrictEqual(scheduler.dispatch(), [
    { type: "abort", workerId: "w1", spec: t, force: true },
  ], "it failed already: only the worker ends");
  scheduler.workerDied("w1" as WorkerId, true);
  assert.equal(
    scheduler.cancel(t.taskId, { force: true, recursive: true }),
    false,
    "gone with its worker",
  );
});
