/** LocalScheduler: dispatch, resources, batching, blocking, deaths and retries. */
import assert from "node:assert/strict";
import type { WorkerId } from "../../runtime/common/mod.ts";
import type { TaskSpec } from "../../runtime/protocol/mod.ts";
import {
  cpus,
  type Dispatch,
  dispatches,
  ids,
  none,
  objectId,
  setup,
  task,
  tasks,
} from "./_local.ts";

Deno.test("LocalScheduler dispatches a task with no deps to an idle worker", () => {
  const { scheduler } = setup(1, 1);
  const spec = task();
  scheduler.submit(spec);
  assert.deepStrictEqual(scheduler.dispatch(), [{ type: "dispatch", workerId: "w1", spec }]);
  assert.deepStrictEqual(scheduler.dispatch(), [], "dispatch() hands out each instruction once");
  assert.equal(scheduler.workerOf(spec.taskId), "w1");
});

Deno.test("LocalScheduler asks for a worker when ready work fits but none is idle", () => {
  const { scheduler } = setup(1, 0);
  const spec = task();
  scheduler.submit(spec);
  assert.deepStrictEqual(scheduler.dispatch(), [{ type: "spawnWorker", count: 1 }]);
  scheduler.workerAdded("w9" as WorkerId);
  assert.deepStrictEqual(scheduler.dispatch(), [{ type: "dispatch", workerId: "w9", spec }]);
});

Deno.test("LocalScheduler does not ask for a worker when ready work does not fit the CPUs", () => {
  const { scheduler } = setup(1, 1);
  scheduler.submit(task());
  scheduler.submit(task());
  assert.equal(dispatches(scheduler.dispatch()).length, 1);
  assert.deepStrictEqual(scheduler.dispatch(), []);
});

Deno.test("LocalScheduler dispatches at once when every dep already exists", () => {
  const { scheduler, objects } = setup(1, 1);
  const dep = objectId();
  objects.set(dep, "ok");
  const spec = task([dep]);
  scheduler.submit(spec);
  assert.deepStrictEqual(dispatches(scheduler.dispatch()).map((d) => d.spec), [spec]);
});

Deno.test("LocalScheduler holds a task with a missing dep until objectCreated()", () => {
  const { scheduler } = setup(1, 1);
  const dep = objectId();
  const spec = task([dep]);
  scheduler.submit(spec);
  assert.deepStrictEqual(scheduler.dispatch(), []);
  assert.deepStrictEqual(tasks(scheduler), { ...none, queued: 1 });
  scheduler.objectCreated(objectId(), false);
  assert.deepStrictEqual(scheduler.dispatch(), [], "an unrelated object releases nothing");
  scheduler.objectCreated(dep, false);
  assert.deepStrictEqual(scheduler.dispatch(), [{ type: "dispatch", workerId: "w1", spec }]);
});

Deno.test("LocalScheduler waits for every missing dep, counting a repeated dep once", () => {
  const { scheduler } = setup(1, 1);
  const a = objectId();
  const b = objectId();
  const spec = task([a, b, a]);
  scheduler.submit(spec);
  scheduler.objectCreated(a, false);
  assert.deepStrictEqual(scheduler.dispatch(), []);
  scheduler.objectCreated(b, false);
  assert.deepStrictEqual(dispatches(scheduler.dispatch()).map((d) => d.spec), [spec]);
});

Deno.test("LocalScheduler releases every task waiting on one object when it appears", () => {
  const { scheduler } = setup(10, 10);
  const dep = objectId();
  const specs = Array.from({ length: 10 }, () => task([dep]));
  for (const s of specs) scheduler.submit(s);
  assert.deepStrictEqual(scheduler.dispatch(), []);
  scheduler.objectCreated(dep, false);
  const out = dispatches(scheduler.dispatch());
  assert.deepStrictEqual(out.map((d) => d.spec), specs, "released in submission order");
  assert.equal(new Set(out.map((d) => d.workerId)).size, 10, "one task per worker");
});

