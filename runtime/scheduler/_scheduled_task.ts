/**
 * The local scheduler's record of a task it holds, and the light form of a
 * queued task (its spec alone) until the scheduler needs more.
 *
 * @module
 */
import type { WorkerId } from "../common/mod.ts";
import { fnKeyOf, type TaskSpec } from "../protocol/mod.ts";
import type { Resources } from "./resources.ts";

/**
 * Where a task is in this scheduler (the control store's `TaskState` is what users see).
 * "cancelling": cancelled while on a worker that still runs it (it holds nothing; its result is dropped).
 */
export type TaskPhase = "waiting" | "ready" | "running" | "blocked" | "cancelling" | "gone";

/** The scheduler's own record of a task it holds. */
export interface ScheduledTask {
  readonly spec: TaskSpec;
  readonly demand: Resources;
  readonly fnKey: string;
  state: TaskPhase;
  missing: number;
  workerId?: WorkerId;
  cancelled: boolean;
}

/**
 * A task that came ready, with no arguments to wait for, and has not been
 * touched since: kept as its spec alone, in `#tasks` and the ready queue (no
 * ScheduledTask and its 72 bytes for each of a million queued tasks), and
 * made a ScheduledTask when it is dispatched or anything asks for it.
 */
export type Light = TaskSpec;

/** An entry of `#tasks` or the ready queue. */
export type Entry = ScheduledTask | Light;

/** True for a light entry (a spec; a ScheduledTask has none of its own fields). */
export function isLight(e: Entry): e is Light {
  return "taskId" in e;
}

/** What a ready-queue entry of a task that left stands for: skipped. */
export const GONE: ScheduledTask = Object.freeze({
  spec: undefined as unknown as TaskSpec,
  demand: {},
  fnKey: "",
  state: "gone" as const,
  missing: 0,
  cancelled: false,
}) as ScheduledTask;

/** A task as the scheduler first holds it: waiting for its arguments. */
export function newTask(spec: TaskSpec, demand: Resources): ScheduledTask {
  return { spec, demand, fnKey: fnKeyOf(spec.fn), state: "waiting", missing: 0, cancelled: false };
}
