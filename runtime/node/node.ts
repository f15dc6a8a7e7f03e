/**
 * A node: local scheduler, object table, shared store and worker pool wired
 * together. In embedded mode the driver's process is the node, and the node
 * is also the driver's Backend.
 *
 * @module
 */
import type { JobId, NodeId, ObjectId, WorkerId } from "../common/mod.ts";
import {
  config,
  getAborted,
  IdFactory,
  infeasibleTask,
  objectIdOf,
  randomHex,
  runtimeShutDown,
  taskCancelled,
  type TaskId,
  workerDied,
} from "../common/mod.ts";
import type { Backend, WaitRequest, WaitResult } from "../core/mod.ts";
import { errorFrame } from "../core/mod.ts";
import { SharedArena } from "../object_store/mod.ts";
import type { Frame, FromWorker, RunTask, TaskResult, TaskSpec } from "../protocol/mod.ts";
import { taskName } from "../protocol/mod.ts";
import { type Instruction, LocalScheduler } from "../scheduler/mod.ts";
import { ObjectTable, type WaitHandle } from "./object_table.ts";
import { WorkerHandle } from "./worker_handle.ts";

/** How to start a node. */
export interface NodeOptions {
  numWorkers?: number;
  numCpus?: number;
  resources?: Record<string, number>;
  objectStoreMemory?: number;
}

/** What a node reports about itself. */
export interface NodeInfo {
  nodeId: string;
  address: string;
  alive: boolean;
  resources: Record<string, number>;
  numWorkers: number;
}

/** A running node. */
export class Node implements Backend {
  readonly jobId = randomHex(4) as JobId;
  readonly nodeId = randomHex(14) as NodeId;
  readonly ids = new IdFactory();
  readonly arena: SharedArena;
  readonly numWorkers: number;
  readonly resources: Record<string, number>;
  readonly #table = new ObjectTable();
  readonly #scheduler: LocalScheduler;
  readonly #workers = new Map<WorkerId, WorkerHandle>();
  readonly #workerWaits = new Map<WorkerId, Map<number, WaitHandle>>();
  readonly #starting = new Map<WorkerId, () => void>();
  readonly #maxWorkers: number;
  #spawning = 0;
  #nextWorker = 1;
  #kicked = false;
  #stopped = false;