Deno.test("LocalScheduler emits propagate for a dep that already holds an error", () => {
  const { scheduler, objects } = setup(1, 1);
  const ok = objectId();
  const bad = objectId();
  objects.set(ok, "ok");
  objects.set(bad, "error");
  const spec = task([ok, bad]);
  scheduler.submit(spec);
  assert.deepStrictEqual(scheduler.dispatch(), [{ type: "propagate", spec, errorObject: bad }]);
  assert.deepStrictEqual(tasks(scheduler), none);
});

Deno.test("LocalScheduler emits propagate when a waited-on dep arrives as an error", () => {
  const { scheduler } = setup(1, 1);
  const a = objectId();
  const b = objectId();
  const spec = task([a, b]);
  scheduler.submit(spec);
  scheduler.objectCreated(a, true);
  assert.deepStrictEqual(scheduler.dispatch(), [{ type: "propagate", spec, errorObject: a }]);
  scheduler.objectCreated(b, false);
  assert.deepStrictEqual(scheduler.dispatch(), [], "a propagated task never dispatches");
  assert.deepStrictEqual(tasks(scheduler), none);
});

Deno.test("LocalScheduler respects the CPU limit: 2 CPUs, 2 workers, 5 tasks", () => {
  const { scheduler } = setup(2, 2);
  const specs = Array.from({ length: 5 }, () => task());
  for (const s of specs) scheduler.submit(s);
  let running = dispatches(scheduler.dispatch());
  assert.deepStrictEqual(running.map((d) => d.spec), specs.slice(0, 2));
  assert.deepStrictEqual(running.map((d) => d.workerId).sort(), ["w1", "w2"]);
  assert.deepStrictEqual(tasks(scheduler), { queued: 3, running: 2, blocked: 0 });
  assert.equal(cpus(scheduler), 2);
  assert.deepStrictEqual(scheduler.dispatch(), []);
  for (let next = 2; next < 5; next++) {
    const finished = running[0];
    assert.equal(scheduler.taskFinished(finished.spec.taskId, 50), "done");
    const started = dispatches(scheduler.dispatch());
    assert.equal(started.length, 1, `one dispatch after finishing task ${next - 2}`);
    assert.equal(started[0].spec, specs[next]);
    assert.equal(started[0].workerId, finished.workerId, "the freed worker gets the next task");
    running = [running[1], started[0]];
  }
  for (const d of running) scheduler.taskFinished(d.spec.taskId, 50);
  assert.deepStrictEqual(scheduler.dispatch(), []);
  assert.deepStrictEqual(tasks(scheduler), none);
  assert.equal(cpus(scheduler), 0);
});

Deno.test("LocalScheduler packs fractional CPU tasks up to the CPU total", () => {
  const { scheduler } = setup(1, 4);
  for (let i = 0; i < 4; i++) scheduler.submit(task([], { numCpus: 0.5 }));
  assert.equal(dispatches(scheduler.dispatch()).length, 2);
  assert.equal(cpus(scheduler), 1);
});

Deno.test("LocalScheduler runs zero-CPU tasks on every idle worker", () => {
  const { scheduler } = setup(1, 3);
  for (let i = 0; i < 3; i++) scheduler.submit(task([], { numCpus: 0 }));
  assert.equal(dispatches(scheduler.dispatch()).length, 3);
  assert.equal(cpus(scheduler), 0);
});

Deno.test("LocalScheduler reports infeasible for a task asking for more than the node has", () => {
  const { scheduler } = setup(2, 2);
  const huge = task([], { numCpus: 4 });
  const gpu = task([], { resources: { GPU: 1 } });
  scheduler.submit(huge);
  scheduler.submit(gpu);
  assert.deepStrictEqual(scheduler.dispatch(), [
    { type: "infeasible", spec: huge, resource: "CPU" },
    { type: "infeasible", spec: gpu, resource: "GPU" },
  ]);
  assert.deepStrictEqual(tasks(scheduler), none);
});

