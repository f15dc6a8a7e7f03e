/**
 * The Backend of a worker thread: everything goes to the node's main thread
 * by postMessage, batched per turn of the event loop, except task results,
 * which go through the worker's task channel when it has one.
 *
 * @module
 */
import type { JobId, NodeId, ObjectId, TaskId, WorkerId } from "../common/mod.ts";
import { IdFactory, runtimeShutDown } from "../common/mod.ts";
import type { Backend, ObjectRef, WaitRequest, WaitResult } from "../core/mod.ts";
import { currentTask, REF_OP, refTracker } from "../core/mod.ts";
import { SharedArena } from "../object_store/mod.ts";
import { ScratchFrames } from "../serialization/mod.ts";
import type { TaskChannel } from "../transport/mod.ts";
import { ActorClient } from "./actor_client.ts";
import { CallLinks, leasable, OwnerLeases } from "../links/mod.ts";
import { askNodeForRoom } from "./_room_request.ts";
import type {
  ActorCallValue,
  CancelMode,
  ClusterState,
  Frame,
  FromWorker,
  RefOp,
  ResultTuple,
  TaskResult,
  TaskSpec,
} from "../protocol/mod.ts";

const NO_CALLS: readonly ActorCallValue[] = [];

interface Pending {
  readonly ids: readonly ObjectId[];
  /** The caller gave up; the node's one reply is still to come. */
  aborted?: boolean;
  resolve(result: WaitResult): void;
  reject(err: unknown): void;
}

/** Sends a message to the node's main thread. */
export type Post = (msg: FromWorker) => void;

/** A "wait" message as it is built (`fetchLocal` set only when false). */
type WaitMessage = { -readonly [K in keyof WaitFrom]: WaitFrom[K] };
type WaitFrom = Extract<FromWorker, { type: "wait" }>;

/** A worker's view of its node. */
export class WorkerBackend implements Backend {
  readonly ids: IdFactory;
  readonly actors: ActorClient;
  /** This thread's calls to actors and the results it owns. */
  readonly links: CallLinks;
  /** This thread's tasks pushed to leased workers (setting leasedTasks). */
  readonly leases?: OwnerLeases;
  #submitted: TaskSpec[] = [];
  #running: [TaskId, WorkerId, number][] = [];
  #ended: [TaskId, "finished" | "failed" | "cancelled", string?][] = [];
  readonly arena: SharedArena;
  readonly #post: Post;
  readonly #pending = new Map<number, Pending>();
  #nextReq = 1;
  #puts: [ObjectId, Frame, readonly ObjectId[]][] = [];
  /** Holds taken since the last flush: sent before its results. */
  #holds: ObjectId[] = [];
  /** Releases and unpins since the last flush: sent after its results. */
  #refOps: RefOp[] = [];
  readonly #clusterAsks = new Map<number, (state: ClusterState) => void>();
  /** Records of this thread's actor calls since the last flush (flat, ACTOR_CALL). */
  #calls: readonly ActorCallValue[] = NO_CALLS;
  #specs: TaskSpec[] = [];
  #results: TaskResult[] = [];
  #flushQueued = false;
  #channel?: { channel: TaskChannel; posted: () => number };
  /** Small task return frames, valid until the results holding them are sent (by `flush`). */
  readonly scratch = new ScratchFrames();

  constructor(
    readonly jobId: JobId,
    readonly nodeId: NodeId,
    readonly workerId: WorkerId,
    sab: SharedArrayBuffer,
    post: Post,
    ownerTag?: string,
    leases = false,
  ) {
    this.ids = new IdFactory(ownerTag);
    this.arena = new SharedArena({ sab });
    this.#post = post;
    askNodeForRoom(this.arena, post, () => this.flush());
    this.links = new CallLinks({
      post,
      ids: this.ids,
      put: (id, frame, contained) => this.put(id, frame, contained),
      nodeWait: (ids, n, req) => this.#nodeWait(ids, n, req),
      records: (calls) => {
        this.#calls = this.#calls.length === 0 ? calls : this.#calls.concat(calls);
        this.#queueFlush();
      },
    });
    this.actors = new ActorClient(post, this.links);
    if (!leases) return;
    this.leases = new OwnerLeases(this.links, {
      post,
      submitted: (spec) => {
        this.#submitted.push(spec);
        this.#queueFlush();
      },
      running: (spec, workerId) => this.#running.push([spec.taskId, workerId, spec.attempt]),
      // Not the submitting task's wait: it does not block.
      whenStored: (ids) => this.#nodeWait(ids, ids.length, { fetch: false }, false),
      ended: (spec, state, error) => {
        this.#ended.push(error === undefined ? [spec.taskId, state] : [spec.taskId, state, error]);
        this.#queueFlush();
      },
    });
  }

  submit(spec: TaskSpec): ObjectRef[] | void {
    if (this.leases && leasable(spec)) return this.leases.submit(spec);
    this.#specs.push(spec);
    this.#queueFlush();
  }

  put(id: ObjectId, frame: Frame, contained: readonly ObjectId[]): void {
    this.#puts.push([id, frame, contained]);
    this.#queueFlush();
  }

  refOp(kind: RefOp[0], id: ObjectId): void {
    if (kind === REF_OP.hold) this.#holds.push(id);
    else this.#refOps.push([kind, id]);
    this.#queueFlush();
  }

  /** Reports a finished task (batched with others of this turn). */
  finished(result: TaskResult): void {
    this.#results.push(result);
    this.#queueFlush();
  }

