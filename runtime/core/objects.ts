/**
 * `put`, `get`, `wait` and the runtime context.
 *
 * @module
 */
import type { ObjectId, ProgressHook } from "../common/mod.ts";
import { getTimedOut, taskIdOf } from "../common/mod.ts";
import { currentActorId } from "./actor.ts";
import { backend, currentBackend, currentTask } from "./backend.ts";
import { fromFrame, toFrame } from "./frames.ts";
import { checkLive, ObjectRef, watchedRef } from "./object_ref.ts";
import { refTracker } from "./ref_tracker.ts";

/** Options of `get`. */
export interface GetOptions {
  /** Reject with GetTimeoutError after this many milliseconds (any length; `Infinity`: never). */
  timeoutMs?: number;
  /**
   * Stop waiting when this signal aborts: the get rejects with the signal's
   * reason (an `AbortError` DOMException unless `abort(reason)` gave one).
   */
  signal?: AbortSignal;
  /** Show a progress bar on a terminal when waiting for many refs (default true). */
  progress?: boolean;
}

/** Options of `wait`. */
export interface WaitOptions {
  /** How many refs to wait for (default 1). */
  numReturns?: number;
  /** Return what is ready after this many milliseconds (any length; `Infinity`: never). */
  timeoutMs?: number;
  /**
   * In a cluster, false: a ref is ready once its object exists on any node,
   * and the object is not fetched to this node (default true: ready once
   * here). Embedded, objects are always local and it changes nothing.
   */
  fetchLocal?: boolean;
  /** Show a progress bar on a terminal when waiting for many refs (default true). */
  progress?: boolean;
}

let progressHook: ProgressHook | undefined;

/** Installs (or with undefined, removes) this thread's progress hook; the driver sets one. */
export function setProgressHook(hook: ProgressHook | undefined): void {
  progressHook = hook;
}

/** Starts the progress hook for a wait, if one is installed and wanted. */
function startProgress(
  kind: "get" | "wait",
  refs: readonly ObjectRef[],
  ids: readonly ObjectId[],
  want: number,
  wanted: boolean | undefined,
): (() => void) | undefined {
  if (!progressHook || wanted === false) return undefined;
  const be = backend(kind);
  return progressHook(kind, want, async () => {
    const { ready } = await be.wait(ids, ids.length, { timeoutMs: 0, fetch: false }, refs);
    return ready.reduce((n, r) => n + (r ? 1 : 0), 0);
  });
}

/** Where the caller runs. */
export interface RuntimeContext {
  /** Id of the job the caller belongs to. */
  jobId: string;
  /** Id of the node the caller runs on. */
  nodeId: string;
  /** Id of the worker, when the caller runs in one. */
  workerId?: string;
  /** Id of the running task, inside a task. */
  taskId?: string;
  /** Id of the actor, inside an actor. */
  actorId?: string;
  /** Inside a task: aborts when the task is cancelled (`ray.cancel`). */
  signal?: AbortSignal;
}

/**
 * Stores an immutable copy of `value`; returns its ref at once.
 * @throws SerializationError naming where in the value the problem is
 */
export function put<T>(value: T): ObjectRef<T> {
  const be = backend("put");
  if (value instanceof ObjectRef) {
    throw new TypeError(
      "Cannot put value: it is already an ObjectRef (put the value, not its ref)",
    );
  }
  const id = be.ids.nextPutId();
  const contained: ObjectId[] = [];
  // A store full of pinned objects does not fail the put: the frame goes on the heap, then to disk.
  const frame = toFrame(value, "value", be.arena, 0, contained, undefined, true);
  be.put(id, frame, contained);
  // A ref to store bytes is watched: a full store frees it without a turn once it is dropped.
  return (frame instanceof Uint8Array ? new ObjectRef<T>(id) : watchedRef(id)) as ObjectRef<T>;
}

function checkRefs(refs: readonly unknown[], call: string): ObjectId[] {
  return refs.map((r, i) => {
    if (!(r instanceof ObjectRef)) {
      throw new TypeError(`Cannot ${call}: expected ObjectRef at index ${i}, got ${describe(r)}`);
    }
    checkLive(r, call);
    return r.id;
  });
}

function describe(v: unknown): string {
  if (v === null) return "null";
  if (typeof v === "object") return v.constructor?.name ?? "object";
  return typeof v;
}

function checkTimeout(timeoutMs: number | undefined, call: string): void {
  if (timeoutMs !== undefined && !(typeof timeoutMs === "number" && timeoutMs >= 0)) {
    throw new RangeError(
      `Invalid ${call} timeoutMs: expected a number >= 0, got ${String(timeoutMs)}`,
    );
  }
}