  private constructor(options: NodeOptions) {
    this.numWorkers = options.numWorkers ?? config("numWorkers");
    if (!Number.isInteger(this.numWorkers) || this.numWorkers < 1) {
      throw new RangeError(`Invalid numWorkers: expected an integer >= 1, got ${this.numWorkers}`);
    }
    const cpus = options.numCpus ?? this.numWorkers;
    this.resources = { CPU: cpus, ...options.resources };
    const maxBytes = options.objectStoreMemory ?? config("objectStoreMemory");
    this.arena = new SharedArena({
      initialBytes: Math.min(maxBytes, config("objectStoreInitialBytes")),
      maxBytes,
    });
    this.#maxWorkers = this.numWorkers * config("workerPoolGrowth");
    this.#scheduler = new LocalScheduler({
      total: this.resources,
      objectStatus: (id) => this.#table.status(id),
      batchBelowMs: config("batchBelowMs"),
      maxBatch: config("maxBatch"),
    });
  }

  /** Starts a node and waits until its workers are up. */
  static async start(options: NodeOptions = {}): Promise<Node> {
    const node = new Node(options);
    const started = [];
    for (let i = 0; i < node.numWorkers; i++) started.push(node.#spawn());
    await Promise.all(started);
    return node;
  }

  /** This node's description. */
  info(): NodeInfo {
    return {
      nodeId: this.nodeId,
      address: "embedded",
      alive: !this.#stopped,
      resources: { ...this.resources },
      numWorkers: this.#workers.size,
    };
  }

  /** Resources not held by running tasks. */
  available(): Record<string, number> {
    const { used } = this.#scheduler.counts();
    const out: Record<string, number> = {};
    for (const [k, v] of Object.entries(this.resources)) out[k] = v - (used[k] ?? 0);
    return out;
  }

  submit(spec: TaskSpec): void {
    this.#scheduler.submit(spec);
    this.#kick();
  }

  put(id: ObjectId, frame: Frame): void {
    this.#sealed(id, frame, false);
  }

  async wait(ids: readonly ObjectId[], numReturns: number, req: WaitRequest): Promise<WaitResult> {
    if (this.#stopped) throw runtimeShutDown();
    const handle = this.#table.wait(ids, numReturns, req.timeoutMs, req.fetch);
    if (handle.immediate || !req.signal) return await handle.promise;
    const signal = req.signal;
    const { promise, reject } = Promise.withResolvers<never>();
    const onAbort = () => {
      handle.cancel();
      reject(getAborted(signal.reason));
    };
    signal.addEventListener("abort", onAbort, { once: true });
    try {
      return await Promise.race([handle.promise, promise]);
    } finally {
      signal.removeEventListener("abort", onAbort);
    }
  }

  cancel(taskId: TaskId, force: boolean, recursive: boolean): void {
    this.#scheduler.cancel(taskId, force, recursive);
    this.#kick();
  }

  shutdown(): Promise<void> {
    if (this.#stopped) return Promise.resolve();
    this.#stopped = true;
    for (const w of this.#workers.values()) w.terminate();
    this.#workers.clear();
    this.#table.rejectAll(runtimeShutDown());
    return Promise.resolve();
  }

  #spawn(): Promise<void> {
    const id = `w${this.#nextWorker++}` as WorkerId;
    const { promise, resolve, reject } = Promise.withResolvers<void>();
    const timer = setTimeout(
      () =>
        reject(new Error(`Worker ${id} did not start within ${config("workerStartTimeoutMs")} ms`)),
      config("workerStartTimeoutMs"),
    );
    this.#spawning++;
    this.#starting.set(id, () => {
      clearTimeout(timer);
      this.#spawning--;
      resolve();
    });
    const handle = new WorkerHandle(
      id,
      { jobId: this.jobId, nodeId: this.nodeId, sab: this.arena.sab },
      { message: (h, msg) => this.#onMessage(h, msg), died: (h, d) => this.#onDeath(h, d) },
    );
    this.#workers.set(id, handle);
    this.#workerWaits.set(id, new Map());
    return promise;
  }

  #onMessage(worker: WorkerHandle, msg: FromWorker): void {
    if (this.#stopped) return;
    switch (msg.type) {
      case "started":
        this.#starting.get(worker.id)?.();
        this.#starting.delete(worker.id);
        this.#scheduler.workerAdded(worker.id);
        break;
      case "done":
        for (const r of msg.results) this.#finished(r);
        break;
      case "submit":
        for (const spec of msg.specs) this.#scheduler.submit(spec);
        break;
      case "put":
        for (const [id, frame] of msg.objects) this.#sealed(id, frame, false);
        break;
      case "wait":
        this.#workerWait(worker, msg);
        break;
      case "cancelWait":
        this.#workerWaits.get(worker.id)?.get(msg.reqId)?.cancel();
        this.#workerWaits.get(worker.id)?.delete(msg.reqId);
        break;
      case "cancel":
        this.#scheduler.cancel(msg.taskId, msg.force, msg.recursive);
        break;
      case "closing":
        worker.terminate();
        this.#onDeath(worker, "it closed itself (self.close())");
        break;
    }
    this.#kick();
  }

  #workerWait(worker: WorkerHandle, msg: Extract<FromWorker, { type: "wait" }>): void {
    const handle = this.#table.wait(msg.ids, msg.numReturns, msg.timeoutMs, msg.fetch);
    const waits = this.#workerWaits.get(worker.id)!;
    waits.set(msg.reqId, handle);
    const blocked = !handle.immediate && msg.taskId !== undefined;
    if (blocked) this.#scheduler.taskBlocked(msg.taskId!);
    handle.promise.then((outcome) => {
      waits.delete(msg.reqId);
      if (blocked) this.#scheduler.taskUnblocked(msg.taskId!);
      worker.send({
        type: "ready",
        reqId: msg.reqId,
        ready: outcome.ready,
        frames: outcome.frames,
      });
      this.#kick();
    });
  }

  #onDeath(worker: WorkerHandle, detail: string, cancelled = false): void {
    if (!this.#workers.delete(worker.id)) return;
    if (this.#starting.delete(worker.id)) this.#spawning--;
    for (const h of this.#workerWaits.get(worker.id)?.values() ?? []) h.cancel();
    this.#workerWaits.delete(worker.id);
    if (this.#stopped) return;
    this.#crashDetail.set(worker.id, detail);
    this.#scheduler.workerDied(worker.id, cancelled);
    if (this.#workers.size < this.numWorkers) this.#spawn().catch(() => {});
    this.#kick();
  }

  readonly #crashDetail = new Map<WorkerId, string>();

  #finished(result: TaskResult): void {
    const outcome = this.#scheduler.taskFinished(result.taskId, result.ms, result.failed);
    if (outcome === "retry") return;
    if (outcome === "cancelled") {
      const returns = result.returns.map(() => errorFrame(taskCancelled(result.taskId)));
      return this.#sealAll(result.taskId, returns, true);
    }
    this.#sealAll(result.taskId, result.returns, result.failed);
  }

  #sealAll(taskId: TaskId, returns: readonly Frame[], error: boolean): void {
    returns.forEach((frame, i) => this.#sealed(objectIdOf(taskId, i), frame, error));
  }

  #sealed(id: ObjectId, frame: Frame, error: boolean): void {
    if (this.#table.add(id, frame, error)) this.#scheduler.objectCreated(id, error);
    this.#kick();
  }

  #kick(): void {
    if (this.#kicked || this.#stopped) return;
    this.#kicked = true;
    queueMicrotask(() => this.#drain());
  }

  #drain(): void {
    this.#kicked = false;
    if (this.#stopped) return;
    const batches = new Map<WorkerId, RunTask[]>();
    for (let todo = this.#scheduler.drain(); todo.length; todo = this.#scheduler.drain()) {
      for (const ins of todo) this.#apply(ins, batches);
    }
    for (const [workerId, tasks] of batches) {
      this.#workers.get(workerId)?.send({ type: "run", tasks });
    }
  }

  #apply(ins: Instruction, batches: Map<WorkerId, RunTask[]>): void {
    switch (ins.type) {
      case "dispatch": {
        const depFrames = ins.spec.deps.map((d) => this.#table.frame(d)!);
        const list = batches.get(ins.workerId);
        if (list) list.push({ spec: ins.spec, depFrames });
        else batches.set(ins.workerId, [{ spec: ins.spec, depFrames }]);
        break;
      }
      case "propagate":
        this.#failAll(ins.spec, this.#table.frame(ins.errorObject)!);
        break;
      case "crashed": {
        const detail = this.#crashDetail.get(ins.workerId) ?? "unknown cause";
        this.#failAll(ins.spec, errorFrame(workerDied(taskName(ins.spec), ins.workerId, detail)));
        break;
      }
      case "infeasible": {
        const want = ins.resource === "CPU"
          ? ins.spec.options.numCpus
          : ins.spec.options.resources[ins.resource];
        const have = this.resources[ins.resource] ?? 0;
        this.#failAll(
          ins.spec,
          errorFrame(infeasibleTask(taskName(ins.spec), ins.resource, want, have)),
        );
        break;
      }
      case "cancelled":
        this.#failAll(ins.spec, errorFrame(taskCancelled(taskName(ins.spec))));
        break;
      case "abort": {
        const worker = this.#workers.get(ins.workerId);
        if (!worker) break;
        if (!ins.force) {
          worker.send({ type: "cancel", taskId: ins.taskId });
          break;
        }
        worker.terminate();
        this.#onDeath(worker, "ended to force-cancel a task", true);
        break;
      }
      case "spawnWorker": {
        const room = this.#maxWorkers - this.#workers.size;
        for (let i = 0; i < Math.min(room, ins.count - this.#spawning); i++) {
          this.#spawn().catch(() => {});
        }
        break;
      }
    }
  }

  #failAll(spec: TaskSpec, frame: Frame): void {
    for (let i = 0; i < spec.options.numReturns; i++) {
      const id = objectIdOf(spec.taskId, i);
      if (this.#table.add(id, frame, true)) this.#scheduler.objectCreated(id, true);
    }
  }
}
