/**
 * A pool worker's loop: takes batches of tasks from its task channel (or by
 * "run" message when a batch brings new functions or did not fit), runs them
 * in batch-number order, and reports results through the backend (which
 * writes them to the channel). Between batches it spins, then sleeps on the
 * channel's doorbell (./_idle.ts); while a task is still running (async, or
 * blocked in `get`) it only sleeps, so the thread stays free.
 *
 * @module
 */
import type { FunctionDescriptor, RunTuple } from "../protocol/mod.ts";
import { TaskChannel } from "../transport/mod.ts";
import type { Executor } from "./executor.ts";
import type { LeaseRunner } from "./lease_runner.ts";
import { Idler } from "./_idle.ts";
import { InOrder } from "./_in_order.ts";
import type { WorkerBackend } from "./worker_backend.ts";

/** Functions new to the worker, by index, as "run" brings them. */
type NewFns = readonly (readonly [number, FunctionDescriptor])[];

interface Batch {
  readonly fns?: NewFns;
  readonly tasks: readonly RunTuple[];
}

/** Runs the tasks the node hands this worker. */
export class TaskLoop {
  readonly #executor: Executor;
  readonly #backend: WorkerBackend;
  readonly #channel?: TaskChannel;
  readonly #idler?: Idler;
  /** Function descriptors by the index the node gave them. */
  readonly #fns: FunctionDescriptor[] = [];
  readonly #batches = new InOrder<Batch>((batch) => this.#runBatch(batch));
  #running = 0;
  #leases?: LeaseRunner;

  /**
   * @param executor runs one task
   * @param backend reports results (through `channel` when given)
   * @param channel the worker's task channel, from "init"
   * @param posted messages this worker has posted so far
   */
  constructor(
    executor: Executor,
    backend: WorkerBackend,
    channel: SharedArrayBuffer | undefined,
    posted: () => number,
  ) {
    this.#executor = executor;
    this.#backend = backend;
    if (channel) {
      const ch = this.#channel = new TaskChannel(channel);
      backend.useChannel(ch, posted);
      // Leases' callers ring the channel's doorbell too.
      const ready = () => ch.workPending || (this.#leases?.waiting() ?? false);
      this.#idler = new Idler({
        spinForWork: (micros) => ch.bell.spinForWork(micros, ready),
        sleep: () => ch.bell.sleep(ready),
      }, () => this.#runQueued());
      this.#idler.listen();
    }
  }

  /** The worker's leases (runtime/worker/lease_runner.ts), read beside the channel. */
  set leases(leases: LeaseRunner) {
    this.#leases = leases;
  }

  /** Runs what waits (a lease opened, a fetch or a leased task ended). */
  listen(): void {
    this.#idler?.listen();
  }

  /** Batch `seq` came by message: runs it when its turn comes, then what waits. */
  run(seq: number, fns: NewFns | undefined, tasks: readonly RunTuple[]): void {
    this.#batches.accept(seq, { fns, tasks });
    if (this.#idler) this.#idler.listen();
    else this.#backend.flush();
  }

  /** Runs what the channel holds; how many tasks it started, -1 while a task still runs. */
  #runQueued(): number {
    let started = 0;
    for (let batch; (batch = this.#channel!.takeWork());) {
      started += batch.items.length;
      this.#batches.accept(batch.seq, { tasks: batch.items });
    }
    this.#backend.flush();
    const leased = this.#leases?.runQueued() ?? 0;
    return this.#running > 0 || leased < 0 ? -1 : started + leased;
  }

  #runBatch({ fns, tasks }: Batch): void {
    if (fns) { for (const [index, fn] of fns) this.#fns[index] = fn; }
    const backend = this.#backend;
    for (const [taskId, fn, args, deps, depFrames, numReturns, name, jobId] of tasks) {
      const desc = this.#fns[fn];
      const task = {
        taskId,
        fn: desc,
        args,
        deps,
        depFrames,
        numReturns,
        name: name ?? desc.name,
        jobId,
      };
      const result = this.#executor.run(task);
      if (!(result instanceof Promise)) {
        backend.finished(result);
        continue;
      }
      this.#running++;
      result.then((r) => {
        backend.finished(r);
        if (--this.#running === 0 && this.#idler) this.#idler.listen();
      });
    }
  }
}