Deno.test("LocalScheduler holds custom resources per task from dispatch to finish", () => {
  const { scheduler } = setup(4, 3, { total: { CPU: 4, GPU: 1 } });
  const a = task([], { resources: { GPU: 1 } });
  const b = task([], { resources: { GPU: 1 } });
  scheduler.submit(a);
  scheduler.submit(b);
  assert.deepStrictEqual(dispatches(scheduler.dispatch()).map((d) => d.spec), [a]);
  assert.equal(scheduler.counts().used.GPU, 1);
  scheduler.taskFinished(a.taskId, 50);
  assert.equal(scheduler.counts().used.GPU, 0);
  assert.deepStrictEqual(dispatches(scheduler.dispatch()).map((d) => d.spec), [b]);
});

Deno.test("LocalScheduler taskBlocked() frees the CPU so the only worker takes another task", () => {
  const { scheduler } = setup(1, 1);
  const a = task();
  const b = task();
  scheduler.submit(a);
  scheduler.submit(b);
  assert.deepStrictEqual(dispatches(scheduler.dispatch()).map((d) => d.spec), [a]);
  assert.deepStrictEqual(scheduler.dispatch(), []);
  scheduler.taskBlocked(a.taskId);
  assert.deepStrictEqual(tasks(scheduler), { queued: 1, running: 0, blocked: 1 });
  assert.equal(cpus(scheduler), 0);
  assert.deepStrictEqual(scheduler.dispatch(), [{ type: "dispatch", workerId: "w1", spec: b }]);
  assert.deepStrictEqual(tasks(scheduler), { queued: 0, running: 1, blocked: 1 });
  assert.equal(cpus(scheduler), 1);
  scheduler.taskUnblocked(a.taskId);
  assert.deepStrictEqual(tasks(scheduler), { queued: 0, running: 2, blocked: 0 });
  assert.equal(cpus(scheduler), 1, "the worker already holds a CPU");
  scheduler.taskFinished(b.taskId, 50);
  assert.equal(cpus(scheduler), 1, "a still runs");
  scheduler.taskFinished(a.taskId, 50);
  assert.deepStrictEqual(tasks(scheduler), none);
  assert.equal(cpus(scheduler), 0);
});

Deno.test("LocalScheduler taskUnblocked() takes the CPU back for a worker that had none", () => {
  const { scheduler } = setup(1, 1);
  const a = task();
  scheduler.submit(a);
  scheduler.dispatch();
  scheduler.taskBlocked(a.taskId);
  assert.equal(cpus(scheduler), 0);
  scheduler.taskUnblocked(a.taskId);
  assert.equal(cpus(scheduler), 1);
  scheduler.submit(task());
  assert.deepStrictEqual(scheduler.dispatch(), [], "the CPU is taken again");
  scheduler.taskFinished(a.taskId, 50);
  assert.equal(dispatches(scheduler.dispatch()).length, 1);
});

Deno.test("LocalScheduler taskUnblocked() may oversubscribe the CPUs", () => {
  const { scheduler } = setup(1, 2);
  const a = task();
  const b = task();
  scheduler.submit(a);
  scheduler.submit(b);
  scheduler.dispatch();
  scheduler.taskBlocked(a.taskId);
  const [d] = dispatches(scheduler.dispatch());
  assert.equal(d.spec, b);
  assert.equal(d.workerId, "w2", "an empty worker is preferred to one with a blocked task");
  scheduler.taskUnblocked(a.taskId);
  assert.equal(cpus(scheduler), 2);
  scheduler.submit(task());
  assert.deepStrictEqual(scheduler.dispatch(), []);
  scheduler.taskFinished(a.taskId, 50);
  assert.deepStrictEqual(scheduler.dispatch(), []);
  scheduler.taskFinished(b.taskId, 50);
  assert.equal(dispatches(scheduler.dispatch()).length, 1);
});

