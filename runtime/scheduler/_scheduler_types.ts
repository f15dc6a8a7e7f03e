/**
 * What goes in and out of the local scheduler (runtime/scheduler/local_scheduler.ts):
 * its instructions, its options, and what it is told of objects and tasks.
 *
 * @module
 */
import type { ObjectId, WorkerId } from "../common/mod.ts";
import type { TaskSpec } from "../protocol/mod.ts";
import type { Resources } from "./resources.ts";

/** What the node should do next. */
export type Instruction =
  /** Run the task on the worker (the node groups these into one message per worker). */
  | { readonly type: "dispatch"; readonly workerId: WorkerId; readonly spec: TaskSpec }
  /** An argument is an error: the task fails with that same error. */
  | { readonly type: "propagate"; readonly spec: TaskSpec; readonly errorObject: ObjectId }
  /** The worker running the task died and retries ran out. */
  | { readonly type: "crashed"; readonly spec: TaskSpec; readonly workerId: WorkerId }
  /** No node of this size could ever run the task. */
  | { readonly type: "infeasible"; readonly spec: TaskSpec; readonly resource: string }
  /**
   * The task was cancelled before or while running: it fails with
   * TaskCancelledError now (a running one also gets an "abort").
   */
  | { readonly type: "cancelled"; readonly spec: TaskSpec }
  /**
   * Stop a cancelled task that still runs on the worker: signal it, or with
   * `force` end its worker (the task already failed; its CPU is free).
   */
  | {
    readonly type: "abort";
    readonly workerId: WorkerId;
    readonly spec: TaskSpec;
    readonly force: boolean;
    /** Cancel what it submitted too (the tasks it pushed to leases, which this scheduler never sees). */
    readonly recursive?: boolean;
  }
  /** The task went to `spillback`: this node no longer runs it. */
  | { readonly type: "spilledBack"; readonly spec: TaskSpec }
  /** Ready work fits the free resources but no worker is idle (said once until a worker comes or goes). */
  | { readonly type: "spawnWorker"; readonly count: number };

/** Whether an object exists, and whether it holds an error. */
export type ObjectStatus = "missing" | "ok" | "error";

/** What became of a task that reported a result. */
export type Outcome = "done" | "retry" | "cancelled" | "stale";

/** Tuning of the state machine. */
export interface SchedulerOptions {
  /** Resources the node offers (`CPU` and custom). */
  readonly total: Readonly<Resources>;
  /** Tells whether an object exists (the node's object table). */
  readonly objectStatus: (id: ObjectId) => ObjectStatus;
  /** Functions whose average run time is below this are batched. */
  readonly batchBelowMs?: number;
  /** Most tasks in one batch. */
  readonly maxBatch?: number;
  /** Store bytes of a task's arguments (objects it depends on), restored and pinned at dispatch. */
  readonly argBytes?: (spec: TaskSpec) => number;
  /**
   * Most argument bytes in one batch (a task alone may have more); tasks with
   * store arguments never queue behind a busy worker's batch.
   */
  readonly batchArgBytes?: number;
  /**
   * Where tasks this node cannot place go (the global scheduler, in a
   * cluster). Offered a task that asks for resources this node lacks, and the
   * newest queued tasks while more than `spillbackQueueLength` wait; returns
   * true when it took the task. Without it (embedded mode) the first kind
   * fails as infeasible and the second stays queued here.
   */
  readonly spillback?: (spec: TaskSpec) => boolean;
  /** Queued tasks beyond which the newest are offered to `spillback`. */
  readonly spillbackQueueLength?: number;
}
