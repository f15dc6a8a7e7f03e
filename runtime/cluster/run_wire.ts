/**
 * Tasks as they travel in a `run` message: each a tuple, with the function
 * descriptors and options that many tasks share sent once per message as
 * rows of two tables. Packing a tuple costs a fraction of packing a spec
 * object with its nested options, and the receiver's specs share one
 * options object per row (its control store encodes each once per batch).
 *
 * @module
 */
import type { JobId, ObjectId, TaskId } from "../common/mod.ts";
import type { Frame, FunctionDescriptor, TaskOptions, TaskSpec } from "../protocol/mod.ts";
import type { CodeRefs } from "./messages.ts";

/** One task: `[taskId, fn row, options row, args, deps, argRefs, attempt, jobId?, parentTaskId?]`. */
export type WireTask = readonly [
  taskId: TaskId,
  fn: number,
  options: number,
  args: Frame | ObjectId,
  deps: readonly ObjectId[],
  argRefs: readonly ObjectId[],
  attempt: number,
  jobId?: JobId,
  parentTaskId?: TaskId,
];

/** `run`: tasks for the receiver, owned by the process at `owner`. */
export interface RunMessage {
  /** The owner's address (results are held for it; `finished` goes there). */
  readonly owner: string;
  /** The functions the tasks name (`WireTask` fn rows). */
  readonly fns: readonly FunctionDescriptor[];
  /** The options the tasks name (`WireTask` options rows). */
  readonly options: readonly TaskOptions[];
  readonly tasks: readonly WireTask[];
  /** The code graphs of the functions' `file:` modules (see code_shipping.ts). */
  readonly code?: CodeRefs;
}

/** The `run` message of `specs` (their `args` already inline or an object id). */
export function packRun(owner: string, specs: readonly TaskSpec[]): RunMessage {
  const fns: FunctionDescriptor[] = [];
  const options: TaskOptions[] = [];
  const fnRow = new Map<FunctionDescriptor, number>();
  const optionsRow = new Map<TaskOptions, number>();
  const tasks = specs.map((s): WireTask => {
    let f = fnRow.get(s.fn);
    if (f === undefined) fnRow.set(s.fn, f = fns.push(s.fn) - 1);
    let o = optionsRow.get(s.options);
    if (o === undefined) optionsRow.set(s.options, o = options.push(s.options) - 1);
    const t = [s.taskId, f, o, s.args, s.deps, s.argRefs, s.attempt, s.jobId] as const;
    return s.parentTaskId === undefined ? t : [...t, s.parentTaskId];
  });
  return { owner, fns, options, tasks };
}

/** The specs of a `run` message; a row the message lacks is a TypeError naming it. */
export function unpackRun({ fns, options, tasks }: RunMessage): TaskSpec[] {
  if (!Array.isArray(fns) || !Array.isArray(options) || !Array.isArray(tasks)) {
    throw new TypeError("a run message needs fns, options and tasks arrays");
  }
  return tasks.map(([taskId, f, o, args, deps, argRefs, attempt, jobId, parentTaskId]) => {
    const fn = fns[f];
    const opts = options[o];
    if (fn === undefined || opts === undefined) {
      throw new TypeError(`task ${taskId} names a function or options row the message lacks`);
    }
    // The fields in the order the submitting side makes them (one object shape).
    return { taskId, fn, args, deps, argRefs, options: opts, parentTaskId, attempt, jobId };
  });
}
