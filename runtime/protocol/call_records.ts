/**
 * The flat form of actor-call records: callers write them (runtime/links),
 * workers send them to the node in `taskRecords`, and the control store
 * keeps them as they came (its `actorCalls` event).
 *
 * @module
 */
import type { ObjectId } from "../common/mod.ts";

/** One value of a flat list of actor-call records. */
export type ActorCallValue = string | number | readonly ObjectId[];

/**
 * Where each field of a call is in a flat list of actor-call records,
 * relative to the call's first value. Strings that are absent are `""`.
 */
export const ACTOR_CALL = {
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
} as const;

/** Values per call in a flat list of actor-call records. */
export const ACTOR_CALL_STRIDE = 12;
