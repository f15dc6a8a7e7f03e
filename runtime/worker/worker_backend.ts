/**
 * The Backend of a worker thread: everything goes to the node's main thread
 * by postMessage, batched per turn of the event loop.
 *
 * @module
 */
import type { JobId, NodeId, ObjectId, TaskId, WorkerId } from "../common/mod.ts";
import { getAborted, IdFactory, runtimeShutDown } from "../common/mod.ts";
import type { Backend, WaitRequest, WaitResult } from "../core/mod.ts";
import { taskContext } from "../core/mod.ts";
import { SharedArena } from "../object_store/mod.ts";
import type { Frame, FromWorker, TaskResult, TaskSpec } from "../protocol/mod.ts";

interface Pending {
  resolve(result: WaitResult): void;
  reject(err: unknown): void;
}

/** Sends a message to the node's main thread. */
export type Post = (msg: FromWorker) => void;

/** A worker's view of its node. */
export class WorkerBackend implements Backend {
  readonly ids = new IdFactory();
  readonly arena: SharedArena;
  readonly #post: Post;
  readonly #pending = new Map<number, Pending>();
  #nextReq = 1;
  #puts: [ObjectId, Frame][] = [];
  #specs: TaskSpec[] = [];
  #results: TaskResult[] = [];
  #flushQueued = false;

  constructor(
    readonly jobId: JobId,
    readonly nodeId: NodeId,
    readonly workerId: WorkerId,
    sab: SharedArrayBuffer,
    post: Post,
  ) {
    this.arena = new SharedArena({ sab });
    this.#post = post;
  }

  submit(spec: TaskSpec): void {
    this.#specs.push(spec);
    this.#queueFlush();
  }

  put(id: ObjectId, frame: Frame): void {
    this.#puts.push([id, frame]);
    this.#queueFlush();
  }

  /** Reports a finished task (batched with others of this turn). */
  finished(result: TaskResult): void {
    this.#results.push(result);
    this.#queueFlush();
  }

  wait(ids: readonly ObjectId[], numReturns: number, req: WaitRequest): Promise<WaitResult> {
    const reqId = this.#nextReq++;
    this.flush();
    const { promise, resolve, reject } = Promise.withResolvers<WaitResult>();
    this.#pending.set(reqId, { resolve, reject });
    const onAbort = () => {
      this.#pending.delete(reqId);
      this.#post({ type: "cancelWait", reqId });
      reject(getAborted(req.signal?.reason));
    };
    req.signal?.addEventListener("abort", onAbort, { once: true });
    this.#post({
      type: "wait",
      reqId,
      ids,
      numReturns,
      timeoutMs: req.timeoutMs,
      fetch: req.fetch,
      taskId: taskContext.getStore()?.taskId,
    });
    return req.signal
      ? promise.finally(() => req.signal!.removeEventListener("abort", onAbort))
      : promise;
  }

  cancel(taskId: TaskId, force: boolean, recursive: boolean): void {
    this.flush();
    this.#post({ type: "cancel", taskId, force, recursive });
  }

  /** The node answered wait request `reqId`. */
  answered(reqId: number, result: WaitResult): void {
    const p = this.#pending.get(reqId);
    this.#pending.delete(reqId);
    p?.resolve(result);
  }

  /** Sends everything batched so far, in order: puts, submissions, results. */
  flush(): void {
    this.#flushQueued = false;
    if (this.#puts.length) this.#post({ type: "put", objects: this.#puts.splice(0) });
    if (this.#specs.length) this.#post({ type: "submit", specs: this.#specs.splice(0) });
    if (this.#results.length) this.#post({ type: "done", results: this.#results.splice(0) });
  }

  #queueFlush(): void {
    if (this.#flushQueued) return;
    this.#flushQueued = true;
    queueMicrotask(() => this.flush());
  }

  shutdown(): Promise<void> {
    for (const p of this.#pending.values()) p.reject(runtimeShutDown());
    this.#pending.clear();
    return Promise.resolve();
  }
}