Deno.test("LocalScheduler taskFinished() of a blocked task does not give its CPU back twice", () => {
  const { scheduler } = setup(1, 2);
  const a = task();
  scheduler.submit(a);
  scheduler.dispatch();
  scheduler.taskBlocked(a.taskId);
  scheduler.taskFinished(a.taskId, 50);
  assert.deepStrictEqual(tasks(scheduler), none);
  assert.equal(cpus(scheduler), 0);
  for (let i = 0; i < 3; i++) scheduler.submit(task());
  assert.equal(dispatches(scheduler.dispatch()).length, 1, "still 1 CPU, not 2");
});

Deno.test("LocalScheduler ignores events for unknown tasks and workers", () => {
  const { scheduler } = setup(1, 1);
  const ghost = ids.nextTaskId();
  assert.equal(scheduler.taskFinished(ghost), "stale");
  scheduler.taskBlocked(ghost);
  scheduler.taskUnblocked(ghost);
  scheduler.workerDied("w42" as WorkerId);
  assert.equal(scheduler.cancel(ghost, { force: false, recursive: false }), false);
  assert.equal(scheduler.workerOf(ghost), undefined);
  assert.deepStrictEqual(scheduler.dispatch(), []);
  assert.deepStrictEqual(tasks(scheduler), none);
});

Deno.test("LocalScheduler workerDied() retries running tasks up to maxRetries then emits crashed", () => {
  const { scheduler } = setup(1, 0);
  const spec = task([], { maxRetries: 2 });
  scheduler.submit(spec);
  const attempts: number[] = [];
  for (let i = 1; i <= 3; i++) {
    const w = `w${i}` as WorkerId;
    scheduler.workerAdded(w);
    const [d] = dispatches(scheduler.dispatch().filter((x) => x.type !== "spawnWorker"));
    assert.equal(d.workerId, w);
    assert.equal(d.spec.taskId, spec.taskId);
    attempts.push(d.spec.attempt);
    scheduler.workerDied(w);
    assert.equal(cpus(scheduler), 0);
  }
  assert.deepStrictEqual(attempts, [0, 1, 2]);
  assert.deepStrictEqual(scheduler.dispatch(), [{ type: "crashed", spec, workerId: "w3" }]);
  assert.deepStrictEqual(tasks(scheduler), none);
});

Deno.test("LocalScheduler workerDied() with maxRetries 0 emits crashed at once", () => {
  const { scheduler } = setup(1, 1);
  const spec = task([], { maxRetries: 0 });
  scheduler.submit(spec);
  scheduler.dispatch();
  scheduler.workerDied("w1" as WorkerId);
  assert.deepStrictEqual(scheduler.dispatch(), [{ type: "crashed", spec, workerId: "w1" }]);
});

Deno.test("LocalScheduler workerDied() with maxRetries -1 retries forever", () => {
  const { scheduler } = setup(1, 0);
  const spec = task([], { maxRetries: -1 });
  scheduler.submit(spec);
  scheduler.dispatch();
  for (let i = 0; i < 100; i++) {
    const w = `w${i}` as WorkerId;
    scheduler.workerAdded(w);
    assert.deepStrictEqual(scheduler.dispatch(), [{ type: "dispatch", workerId: w, spec }]);
    assert.equal(spec.attempt, i);
    scheduler.workerDied(w);
  }
  assert.deepStrictEqual(tasks(scheduler), { ...none, queued: 1 });
});

Deno.test("LocalScheduler workerDied() frees the dead worker's CPU for queued work", () => {
  const { scheduler } = setup(1, 2);
  const a = task([], { maxRetries: 0 });
  const b = task();
  scheduler.submit(a);
  scheduler.submit(b);
  const [first] = dispatches(scheduler.dispatch());
  assert.equal(first.spec, a);
  scheduler.workerDied(first.workerId);
  assert.deepStrictEqual(scheduler.dispatch(), [
    { type: "crashed", spec: a, workerId: first.workerId },
    { type: "dispatch", workerId: "w2", spec: b },
  ]);
  assert.deepStrictEqual(tasks(scheduler), { queued: 0, running: 1, blocked: 0 });
  assert.equal(cpus(scheduler), 1);
});

