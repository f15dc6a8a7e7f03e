/** The worker's Executor and cancels: before the task came, and a value returned after the cancel. */
import assert from "node:assert/strict";
import { IdFactory, RayTaskError, TaskCancelledError } from "../../runtime/common/mod.ts";
import { fromFrame, registerFunction, toFrame } from "../../runtime/core/mod.ts";
import { SharedArena } from "../../runtime/object_store/mod.ts";
import type { RunTask, TaskResult } from "../../runtime/protocol/mod.ts";
import { Executor } from "../../runtime/worker/executor.ts";

const ids = new IdFactory();
const MODULE = "file:///executor_test/fns.ts";
let calls = 0;

const counted = registerFunction(function counted() {
  calls++;
  return "ran";
}, MODULE);

const bigLater = registerFunction(async function bigLater() {
  await new Promise((resolve) => setTimeout(resolve, 20));
  return new Float64Array(64 * 1024).fill(3);
}, MODULE);

function runTask(arena: SharedArena, fn: RunTask["fn"]): RunTask {
  return {
    taskId: ids.nextTaskId(),
    fn,
    args: toFrame([], "arguments", arena),
    deps: [],
    depFrames: [],
    numReturns: 1,
    name: fn.name,
  };
}

function cancelledError(result: TaskResult, arena: SharedArena): void {
  assert.equal(result.failed, true);
  assert.throws(
    () => fromFrame(result.returns[0], arena),
    (err) => err instanceof RayTaskError && err.cause instanceof TaskCancelledError,
  );
}

function newArena(): SharedArena {
  return new SharedArena({ initialBytes: 4 * 1024 * 1024, maxBytes: 4 * 1024 * 1024 });
}

Deno.test("Executor: a task whose cancel came first fails without running", async () => {
  const arena = newArena();
  const executor = new Executor(arena);
  const task = runTask(arena, counted);
  executor.cancel(task.taskId);
  const result = await executor.run(task);
  cancelledError(result, arena);
  assert.equal(calls, 0);
  const again = await executor.run({ ...task, taskId: ids.nextTaskId() });
  assert.equal(again.failed, false, "other tasks run");
  assert.equal(calls, 1);
});

Deno.test("Executor: a value returned after the cancel is not encoded into the store", async () => {
  const arena = newArena();
  const executor = new Executor(arena);
  const task = runTask(arena, bigLater);
  const used = arena.used;
  const pending = executor.run(task);
  assert.ok(pending instanceof Promise);
  executor.cancel(task.taskId);
  const result = await pending;
  cancelledError(result, arena);
  assert.equal(arena.used, used, "nothing allocated for the dropped value");
  const uncancelled = await executor.run(runTask(arena, bigLater));
  assert.equal(uncancelled.failed, false);
  assert.ok(arena.used > used, "the same task's value goes to the store when not cancelled");
});
