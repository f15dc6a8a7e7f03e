/**
 * The flat form of actor-call records: callers write them (runtime/links),
 * workers send them to the node in `taskRecords`, and the control store
 * keeps them as they came (its `actorCalls` event).
 *
 * One record may stand for a run of calls (`count` > 1): calls made by one
 * thread with task ids `step` apart (`taskId` is the first), to the same
 * actor and method, written in the same millisecond, that all finished in
 * the same turn of their caller, with no ref arguments and the same parent.
 * Their caller cannot tell when each one started: the run's time, from
 * `startedAt` to `endedAt`, is shared evenly among them, in order. A call
 * then costs its caller a few comparisons, not a record of its own.
 *
 * @module
 */
import type { ObjectId, TaskId } from "../common/mod.ts";

/** One value of a flat list of actor-call records. */
export type ActorCallValue = string | number | readonly ObjectId[];

/**
 * Where each field of a record is in a flat list of actor-call records,
 * relative to the record's first value. Strings that are absent are `""`.
 */
export const ACTOR_CALL = {
  /** The task id of the (first) call. */
  taskId: 0,
  actorId: 1,
  method: 2,
  /** `running`, `finished`, `failed` or `cancelled`. */
  state: 3,
  attempt: 4,
  /** When it was written to the link (ms since the epoch). */
  submittedAt: 5,
  startedAt: 6,
  /** When its result was read (0 while running). */
  endedAt: 7,
  numReturns: 8,
  /** Its top-level ref arguments (an ObjectId[]). */
  deps: 9,
  /** The task that made the call (`""` for the driver). */
  parentTaskId: 10,
  /** Why it failed or was cancelled. */
  error: 11,
  /** Calls in the run (1: a record of one call). */
  count: 12,
  /** How far apart the counters of the run's task ids are. */
  step: 13,
} as const;

/** Values per record in a flat list of actor-call records. */
export const ACTOR_CALL_STRIDE = 14;

/** Hex digits of a task id's counter (its end; runtime/common/ids.ts). */
const COUNTER_HEX = 8;

/** The counter at the end of task id `id` (consecutive ids of one thread count up by one). */
export function taskCounterOf(id: string): number {
  return parseInt(id.slice(id.length - COUNTER_HEX), 16);
}

/** The task id of call `k` (0-based) of the run whose record starts at `i` of `calls`. */
export function runTaskId(calls: readonly ActorCallValue[], i: number, k: number): TaskId {
  const first = calls[i + ACTOR_CALL.taskId] as string;
  if (k === 0) return first as TaskId;
  const n = taskCounterOf(first) + k * (calls[i + ACTOR_CALL.step] as number);
  const prefix = first.slice(0, first.length - COUNTER_HEX);
  return (prefix + n.toString(16).padStart(COUNTER_HEX, "0")) as TaskId;
}

/**
 * Where call `id` is in the run whose record starts at `i` of `calls`
 * (0-based), or -1 when it is not one of its calls.
 */
export function runIndexOf(calls: readonly ActorCallValue[], i: number, id: string): number {
  const first = calls[i + ACTOR_CALL.taskId] as string;
  if (first === id) return 0;
  const count = calls[i + ACTOR_CALL.count] as number;
  if (count === 1 || id.length !== first.length) return -1;
  const prefix = first.length - COUNTER_HEX;
  if (id.slice(0, prefix) !== first.slice(0, prefix)) return -1;
  const d = taskCounterOf(id) - taskCounterOf(first);
  const step = calls[i + ACTOR_CALL.step] as number;
  const k = d / step;
  return Number.isInteger(k) && k > 0 && k < count ? k : -1;
}

/**
 * The start and end of call `k` of the run whose record starts at `i`: the
 * run's time shared evenly among its calls.
 */
export function runTimes(calls: readonly ActorCallValue[], i: number, k: number): [number, number] {
  const start = calls[i + ACTOR_CALL.startedAt] as number;
  const end = calls[i + ACTOR_CALL.endedAt] as number;
  const count = calls[i + ACTOR_CALL.count] as number;
  if (count === 1) return [start, end];
  const each = (end - start) / count;
  return [start + each * k, start + each * (k + 1)];
}
