/**
 * Messages between a node's main thread and its workers (postMessage).
 *
 * @module
 */
import type { JobId, NodeId, ObjectId, TaskId, WorkerId } from "../common/mod.ts";
import type { Frame, FunctionDescriptor, RefOp, TaskSpec } from "./task_spec.ts";
import type { ActorCallValue } from "./call_records.ts";
import type { ActorFromWorker, ActorToWorker } from "./actor_messages.ts";

/** A task as a worker runs it: what the executor needs of its spec, and its dependencies' frames. */
export interface RunTask {
  readonly taskId: TaskId;
  readonly fn: FunctionDescriptor;
  /** Frame of the argument array, or the id of the object holding it (in `deps`). */
  readonly args: Frame | ObjectId;
  readonly deps: readonly ObjectId[];
  /** One frame per `deps` entry, same order. */
  readonly depFrames: readonly Frame[];
  readonly numReturns: number;
  /** Display name (`options.name` or the function's name). */
  readonly name: string;
  /** The driver's job when it is not the node's (TaskSpec.jobId). */
  readonly jobId?: JobId;
}

/**
 * A task on the wire, as a tuple (cheaper to clone than an object):
 * task id, index of its function in the worker's table, args, deps, dep
 * frames, number of returns, `options.name` when set, and the job when
 * the spec names one (TaskSpec.jobId).
 */
export type RunTuple = readonly [
  taskId: TaskId,
  fn: number,
  args: Frame | ObjectId,
  deps: readonly ObjectId[],
  depFrames: readonly Frame[],
  numReturns: number,
  name?: string,
  jobId?: JobId,
];

/** A result on the wire: task id, returns, failed, ms, and refs contained per return. */
export type ResultTuple = readonly [
  taskId: TaskId,
  returns: readonly Frame[],
  failed: boolean,
  ms: number,
  contained?: readonly (readonly ObjectId[])[],
];

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

/** What `nodes()`, `clusterResources()` and `availableResources()` report. */
export interface ClusterState {
  readonly nodes: readonly {
    readonly nodeId: string;
    readonly address: string;
    readonly alive: boolean;
    readonly resources: Readonly<Record<string, number>>;
    readonly numWorkers: number;
  }[];
  readonly total: Readonly<Record<string, number>>;
  readonly available: Readonly<Record<string, number>>;
}

/** Main thread to worker. */
export type ToWorker =
  | {
    readonly type: "init";
    /** Words that keep the worker from being ended inside the store's lock (see object_store). */
    readonly stopWords: SharedArrayBuffer;
    readonly workerId: WorkerId;
    readonly nodeId: NodeId;
    readonly jobId: JobId;
    /** The node process's owner tag: the worker's ids start with it (ids.ts). */
    readonly ownerTag: string;
    readonly sab: SharedArrayBuffer;
    /** Print the worker's console output, prefixed (default true); false drops it. */
    readonly logToDriver?: boolean;
    /** A pool worker's task channel (runtime/transport's TaskChannel); none for actors. */
    readonly channel?: SharedArrayBuffer;
    /** Push tasks to leased workers (runtime/links/owner_leases.ts). */
    readonly leases?: boolean;
  }
  | {
    /**
     * Tasks that did not go through the worker's task channel (they bring
     * functions new to it, or did not fit). Batches are numbered from 0 per
     * worker, whichever way they go; the worker runs them in number order.
     */
    readonly type: "run";
    readonly seq: number;
    /** Functions new to this worker, by the index tasks use. */
    readonly fns?: readonly (readonly [number, FunctionDescriptor])[];
    readonly tasks: readonly RunTuple[];
  }
  | {
    /** Reply to "wait": which ids exist, and their frames when asked to fetch. */
    readonly type: "ready";
    readonly reqId: number;
    readonly ready: readonly boolean[];
    readonly frames?: readonly (Frame | undefined)[];
  }
  /** Signal the running task's AbortSignal (cooperative cancellation). */
  /** Signal a running task; `recursive`: also cancel the leased tasks it submitted. */
  | { readonly type: "cancel"; readonly taskId: TaskId; readonly recursive?: boolean }
  /** Answer to a worker's "clusterState" question. */
  | { readonly type: "clusterState"; readonly reqId: number; readonly state: ClusterState }
  /** Run a garbage collection now (the store is filling). */
  | { readonly type: "gc" }
  /** Answer `refSynced` after posting everything batched so far (see node/ref_syncs.ts). */
  | { readonly type: "refSync"; readonly seq: number }
  | { readonly type: "stop" }
  | ActorToWorker;

/** How to cancel a task: `ray.cancel`'s options after their defaults. */
export interface CancelMode {
  /** End the worker running it instead of signalling it. */
  readonly force: boolean;
  /** Cancel the tasks it submitted too. */
  readonly recursive: boolean;
}

