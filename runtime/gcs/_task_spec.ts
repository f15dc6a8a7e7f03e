/**
 * Rebuilds a task spec from a task record, for lineage reconstruction.
 *
 * @module
 */
import type { TaskSpec } from "../protocol/mod.ts";
import type { TaskRecord } from "./records.ts";

/** The spec of `task`, or `undefined` when the record no longer holds its arguments. */
export function specOf(task: TaskRecord): TaskSpec | undefined {
  if (!task.args || !task.options || task.moduleUrl === undefined || task.fnKey === undefined) {
    return undefined;
  }
  return {
    taskId: task.taskId,
    fn: { moduleUrl: task.moduleUrl, key: task.fnKey, name: task.name },
    args: task.args,
    deps: task.deps,
    // Refs nested deeper in the arguments are not recorded; the top-level ones are.
    argRefs: task.deps,
    options: task.options,
    parentTaskId: task.parentTaskId,
    attempt: task.attempt,
  };
}