  wait(
    ids: readonly ObjectId[],
    numReturns: number,
    req: WaitRequest,
    refs?: readonly ObjectRef[],
  ): Promise<WaitResult> {
    if (refs) {
      if (refs.length > 0 && this.links.ownsAll(refs)) {
        return this.links.wait(refs, numReturns, req);
      }
      // Some are the node's: it answers for all (what this thread owns, it seals there).
      this.links.escape(refs);
    }
    return this.#nodeWait(ids, numReturns, req);
  }

  #nodeWait(
    ids: readonly ObjectId[],
    numReturns: number,
    req: WaitRequest,
    forTask = true,
  ): Promise<WaitResult> {
    const reqId = this.#nextReq++;
    this.flush();
    const { promise, resolve, reject } = Promise.withResolvers<WaitResult>();
    this.#pending.set(reqId, { ids, resolve, reject });
    const onAbort = () => {
      this.#pending.get(reqId)!.aborted = true;
      this.#post({ type: "cancelWait", reqId });
      reject(req.signal!.reason);
    };
    req.signal?.addEventListener("abort", onAbort, { once: true });
    const msg: WaitMessage = {
      type: "wait",
      reqId,
      ids,
      numReturns,
      timeoutMs: req.timeoutMs,
      fetch: req.fetch,
      taskId: forTask ? currentTask()?.taskId : undefined,
    };
    if (req.fetchLocal === false) msg.fetchLocal = false; // a cluster's wait that pulls nothing
    this.#post(msg);
    return req.signal
      ? promise.finally(() => req.signal!.removeEventListener("abort", onAbort))
      : promise;
  }

  clusterState(): Promise<ClusterState> {
    const reqId = this.#nextReq++;
    const { promise, resolve } = Promise.withResolvers<ClusterState>();
    this.#clusterAsks.set(reqId, resolve);
    this.#post({ type: "clusterState", reqId });
    return promise;
  }

  /** The node answered a "clusterState" question. */
  clusterAnswered(reqId: number, state: ClusterState): void {
    this.#clusterAsks.get(reqId)?.(state);
    this.#clusterAsks.delete(reqId);
  }

  cancel(taskId: TaskId, mode: CancelMode, ref?: ObjectRef): void {
    const leased = ref && this.leases?.taskOf(ref);
    if (leased) return this.leases!.cancel(leased, mode.force, mode.recursive);
    this.flush();
    this.#post({ type: "cancel", taskId, force: mode.force, recursive: mode.recursive });
  }

  /** The node answered wait request `reqId`; it pinned the frames it sent from the store. */
  answered(reqId: number, result: WaitResult): void {
    const p = this.#pending.get(reqId);
    this.#pending.delete(reqId);
    if (!p) return;
    const pinned: ObjectId[] = [];
    result.frames?.forEach((f, i) => {
      if (f !== undefined && !(f instanceof Uint8Array)) pinned.push(p.ids[i]);
    });
    if (p.aborted) refTracker.unpin(pinned);
    else p.resolve({ ...result, pinned });
  }

  /**
   * Task results go through `channel` from now on, stamped with the number
   * of messages `posted` so far (the node reads them after those).
   */
  useChannel(channel: TaskChannel, posted: () => number): void {
    this.#channel = { channel, posted };
  }

  /**
   * Sends everything batched so far, in order: puts, submissions, holds,
   * results, then releases (a hold may come early and a release late, never
   * the other way: a result ends the hold of its task's arguments, which a
   * ref kept by this thread outlives). Results through the channel are
   * followed by a nudge message unless the node is reading the channel
   * anyway, so the node reads them before the releases.
   */
  flush(): void {
    this.#flushQueued = false;
    this.links.flushRecords(); // the task's actor calls are recorded before its result
    if (this.#puts.length) this.#post({ type: "put", objects: this.#puts.splice(0) });
    if (this.#specs.length) this.#post({ type: "submit", specs: this.#specs.splice(0) });
    if (
      this.#submitted.length || this.#running.length || this.#ended.length || this.#calls.length
    ) {
      const [submitted, running, ended] = [this.#submitted, this.#running, this.#ended];
      [this.#submitted, this.#running, this.#ended] = [[], [], []];
      const calls = this.#calls;
      this.#calls = NO_CALLS;
      this.#post({ type: "taskRecords", submitted, running, ended, calls });
    }
    if (this.#holds.length) this.#post({ type: "holds", ids: this.#holds.splice(0) });
    if (this.#results.length) {
      const results = this.#results.map((r): ResultTuple =>
        r.contained
          ? [r.taskId, r.returns, r.failed, r.ms, r.contained]
          : [r.taskId, r.returns, r.failed, r.ms]
      );
      this.#results = [];
      const ch = this.#channel;
      if (!ch || !ch.channel.sendResults(ch.posted(), results)) {
        this.#post({ type: "done", results });
      } else if (ch.channel.shouldNudge()) {
        this.#post({ type: "taskRing" });
      }
      // Both copied the frames (into the channel, or by structured clone).
      this.scratch.reset();
    }
    if (this.#refOps.length) this.#post({ type: "refs", ops: this.#refOps.splice(0) });
  }

  #queueFlush(): void {
    if (this.#flushQueued) return;
    this.#flushQueued = true;
    queueMicrotask(() => this.flush());
  }

  shutdown(): Promise<void> {
    this.leases?.shutdown();
    this.actors.shutdown();
    this.links.shutdown();
    for (const p of this.#pending.values()) p.reject(runtimeShutDown());
    this.#pending.clear();
    return Promise.resolve();
  }
}
