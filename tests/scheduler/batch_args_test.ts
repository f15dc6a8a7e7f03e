/**
 * Batches of short tasks sized by their arguments in the store: a batch's
 * dependencies are all restored and pinned at once, so they must fit.
 */
import assert from "node:assert/strict";
import { IdFactory, type ObjectId, objectIdOf, type WorkerId } from "../../runtime/common/mod.ts";
import type { TaskSpec } from "../../runtime/protocol/mod.ts";
import {
  type Instruction,
  LocalScheduler,
  type ObjectStatus,
} from "../../runtime/scheduler/mod.ts";

const ids = new IdFactory();

function task(deps: ObjectId[] = []): TaskSpec {
  return {
    taskId: ids.nextTaskId(),
    fn: { moduleUrl: "file:///fake.ts", key: "f#0", name: "f" },
    args: new Uint8Array(0),
    deps,
    argRefs: deps,
    options: {
      numReturns: 1,
      numCpus: 1,
      resources: {},
      maxRetries: 3,
      retryExceptions: false,
      schedulingStrategy: "DEFAULT",
    },
    parentTaskId: undefined,
    attempt: 0,
  };
}

function dispatches(out: Instruction[]): { workerId: WorkerId; spec: TaskSpec }[] {
  return out.map((i) => {
    assert.equal(i.type, "dispatch", `expected only dispatches, got ${Deno.inspect(i)}`);
    return i as { workerId: WorkerId; spec: TaskSpec };
  });
}

Deno.test("LocalScheduler sizes a batch by its tasks' store arguments and queues none behind it", () => {
  const sizes = new Map<ObjectId, number>();
  const status = new Map<ObjectId, ObjectStatus>();
  const scheduler = new LocalScheduler({
    total: { CPU: 1 },
    objectStatus: (id) => status.get(id) ?? "missing",
    batchBelowMs: 1,
    maxBatch: 100,
    argBytes: (spec) => spec.deps.reduce((n, d) => n + (sizes.get(d) ?? 0), 0),
    batchArgBytes: 20,
  });
  scheduler.workerAdded("w1" as WorkerId);
  const warm = task();
  scheduler.submit(warm);
  scheduler.dispatch();
  scheduler.taskFinished(warm.taskId, 0);
  const deps = Array.from({ length: 10 }, (_, i) => {
    const id = objectIdOf(ids.nextTaskId(), 0);
    status.set(id, "ok");
    sizes.set(id, i === 9 ? 50 : 6);
    return id;
  });
  const specs = deps.map((d) => task([d]));
  for (const s of specs) scheduler.submit(s);
  const first = dispatches(scheduler.dispatch());
  assert.deepStrictEqual(first.map((d) => d.spec), specs.slice(0, 3), "18 bytes fit, 24 do not");
  for (const d of first) scheduler.taskFinished(d.spec.taskId, 0);
  const second = dispatches(scheduler.dispatch());
  assert.deepStrictEqual(second.map((d) => d.spec), specs.slice(3, 6));
  for (const d of second) scheduler.taskFinished(d.spec.taskId, 0);
  const third = dispatches(scheduler.dispatch());
  assert.deepStrictEqual(third.map((d) => d.spec), specs.slice(6, 9));
  for (const d of third) scheduler.taskFinished(d.spec.taskId, 0);
  const last = dispatches(scheduler.dispatch());
  assert.deepStrictEqual(last.map((d) => d.spec), [specs[9]], "a task alone may exceed the bound");
  for (const d of deps.slice(0, 3)) scheduler.submit(task([d]));
  assert.deepStrictEqual(
    dispatches(scheduler.dispatch()),
    [],
    "tasks with store arguments do not queue behind a busy worker",
  );
  scheduler.taskFinished(last[0].spec.taskId, 0);
  assert.equal(dispatches(scheduler.dispatch()).length, 3);
});