Deno.test("LocalScheduler workerDied() retries a blocked task and the one sharing its worker", () => {
  const { scheduler } = setup(1, 1);
  const a = task();
  const b = task();
  scheduler.submit(a);
  scheduler.submit(b);
  scheduler.dispatch();
  scheduler.taskBlocked(a.taskId);
  scheduler.dispatch();
  scheduler.workerDied("w1" as WorkerId);
  assert.deepStrictEqual(tasks(scheduler), { ...none, queued: 2 });
  assert.equal(cpus(scheduler), 0);
  scheduler.workerAdded("w2" as WorkerId);
  const [d] = dispatches(scheduler.dispatch());
  assert.equal(d.spec.attempt, 1);
});

Deno.test("LocalScheduler taskFinished() retries a failed task with retryExceptions", () => {
  const { scheduler } = setup(1, 1);
  const spec = task([], { retryExceptions: true, maxRetries: 1 });
  scheduler.submit(spec);
  scheduler.dispatch();
  assert.equal(scheduler.taskFinished(spec.taskId, 50, true), "retry");
  assert.equal(spec.attempt, 1);
  assert.deepStrictEqual(scheduler.dispatch(), [{ type: "dispatch", workerId: "w1", spec }]);
  assert.equal(scheduler.taskFinished(spec.taskId, 50, true), "done", "retries ran out");
  assert.deepStrictEqual(tasks(scheduler), none);
});

Deno.test("LocalScheduler taskFinished() does not retry a failed task without retryExceptions", () => {
  const { scheduler } = setup(1, 1);
  const spec = task([], { maxRetries: 5 });
  scheduler.submit(spec);
  scheduler.dispatch();
  assert.equal(scheduler.taskFinished(spec.taskId, 50, true), "done");
  assert.equal(spec.attempt, 0);
});

Deno.test("LocalScheduler counts() counts waiting and ready tasks as queued", () => {
  const { scheduler } = setup(2, 2);
  assert.deepStrictEqual(scheduler.counts(), { ...none, used: {} });
  scheduler.submit(task([objectId()]));
  const specs = Array.from({ length: 3 }, () => task());
  for (const s of specs) scheduler.submit(s);
  assert.deepStrictEqual(tasks(scheduler), { queued: 4, running: 0, blocked: 0 });
  scheduler.dispatch();
  assert.deepStrictEqual(tasks(scheduler), { queued: 2, running: 2, blocked: 0 });
  assert.equal(cpus(scheduler), 2);
  scheduler.taskBlocked(specs[0].taskId);
  assert.deepStrictEqual(tasks(scheduler), { queued: 2, running: 1, blocked: 1 });
  scheduler.taskFinished(specs[0].taskId, 50);
  scheduler.dispatch();
  assert.deepStrictEqual(tasks(scheduler), { queued: 1, running: 2, blocked: 0 });
});

Deno.test("LocalScheduler counts() returns a copy of the resources in use", () => {
  const { scheduler } = setup(1, 1);
  scheduler.submit(task());
  scheduler.dispatch();
  scheduler.counts().used.CPU = 0;
  assert.equal(cpus(scheduler), 1);
});

