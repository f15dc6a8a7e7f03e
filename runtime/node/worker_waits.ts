/**
 * Waits of workers on objects (`ray.get` and `ray.wait` in a task or an
 * actor): each is answered with a "ready" message, with the frames when
 * asked, pinned for the worker until it decoded them. A waiting task gives
 * its CPU back meanwhile. A worker's waits end with it.
 *
 * @module
 */
import type { ObjectId, TaskId, WorkerId } from "../common/mod.ts";
import type { Frame, FromWorker, ToWorker } from "../protocol/mod.ts";
import type { WaitHandle } from "./object_table.ts";

/** What the waits need from the node. */
export interface WaitsHost {
  /**
   * Waits in the object table (ObjectTable.wait); with `fetchLocal` false (a
   * cluster), until the objects exist anywhere, without pulling them here.
   */
  wait(
    ids: readonly ObjectId[],
    need: number,
    timeoutMs: number | undefined,
    fetch: boolean,
    fetchLocal?: boolean,
  ): WaitHandle;
  /** The task waits: it gives its CPU back... */
  taskBlocked(taskId: TaskId): void;
  /** ...until it was answered. */
  taskUnblocked(taskId: TaskId): void;
  /** Frames to send (restored first if spilled; see ObjectLifetime.lendAll). */
  lendAll(
    ids: readonly ObjectId[],
    frames: readonly (Frame | undefined)[],
  ): (Frame | undefined)[] | Promise<(Frame | undefined)[]>;
  /** A frame sent to `workerId` stays in the store until it unpins it... */
  pin(id: ObjectId, workerId: WorkerId): void;
  /** ...or, when that worker is gone, is unpinned now. */
  unpin(id: ObjectId): void;
  /** A wait was answered. */
  answered(): void;
}

/** A worker that waits: its id, whether it lives, and how to answer it. */
interface Waiter {
  readonly id: WorkerId;
  readonly alive: boolean;
  send(msg: ToWorker): void;
}

/** The open waits of every worker, by worker and request. */
export class WorkerWaits {
  readonly #host: WaitsHost;
  readonly #waits = new Map<WorkerId, Map<number, WaitHandle>>();

  /** @param host the node's parts the waits use */
  constructor(host: WaitsHost) {
    this.#host = host;
  }

  /** A worker joined: it may wait. */
  added(workerId: WorkerId): void {
    this.#waits.set(workerId, new Map());
  }

  /** A worker is gone: its waits end, unanswered. */
  gone(workerId: WorkerId): void {
    for (const h of this.#waits.get(workerId)?.values() ?? []) h.cancel();
    this.#waits.delete(workerId);
  }

  /** A "wait" message: answered once enough objects exist or the deadline passed. */
  wait(worker: Waiter, msg: Extract<FromWorker, { type: "wait" }>): void {
    const host = this.#host;
    const handle = host.wait(msg.ids, msg.numReturns, msg.timeoutMs, msg.fetch, msg.fetchLocal);
    const waits = this.#waits.get(worker.id)!;
    waits.set(msg.reqId, handle);
    const blocked = !handle.immediate && msg.taskId !== undefined;
    if (blocked) host.taskBlocked(msg.taskId!);
    handle.promise.then(async (found) => {
      waits.delete(msg.reqId);
      if (blocked) host.taskUnblocked(msg.taskId!);
      const frames = found.frames && await host.lendAll(msg.ids, found.frames);
      const outcome = { ready: found.ready, frames };
      // Pin what is sent in the store until the worker has decoded it (it
      // unpins); an inline frame is a copy in the message and needs no pin
      // (the worker holds the ref it asked for, so its contained refs live).
      outcome.frames?.forEach((f, i) => {
        if (f === undefined || f instanceof Uint8Array) return;
        if (worker.alive) host.pin(msg.ids[i], worker.id);
        else host.unpin(msg.ids[i]);
      });
      worker.send({
        type: "ready",
        reqId: msg.reqId,
        ready: outcome.ready,
        frames: outcome.frames,
      });
      host.answered();
    }, () => {});
  }

  /** A "cancelWait" message: the wait ends, answered with nothing ready. */
  cancel(worker: Waiter, reqId: number): void {
    const waits = this.#waits.get(worker.id);
    const handle = waits?.get(reqId);
    if (!handle) return;
    handle.cancel();
    waits!.delete(reqId);
    worker.send({ type: "ready", reqId, ready: [] });
  }
}
