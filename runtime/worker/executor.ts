/**
 * Runs one task in a worker: finds the function, rebuilds its arguments,
 * calls it inside the task's context, and turns what it returns or throws
 * into frames.
 *
 * @module
 */
import { objectIdOf, RayTaskError } from "../common/mod.ts";
import {
  errorFrame,
  fromFrame,
  ObjectRef,
  resolveFunction,
  taskContext,
  toFrame,
} from "../core/mod.ts";
import type { SharedArena } from "../object_store/mod.ts";
import type { Frame, RunTask, TaskResult } from "../protocol/mod.ts";
import { taskName } from "../protocol/mod.ts";

function resolveArgs(task: RunTask, arena: SharedArena): unknown[] {
  const args = fromFrame(task.spec.args, arena) as unknown[];
  const { deps } = task.spec;
  if (deps.length === 0) return args;
  const values = new Map<string, unknown>();
  deps.forEach((id, i) => {
    if (!values.has(id)) values.set(id, fromFrame(task.depFrames[i], arena));
  });
  return args.map((a) => a instanceof ObjectRef && values.has(a.id) ? values.get(a.id) : a);
}

function returnFrames(value: unknown, task: RunTask, arena: SharedArena): Frame[] {
  const n = task.spec.options.numReturns;
  if (n === 1) return [toFrame(value, "return value", arena)];
  if (!Array.isArray(value) || value.length !== n) {
    const got = Array.isArray(value) ? `${value.length} values` : "a non-array value";
    throw new TypeError(`Task returned ${got} but numReturns is ${n}`);
  }
  return value.map((v, i) => toFrame(v, `return value[${i}]`, arena));
}

/** Runs `task` and resolves with its result (never rejects). */
export async function execute(task: RunTask, arena: SharedArena): Promise<TaskResult> {
  const { spec } = task;
  try {
    const fn = await resolveFunction(spec.fn);
    const args = resolveArgs(task, arena);
    let value = taskContext.run({ taskId: spec.taskId }, () => fn(...args));
    if (value instanceof Promise) value = await value;
    return { taskId: spec.taskId, returns: returnFrames(value, task, arena), failed: false };
  } catch (err) {
    const frame = errorFrame(new RayTaskError(taskName(spec), err));
    const returns = [];
    for (let i = 0; i < spec.options.numReturns; i++) returns.push(frame);
    return { taskId: spec.taskId, returns, failed: true };
  }
}

/** The object ids a task's results go to. */
export function returnIds(result: TaskResult): string[] {
  return result.returns.map((_, i) => objectIdOf(result.taskId, i));
}