/** The value of one ref, or the values of a list of refs in order. */
export function get<T>(ref: ObjectRef<T>, options?: GetOptions): Promise<T>;
/** The values of a tuple of refs, in order, each with its own type. */
export function get<T extends readonly ObjectRef<unknown>[]>(
  refs: T,
  options?: GetOptions,
): Promise<{ [K in keyof T]: T[K] extends ObjectRef<infer V> ? V : never }>;
/** The values of a list of refs, in order. */
export function get<T>(refs: ObjectRef<T>[], options?: GetOptions): Promise<T[]>;
export async function get(
  refOrRefs: ObjectRef<unknown> | readonly ObjectRef<unknown>[],
  options: GetOptions = {},
): Promise<unknown> {
  const be = backend("get");
  const many = Array.isArray(refOrRefs);
  const refs = many ? refOrRefs : [refOrRefs];
  const ids = checkRefs(refs, "get");
  checkTimeout(options.timeoutMs, "get");
  options.signal?.throwIfAborted();
  const stop = startProgress("get", refs, ids, ids.length, options.progress);
  const result = await be.wait(ids, ids.length, {
    timeoutMs: options.timeoutMs,
    signal: options.signal,
    fetch: true,
  }, refs).finally(stop);
  try {
    const missing = result.ready.filter((r) => !r).length;
    if (missing > 0) throw getTimedOut(options.timeoutMs ?? 0, missing);
    const { frames, values: known } = result;
    // A loop, not map: `frames` may have holes where `known` has values.
    const values: unknown[] = new Array(ids.length);
    for (let i = 0; i < ids.length; i++) {
      const f = frames![i];
      values[i] = f === undefined ? known![i] : fromFrame(f, be.arena, ids[i]);
    }
    return many ? values : values[0];
  } finally {
    if (result.pinned) refTracker.unpin(result.pinned);
  }
}

/**
 * Waits until `numReturns` of `refs` are ready (or the timeout); returns
 * `[ready, notReady]`, each in input order.
 */
export async function wait<T extends ObjectRef<unknown>>(
  refs: readonly T[],
  options: WaitOptions = {},
): Promise<[T[], T[]]> {
  const be = backend("wait");
  if (!Array.isArray(refs)) throw new TypeError("Cannot wait: expected an array of ObjectRefs");
  const ids = checkRefs(refs, "wait");
  const numReturns = options.numReturns ?? 1;
  if (!Number.isInteger(numReturns) || numReturns < 1) {
    throw new RangeError(`Invalid wait numReturns: expected an integer >= 1, got ${numReturns}`);
  }
  checkTimeout(options.timeoutMs, "wait");
  const want = Math.min(numReturns, refs.length);
  if (want === 0) return [[], []];
  const stop = startProgress("wait", refs, ids, want, options.progress);
  const req = { timeoutMs: options.timeoutMs, fetch: false, fetchLocal: options.fetchLocal };
  const { ready } = await be.wait(ids, want, req, refs)
    .finally(stop);
  const done: T[] = [];
  const rest: T[] = [];
  refs.forEach((r, i) => (ready[i] && done.length < want ? done : rest).push(r));
  return [done, rest];
}

/** Ids of the job, node, worker and task the caller runs in. */
export function getRuntimeContext(): RuntimeContext {
  const be = backend("getRuntimeContext");
  const task = currentTask();
  const ctx: RuntimeContext = { jobId: task?.jobId ?? be.jobId, nodeId: be.nodeId };
  if (be.workerId) ctx.workerId = be.workerId;
  const actorId = task?.actorId ?? currentActorId();
  if (actorId) ctx.actorId = actorId;
  if (task) {
    ctx.taskId = task.taskId;
    ctx.signal = task.signal;
  }
  return ctx;
}

/** Options of `cancel`. */
export interface CancelOptions {
  /** End the worker running the task instead of signalling it (default false). */
  force?: boolean;
  /** Cancel the tasks it submitted too (default true). */
  recursive?: boolean;
}

/**
 * Cancels the task that makes `ref`: `get` of its refs rejects with
 * TaskCancelledError at once, and its CPU goes to other tasks at once. A
 * queued task is dropped; a running one sees its `getRuntimeContext().signal`
 * abort (what it returns later is dropped), and its worker is replaced if it
 * still runs `cancelGraceMs` later; with `force` its worker is ended at once.
 * Cancelled tasks are never retried.
 */
export function cancel(ref: ObjectRef<unknown>, options: CancelOptions = {}): Promise<void> {
  const be = backend("cancel");
  if (!(ref instanceof ObjectRef)) {
    throw new TypeError(`Cannot cancel: expected an ObjectRef, got ${describe(ref)}`);
  }
  checkLive(ref, "cancel");
  be.cancel(taskIdOf(ref.id), {
    force: options.force ?? false,
    recursive: options.recursive ?? true,
  }, ref);
  return Promise.resolve();
}

/** True once `init` has run in this process, and always inside a task. */
export function isInitialized(): boolean {
  return currentBackend() !== undefined;
}
