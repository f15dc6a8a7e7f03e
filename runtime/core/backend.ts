/**
 * The seam between the API and whoever executes it: the embedded node in a
 * driver, or the node's main thread as seen from a worker.
 *
 * @module
 */
import { AsyncLocalStorage } from "node:async_hooks";
import type {
  ActorId,
  IdFactory,
  JobId,
  NodeId,
  ObjectId,
  TaskId,
  WorkerId,
} from "../common/mod.ts";
import { notInitialized } from "../common/mod.ts";
import type { ActorBackend } from "./actor_backend.ts";
import { refTracker } from "./ref_tracker.ts";
import type { ObjectRef } from "./object_ref.ts";
import type { SharedArena } from "../object_store/mod.ts";
import type { CancelMode, ClusterState, Frame, RefOp, TaskSpec } from "../protocol/mod.ts";

/** Options of a wait for objects. */
export interface WaitRequest {
  /** Give up after this long and report what is ready. */
  readonly timeoutMs?: number;
  /** Reject with the signal's reason when it aborts. */
  readonly signal?: AbortSignal;
  /** Also return the frames of the ready objects. */
  readonly fetch: boolean;
  /** False: an object is ready once it exists anywhere in the cluster, and is not pulled here. */
  readonly fetchLocal?: boolean;
}

/** What a wait found. */
export interface WaitResult {
  /** Per requested id: does it exist. */
  readonly ready: readonly boolean[];
  /** Per requested id, when fetched: its frame. */
  readonly frames?: readonly (Frame | undefined)[];
  /** Per requested id without a frame: its value (results a worker holds as values). */
  readonly values?: readonly unknown[];
  /** Ids the node pinned while their frames travel; unpin them once decoded. */
  readonly pinned?: readonly ObjectId[];
}

/** Where `ray.*` calls go. */
export interface Backend {
  readonly jobId: JobId;
  readonly nodeId: NodeId;
  readonly workerId?: WorkerId;
  /** The node's shared store, mapped in this thread. */
  readonly arena: SharedArena;
  /** Makes task and object ids unique to this thread. */
  readonly ids: IdFactory;
  /**
   * Queues a task (never waits); returns its refs when this thread owns its
   * results (it went to a leased worker), else nothing (refs by id).
   */
  submit(spec: TaskSpec): ObjectRef[] | void;
  /** Records an object created by put, with the ids of refs inside it (never waits). */
  put(id: ObjectId, frame: Frame, contained: readonly ObjectId[]): void;
  /** This thread's holds, releases and unpins, in order (never waits). */
  refOp(kind: RefOp[0], id: ObjectId): void;
  /**
   * Resolves once `numReturns` of `ids` exist, or at the deadline. `refs`
   * (the refs of `ids`, when the caller has them) lets a worker answer for
   * results it owns itself.
   */
  wait(
    ids: readonly ObjectId[],
    numReturns: number,
    request: WaitRequest,
    refs?: readonly ObjectRef[],
  ): Promise<WaitResult>;
  /** Where actor creations, calls, kills and lookups go. */
  readonly actors: ActorBackend;
  /** Cancels a task (see `ray.cancel`; `ref` is the ref it was given); never waits. */
  cancel(taskId: TaskId, mode: CancelMode, ref?: ObjectRef): void;
  /** The cluster's nodes and resources, total and free. */
  clusterState(): Promise<ClusterState>;
  /** Stops what this backend started. */
  shutdown(): Promise<void>;
}

/** What the running task is, for nested submissions and the runtime context. */
export interface TaskContext {
  readonly taskId: TaskId;
  /** Display name of the task (function name, or `Class.method` for an actor call). */
  readonly name?: string;
  /** Aborts when the task is cancelled. */
  readonly signal: AbortSignal;
  /** The driver's job when it is not this node's (a cluster's task: TaskSpec.jobId). */
  readonly jobId?: JobId;
  /** The actor whose method (or constructor) this is (a worker may host several actors). */
  readonly actorId?: ActorId;
}

/** Carries the running task through the awaits of an async function. */
const taskContext = new AsyncLocalStorage<TaskContext>();

/** The task a synchronous function runs for (AsyncLocalStorage costs ~0.4 us a call). */
let syncTask: TaskContext | undefined;

const AsyncFunction = (async () => {}).constructor;

/**
 * Runs `fn` as task `context`: `currentTask()` answers it inside. An async
 * function keeps it across its awaits; a plain function has it while it
 * runs (continuations of promises it returns do not, so remote functions
 * and methods that await should be declared `async`).
 */
export function runTask<T>(context: TaskContext, fn: () => T, declared: unknown): T {
  if (declared instanceof AsyncFunction) return taskContext.run(context, fn);
  const saved = syncTask;
  syncTask = context;
  try {
    return fn();
  } finally {
    syncTask = saved;
  }
}

/** The task running on this thread, if any. */
export function currentTask(): TaskContext | undefined {
  return syncTask ?? taskContext.getStore();
}

let current: Backend | undefined;

/** The backend, or a clear error naming the `call` that needed it. */
export function backend(call: string): Backend {
  if (!current) throw notInitialized(call);
  return current;
}

/** The backend if there is one. */
export function currentBackend(): Backend | undefined {
  return current;
}

/** Installs (or with undefined, removes) the backend of this thread. */
export function setBackend(next: Backend | undefined): void {
  current = next;
  refTracker.setSink(next ? (kind, id) => next.refOp(kind, id) : undefined);
}
