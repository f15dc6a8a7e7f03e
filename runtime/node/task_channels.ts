/**
 * The node's side of its pool workers' task channels (a `TaskChannel` per
 * worker: work rings in shared memory, not a call link, see
 * runtime/links/mod.ts for the vocabulary): gathers the tasks the
 * scheduler dispatched in one turn into one batch per worker, sends batches (through
 * the channel, or by "run" message when a batch brings functions new to the
 * worker or does not fit, numbered either way), reads results back in the
 * order the worker's messages require, and says which workers have tasks
 * out (for a driver's spinning get).
 *
 * @module
 */
import type { WorkerId } from "../common/mod.ts";
import { config } from "../common/mod.ts";
import type {
  Frame,
  FunctionDescriptor,
  ResultTuple,
  RunTuple,
  TaskSpec,
} from "../protocol/mod.ts";
import { fnKeyOf } from "../protocol/mod.ts";
import { TaskChannel } from "../transport/mod.ts";
import type { Pollable } from "./spinner.ts";
import type { WorkerHandle } from "../pool/mod.ts";

const CHANNEL_BYTES = config("channelBytes");

/** What the task channels use of a pool worker (a `WorkerHandle`). */
export type ChannelWorker = Pick<WorkerHandle, "id" | "alive" | "fnIndex" | "received" | "send">;

/** One worker's task channel and its send count. */
interface WorkerChannel {
  readonly channel: TaskChannel;
  /** Number of the next batch sent. */
  seq: number;
}

/** Tasks gathered for one worker. */
interface Batch {
  readonly worker: ChannelWorker;
  fns?: [number, FunctionDescriptor][];
  readonly tasks: RunTuple[];
}

/** The task channels of a node's pool workers. */
export class TaskChannels {
  readonly #channels = new Map<WorkerId, WorkerChannel>();
  readonly #queued = new Map<WorkerId, Batch>();

  /** A channel for a new worker; returns the memory to hand it in "init". */
  create(workerId: WorkerId): SharedArrayBuffer {
    const channel = TaskChannel.create(CHANNEL_BYTES);
    this.#channels.set(workerId, { channel, seq: 0 });
    return channel.sab;
  }

  /** The memory of a worker's channel (its doorbell is at BELL_OFFSET). */
  memoryOf(workerId: WorkerId): SharedArrayBuffer | undefined {
    return this.#channels.get(workerId)?.channel.sab;
  }

  /** Adds a task (with its dependencies' frames) to `worker`'s batch; `sendQueued` sends it. */
  queue(worker: ChannelWorker, spec: TaskSpec, depFrames: readonly Frame[]): void {
    let batch = this.#queued.get(worker.id);
    if (!batch) this.#queued.set(worker.id, batch = { worker, tasks: [] });
    batch.tasks.push(this.#tuple(batch, spec, depFrames));
  }

  /** Sends every worker's batch gathered by `queue`. */
  sendQueued(): void {
    for (const { worker, fns, tasks } of this.#queued.values()) {
      if (worker.alive) this.send(worker, fns, tasks);
    }
    this.#queued.clear();
  }

  /** Sends one task on its own, now. */
  sendNow(worker: ChannelWorker, spec: TaskSpec, depFrames: readonly Frame[]): void {
    const batch: Batch = { worker, tasks: [] };
    batch.tasks.push(this.#tuple(batch, spec, depFrames));
    this.send(worker, batch.fns, batch.tasks);
  }

  /** The task as the worker gets it; a function new to the worker joins the batch's `fns`. */
  #tuple(batch: Batch, spec: TaskSpec, depFrames: readonly Frame[]): RunTuple {
    const { worker } = batch;
    const key = fnKeyOf(spec.fn);
    let fn = worker.fnIndex.get(key);
    if (fn === undefined) {
      fn = worker.fnIndex.size;
      worker.fnIndex.set(key, fn);
      (batch.fns ??= []).push([fn, spec.fn]);
    }
    const { numReturns, name } = spec.options;
    if (spec.jobId !== undefined) {
      return [spec.taskId, fn, spec.args, spec.deps, depFrames, numReturns, name, spec.jobId];
    }
    return name === undefined
      ? [spec.taskId, fn, spec.args, spec.deps, depFrames, numReturns]
      : [spec.taskId, fn, spec.args, spec.deps, depFrames, numReturns, name];
  }

  /** Sends one batch of tasks to `worker`. */
  send(
    worker: ChannelWorker,
    fns: readonly (readonly [number, FunctionDescriptor])[] | undefined,
    tasks: readonly RunTuple[],
  ): void {
    const wc = this.#channels.get(worker.id);
    if (!wc) return;
    const seq = wc.seq++;
    if (fns || !wc.channel.sendWork(seq, tasks)) {
      worker.send(fns ? { type: "run", seq, fns, tasks } : { type: "run", seq, tasks });
    }
  }

  /**
   * Reads the results waiting in `worker`'s channel, each batch only once
   * the messages the worker posted before it arrived. With `upTo` (the
   * worker is gone), reads the batches written after at most that many
   * messages and drops the rest. Throws RangeError when the channel holds
   * garbage (the channel is not read again).
   */
  read(
    worker: ChannelWorker,
    upTo: number | undefined,
    onResults: (results: ResultTuple[]) => void,
  ): void {
    const wc = this.#channels.get(worker.id);
    if (!wc) return;
    wc.channel.clearNudge();
    const final = upTo !== undefined;
    for (let batch; (batch = wc.channel.nextResults(upTo ?? worker.received, final));) {
      onResults(batch.results);
    }
  }

  /** The worker is gone. */
  drop(workerId: WorkerId): void {
    this.#channels.delete(workerId);
  }

  /** Channels of the workers `busy` says have tasks, and how to read each. */
  pollables<W extends ChannelWorker>(
    workers: ReadonlyMap<WorkerId, W>,
    busy: (workerId: WorkerId) => boolean,
    onResults: (w: W, r: ResultTuple[]) => void,
  ): Pollable[] {
    const out: Pollable[] = [];
    for (const [id, wc] of this.#channels) {
      const worker = workers.get(id);
      if (!worker || !busy(id)) continue;
      out.push({
        channel: wc.channel,
        read: () => this.read(worker, undefined, (r) => onResults(worker, r)),
      });
    }
    return out;
  }
}
