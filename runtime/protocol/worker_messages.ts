/**
 * Messages between a node's main thread and its workers (postMessage).
 *
 * @module
 */
import type { JobId, NodeId, ObjectId, TaskId, WorkerId } from "../common/mod.ts";
import type { Frame, RefOp, TaskSpec } from "./task_spec.ts";
import type { ActorFromWorker, ActorToWorker } from "./actor_messages.ts";

/** A task handed to a worker with the frames of its dependencies. */
export interface RunTask {
  readonly spec: TaskSpec;
  /** One frame per `spec.deps` entry, same order. */
  readonly depFrames: readonly Frame[];
}

/** What a worker reports for a finished task. */
export interface TaskResult {
  readonly taskId: TaskId;
  /** One frame per return; all error frames when the task threw. */
  readonly returns: readonly Frame[];
  /** True when the task threw (its returns are error frames). */
  readonly failed: boolean;
  /** Milliseconds the task ran (for the scheduler's batching). */
  readonly ms: number;
  /** Per return, the ids of refs inside it (absent when none has any). */
  readonly contained?: readonly (readonly ObjectId[])[];
}

/** Main thread to worker. */
export type ToWorker =
  | {
    readonly type: "init";
    readonly workerId: WorkerId;
    readonly nodeId: NodeId;
    readonly jobId: JobId;
    readonly sab: SharedArrayBuffer;
    /** Print the worker's console output, prefixed (default true); false drops it. */
    readonly logToDriver?: boolean;
  }
  | { readonly type: "run"; readonly tasks: readonly RunTask[] }
  | {
    /** Reply to "wait": which ids exist, and their frames when asked to fetch. */
    readonly type: "ready";
    readonly reqId: number;
    readonly ready: readonly boolean[];
    readonly frames?: readonly (Frame | undefined)[];
  }
  /** Signal the running task's AbortSignal (cooperative cancellation). */
  | { readonly type: "cancel"; readonly taskId: TaskId }
  /** Run a garbage collection now (the store is filling). */
  | { readonly type: "gc" }
  | { readonly type: "stop" }
  | ActorToWorker;

/** Worker to main thread. */
export type FromWorker =
  | { readonly type: "started" }
  | { readonly type: "done"; readonly results: readonly TaskResult[] }
  | { readonly type: "submit"; readonly specs: readonly TaskSpec[] }
  | {
    readonly type: "put";
    readonly objects: readonly (readonly [ObjectId, Frame, readonly ObjectId[]])[];
  }
  /** Holds, releases and unpins of objects by this worker, in order. */
  | { readonly type: "refs"; readonly ops: readonly RefOp[] }
  | {
    /** Wait until `numReturns` of `ids` exist (or the deadline), then reply "ready". */
    readonly type: "wait";
    readonly reqId: number;
    readonly ids: readonly ObjectId[];
    readonly numReturns: number;
    readonly timeoutMs?: number;
    /** Send the frames of the ready ids with the reply. */
    readonly fetch: boolean;
    readonly taskId?: TaskId;
  }
  | { readonly type: "cancelWait"; readonly reqId: number }
  /** Cancel the task that makes an object (from `ray.cancel` in a task). */
  | {
    readonly type: "cancel";
    readonly taskId: TaskId;
    readonly force: boolean;
    readonly recursive: boolean;
  }
  /** The worker is closing itself (`self.close()`): treat it as dead. */
  | { readonly type: "closing" }
  | ActorFromWorker;