Deno.test("LocalScheduler batches tasks of a short function across idle workers", () => {
  const { scheduler } = setup(2, 2, { batchBelowMs: 1 });
  const warm = task();
  scheduler.submit(warm);
  scheduler.dispatch();
  scheduler.taskFinished(warm.taskId, 0.1);
  const specs = Array.from({ length: 10 }, () => task());
  for (const s of specs) scheduler.submit(s);
  const out = dispatches(scheduler.dispatch());
  assert.deepStrictEqual(out.map((d) => d.spec), specs, "all dispatched, in order");
  const perWorker = Map.groupBy(out, (d) => d.workerId);
  assert.deepStrictEqual([...perWorker.values()].map((l) => l.length), [5, 5]);
  assert.equal(cpus(scheduler), 2, "a worker holds one task's CPUs for its whole batch");
  const w1 = perWorker.get("w1" as WorkerId)!;
  for (const d of w1.slice(0, 4)) scheduler.taskFinished(d.spec.taskId, 0.1);
  assert.equal(cpus(scheduler), 2);
  scheduler.taskFinished(w1[4].spec.taskId, 0.1);
  assert.equal(cpus(scheduler), 1);
});

Deno.test("LocalScheduler caps a batch at maxBatch", () => {
  const { scheduler } = setup(1, 1, { batchBelowMs: 1, maxBatch: 3 });
  const warm = task();
  scheduler.submit(warm);
  scheduler.dispatch();
  scheduler.taskFinished(warm.taskId, 0);
  for (let i = 0; i < 10; i++) scheduler.submit(task());
  const out = dispatches(scheduler.dispatch());
  assert.equal(out.length, 6, "one batch of 3, and one more queued behind it");
  assert.ok(out.every((d) => d.workerId === out[0].workerId));
  for (const d of out.slice(0, 3)) scheduler.taskFinished(d.spec.taskId, 0);
  assert.equal(dispatches(scheduler.dispatch()).length, 3, "room for one batch again");
});

Deno.test("LocalScheduler queues no batch behind a worker running a slow task", () => {
  const { scheduler } = setup(1, 1, { batchBelowMs: 1, maxBatch: 3 });
  const fast = task();
  scheduler.submit(fast);
  scheduler.dispatch();
  scheduler.taskFinished(fast.taskId, 0);
  const slow = task([], {}, { fnName: "slow" });
  scheduler.submit(slow);
  assert.equal(dispatches(scheduler.dispatch()).length, 1);
  for (let i = 0; i < 5; i++) scheduler.submit(task());
  assert.deepStrictEqual(
    dispatches(scheduler.dispatch()),
    [],
    "nothing waits behind an unknown task",
  );
});

Deno.test("LocalScheduler does not batch slow functions, other functions or custom resources", () => {
  const { scheduler } = setup(1, 1, { batchBelowMs: 1, total: { CPU: 1, GPU: 10 } });
  const slow = task([], {}, { fnName: "slow" });
  scheduler.submit(slow);
  scheduler.dispatch();
  scheduler.taskFinished(slow.taskId, 5);
  for (let i = 0; i < 3; i++) scheduler.submit(task([], {}, { fnName: "slow" }));
  let out = dispatches(scheduler.dispatch());
  assert.equal(out.length, 1, "slow function");
  for (const d of out) scheduler.taskFinished(d.spec.taskId, 5);
  scheduler.dispatch().forEach((d) => scheduler.taskFinished((d as Dispatch).spec.taskId, 5));
  scheduler.dispatch().forEach((d) => scheduler.taskFinished((d as Dispatch).spec.taskId, 5));
  assert.deepStrictEqual(tasks(scheduler), none);

  const fast = task([], {}, { fnName: "fast" });
  scheduler.submit(fast);
  scheduler.dispatch();
  scheduler.taskFinished(fast.taskId, 0);
  scheduler.submit(task([], {}, { fnName: "fast" }));
  scheduler.submit(task([], {}, { fnName: "other" }));
  scheduler.submit(task([], {}, { fnName: "fast" }));
  out = dispatches(scheduler.dispatch());
  assert.deepStrictEqual(
    out.map((d) => d.spec.fn.name),
    ["fast"],
    "a batch stops at another function",
  );
  scheduler.taskFinished(out[0].spec.taskId, 0);
  out = dispatches(scheduler.dispatch());
  scheduler.taskFinished(out[0].spec.taskId, 0);
  scheduler.dispatch().forEach((d) => scheduler.taskFinished((d as Dispatch).spec.taskId, 0));

  for (let i = 0; i < 3; i++) {
    scheduler.submit(task([], { resources: { GPU: 1 } }, { fnName: "fast" }));
  }
  assert.equal(dispatches(scheduler.dispatch()).length, 1, "custom resources");
});