/** Worker to main thread. */
export type FromWorker =
  | { readonly type: "started" }
  | { readonly type: "done"; readonly results: readonly ResultTuple[] }
  | { readonly type: "submit"; readonly specs: readonly TaskSpec[] }
  | {
    readonly type: "put";
    readonly objects: readonly (readonly [ObjectId, Frame, readonly ObjectId[]])[];
  }
  /**
   * Objects this worker holds from now on, sent before the results of the
   * same batch (which may end the holds that covered them until now).
   */
  | { readonly type: "holds"; readonly ids: readonly ObjectId[] }
  /** Releases and unpins of objects by this worker, in order, after the batch's results. */
  | { readonly type: "refs"; readonly ops: readonly RefOp[] }
  /** Everything posted before this arrived ahead of it (answers `refSync`). */
  | { readonly type: "refSynced"; readonly seq: number }
  | {
    /** Wait until `numReturns` of `ids` exist (or the deadline), then reply "ready". */
    readonly type: "wait";
    readonly reqId: number;
    readonly ids: readonly ObjectId[];
    readonly numReturns: number;
    readonly timeoutMs?: number;
    /** Send the frames of the ready ids with the reply. */
    readonly fetch: boolean;
    /** False: ready once they exist anywhere in the cluster (not pulled here). */
    readonly fetchLocal?: boolean;
    readonly taskId?: TaskId;
  }
  | { readonly type: "cancelWait"; readonly reqId: number }
  /** Cancel the task that makes an object (from `ray.cancel` in a task). */
  | ({ readonly type: "cancel"; readonly taskId: TaskId } & CancelMode)
  /** Asks for the cluster's nodes and resources (answered by "clusterState"). */
  | { readonly type: "clusterState"; readonly reqId: number }
  /**
   * The worker is closing itself (`self.close()`), or exiting with
   * `exitCode` (`Deno.exit()`, `process.exit()`): treat it as dead.
   */
  | { readonly type: "closing"; readonly exitCode?: number }
  /** Task results wait in the worker's task channel. */
  | { readonly type: "taskRing" }
  /**
   * Objects this worker owns (results of its linked actor calls) that left
   * it: it seals each at the node once it has it ("seal"); if it dies
   * first, the node seals an error.
   */
  | { readonly type: "promise"; readonly ids: readonly ObjectId[] }
  /** Promised objects, now here (inline frames; `failed` for error frames). */
  | {
    readonly type: "seal";
    readonly objects: readonly (readonly [ObjectId, Uint8Array, boolean])[];
  }
  /**
   * Error frames for objects an actor sealed at the node (or should have)
   * before its worker died: sealed only if the node never got them.
   */
  | {
    readonly type: "sealIfMissing";
    readonly objects: readonly (readonly [ObjectId, Uint8Array])[];
  }
  /** The task waits for objects it owns (on = true) or stopped waiting: its CPU is free meanwhile. */
  | { readonly type: "blocked"; readonly taskId: TaskId; readonly on: boolean }
  /** A leased task that was cancelled while it ran has ended (its worker is not stuck). */
  | { readonly type: "leaseCancelDone"; readonly taskId: TaskId }
  /**
   * For the control store: tasks this worker submitted to leases, how
   * tasks it pushed to leases ended (with the error's text), and its actor
   * calls.
   */
  | {
    readonly type: "taskRecords";
    readonly submitted: readonly TaskSpec[];
    /** Pushed to the leased worker named, at this attempt. */
    readonly running: readonly (readonly [TaskId, WorkerId, number])[];
    readonly ended: readonly (readonly [TaskId, "finished" | "failed" | "cancelled", string?])[];
    /** Its actor calls (flat, ACTOR_CALL). */
    readonly calls?: readonly ActorCallValue[];
  }
  /**
   * An allocation of `size` bytes found the store full: make room (spill)
   * and answer in `reply` (see ROOM_REPLY); the worker waits on it.
   */
  | { readonly type: "needSpace"; readonly size: number; readonly reply: SharedArrayBuffer }
  | ActorFromWorker;

/**
 * The reply buffer of a "needSpace" request: Int32 word 0 is the state
 * (`pending`, then `made` or `refused`, with `Atomics.notify`); when refused,
 * Float64 slots 1 and 2 hold the store's used and pinned bytes.
 */
export const ROOM_REPLY = {
  bytes: 24,
  pending: 0,
  made: 1,
  refused: 2,
  used: 1,
  pinned: 2,
} as const;

/**
 * Whether results written to a work channel after `msg` must wait until the
 * node has it. A message may create what a result refers to (a put, a
 * submitted task, an actor), so results wait for it; ref ops need not be
 * waited for (a result read before an earlier release only holds its refs
 * sooner) and nudges carry nothing.
 */
export function ordersResults(msg: FromWorker): boolean {
  const type = (msg as { type?: unknown } | null)?.type;
  return type !== "refs" && type !== "taskRing";
}