Deno.test("LocalScheduler keeps FIFO order through many submissions and finishes", () => {
  const { scheduler } = setup(1, 1);
  const specs = Array.from({ length: 5000 }, () => task());
  for (const s of specs) scheduler.submit(s);
  const order: TaskSpec[] = [];
  for (let i = 0; i < specs.length; i++) {
    const [d] = dispatches(scheduler.dispatch());
    order.push(d.spec);
    scheduler.taskFinished(d.spec.taskId, 50);
  }
  assert.ok(order.every((s, i) => s === specs[i]), "dispatch order differs from submit order");
  assert.deepStrictEqual(tasks(scheduler), none);
});

Deno.test("hold() takes resources outside any task until release(), and tasks wait meanwhile", () => {
  const { scheduler } = setup(2, 2);
  assert.equal(scheduler.hold({ CPU: 1.5 }), true);
  assert.equal(scheduler.hold({ CPU: 1 }), false);
  assert.equal(cpus(scheduler), 1.5);
  scheduler.submit(task());
  assert.deepEqual(scheduler.dispatch(), []);
  scheduler.release({ CPU: 1.5 });
  assert.equal(dispatches(scheduler.dispatch()).length, 1);
});

Deno.test("LocalScheduler race: a dead worker's late result is stale once the task moved", () => {
  const { scheduler } = setup(2, 2);
  const t = task([], { maxRetries: 1 });
  scheduler.submit(t);
  const [first] = dispatches(scheduler.dispatch());
  scheduler.workerDied(first.workerId);
  const [second] = dispatches(scheduler.dispatch());
  assert.notEqual(second.workerId, first.workerId);
  assert.equal(scheduler.taskFinished(t.taskId, 1, false, first.workerId), "stale");
  assert.equal(scheduler.taskFinished(t.taskId, 1, false, second.workerId), "done");
  assert.deepStrictEqual(tasks(scheduler), none);
});

Deno.test("LocalScheduler race: a duplicate result while a retry is queued is stale", () => {
  const { scheduler } = setup(1, 1);
  const t = task([], { retryExceptions: true, maxRetries: 1 });
  scheduler.submit(t);
  scheduler.dispatch();
  assert.equal(scheduler.taskFinished(t.taskId, 1, true, "w1" as WorkerId), "retry");
  assert.equal(scheduler.taskFinished(t.taskId, 1, true, "w1" as WorkerId), "stale");
  assert.equal(dispatches(scheduler.dispatch()).length, 1, "the retry runs");
});

Deno.test("LocalScheduler offers what it cannot place to spillback", () => {
  const taken: TaskSpec[] = [];
  const { scheduler } = setup(1, 0, {
    spillback: (spec) => (taken.push(spec), true),
    spillbackQueueLength: 2,
  });
  const big = task([], { numCpus: 8 });
  scheduler.submit(big);
  const queued = [task(), task(), task(), task()];
  for (const t of queued) scheduler.submit(t);
  const out = scheduler.dispatch().filter((i) => i.type !== "spawnWorker");
  assert.deepStrictEqual(out, [
    { type: "spilledBack", spec: big },
    { type: "spilledBack", spec: queued[2] },
    { type: "spilledBack", spec: queued[3] },
  ]);
  assert.deepStrictEqual(taken, [big, queued[2], queued[3]]);
});

Deno.test("LocalScheduler without spillback keeps a long queue and fails what can never fit", () => {
  const { scheduler } = setup(1, 0, { spillbackQueueLength: 1 });
  const big = task([], { numCpus: 8 });
  scheduler.submit(big);
  for (let i = 0; i < 3; i++) scheduler.submit(task());
  const out = scheduler.dispatch().filter((i) => i.type !== "spawnWorker");
  assert.deepStrictEqual(out, [{ type: "infeasible", spec: big, resource: "CPU" }]);
  assert.equal(scheduler.counts().queued, 3);
});

Deno.test("LocalScheduler averageMs() gives a task's function's mean time once one has finished", () => {
  const { scheduler } = setup(1, 1);
  const first = task([], {}, { fnName: "slow" });
  scheduler.submit(first);
  assert.equal(scheduler.averageMs(first.taskId), undefined, "nothing has finished yet");
  dispatches(scheduler.dispatch());
  scheduler.taskFinished(first.taskId, 40);
  const second = task([], {}, { fnName: "slow" });
  const other = task([], {}, { fnName: "fresh" });
  scheduler.submit(second);
  scheduler.submit(other);
  assert.equal(scheduler.averageMs(second.taskId), 40);
  assert.equal(scheduler.averageMs(other.taskId), undefined, "another function is not known yet");
  assert.equal(scheduler.averageMs(first.taskId), undefined, "a finished task is forgotten");
});

Deno.test("LocalScheduler: queued tasks without arguments answer every query, cancel and run in order", () => {
  const { scheduler } = setup(1, 1);
  const busy = task();
  scheduler.submit(busy);
  assert.equal(dispatches(scheduler.dispatch()).length, 1);
  // These queue behind `busy` (one CPU), kept light until something asks.
  const queued = Array.from({ length: 5 }, () => task());
  for (const t of queued) scheduler.submit(t);
  const child = task([], {}, { parentTaskId: queued[1].taskId });
  scheduler.submit(child);
  assert.deepStrictEqual(tasks(scheduler), { queued: 6, running: 1, blocked: 0 });
  assert.ok(scheduler.knows(queued[0].taskId));
  assert.equal(scheduler.isBlocked(queued[0].taskId), false);
  assert.equal(scheduler.workerOf(queued[0].taskId), undefined);
  assert.equal(scheduler.averageMs(queued[0].taskId), undefined);
  assert.deepStrictEqual(scheduler.waiting(2), [queued[0], queued[1]]);
  // A recursive cancel of a queued parent reaches its queued child; a queued task cancelled alone.
  assert.equal(scheduler.cancel(queued[1].taskId, { force: false, recursive: true }), true);
  assert.equal(scheduler.cancel(queued[3].taskId, { force: false, recursive: false }), true);
  assert.equal(scheduler.cancel(queued[3].taskId, { force: false, recursive: false }), false);
  const cancelled = scheduler.dispatch();
  assert.deepStrictEqual(
    cancelled.map((i) => i.type === "cancelled" ? i.spec.taskId : i.type).sort(),
    [child.taskId, queued[1].taskId, queued[3].taskId].sort(),
  );
  assert.equal(scheduler.knows(child.taskId), false);
  assert.deepStrictEqual(tasks(scheduler), { queued: 3, running: 1, blocked: 0 });
  // The rest run one by one, in order, skipping the cancelled ones.
  const ran: string[] = [];
  let last = busy;
  for (let i = 0; i < 3; i++) {
    assert.equal(scheduler.taskFinished(last.taskId, 5, false, "w1" as WorkerId), "done");
    const [next] = dispatches(scheduler.dispatch());
    ran.push(next.spec.taskId);
    last = next.spec;
  }
  assert.deepStrictEqual(ran, [queued[0].taskId, queued[2].taskId, queued[4].taskId]);
  assert.equal(scheduler.averageMs(queued[4].taskId), 5, "its function's mean time, running");
  assert.equal(scheduler.taskFinished(last.taskId, 5, false, "w1" as WorkerId), "done");
  assert.deepStrictEqual(tasks(scheduler), none);
  assert.equal(scheduler.size, 0);
});
