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
  IdFactory,
  KeepAlive,
  objectIdOf,
  randomHex,
  runtimeShutDown,
  sleep,
  taskCancelled,
  type TaskId,
  taskIdOf,
  workerDied,
} from "../common/mod.ts";
import type { ActorBackend, Backend, ObjectRef, WaitRequest, WaitResult } from "../core/mod.ts";
import { collectGarbage, errorFrame, reclaimDropped, storeReclaimer } from "../core/mod.ts";
import { SharedArena } from "../object_store/mod.ts";
import type {
  CancelMode,
  ClusterState,
  Frame,
  FromWorker,
  RefOp,
  ResultTuple,
  TaskResult,
  TaskSpec,
} from "../protocol/mod.ts";
import { taskName } from "../protocol/mod.ts";
import { type Instruction, LocalScheduler } from "../scheduler/mod.ts";
import { type ActorHost, ActorManager } from "./actor_manager.ts";
import { ObjectTable, untilAborted } from "./object_table.ts";
import { collectionEvery, ObjectLifetime } from "./object_lifetime.ts";
import { OwnedObjects } from "./owned_objects.ts";
import { nodeSpillManager, type SpillManager, type SpillStats } from "./spill_manager.ts";
import { type ControlStore, MemoryControlStore, type TaskState } from "../gcs/mod.ts";
import { type PoolHost, unrefThreadWorker, type WorkerHandle, WorkerPool } from "../pool/mod.ts";
import { errorText, infeasibleOn } from "./_error_text.ts";
import { SPIN_MAX_IDS, Spinner } from "./spinner.ts";
import { TaskChannels } from "./task_channels.ts";
import { DriverCalls, leasable } from "../links/mod.ts";
import { leasedTasksMode, NodeLeases } from "./leases.ts";
import { serveWorker, type WorkerMessagesHost } from "./worker_messages.ts";
import { type NodeInfo, type NodeOptions, numWorkersOf } from "./node_options.ts";
import { NodeRecords } from "./node_records.ts";
import { type WaitsHost, WorkerWaits } from "./worker_waits.ts";
import { clusterSideOf } from "./cluster_side.ts";
import { CancelGrace, cancelGraceMs } from "./cancel_grace.ts";
import type { ClusterPort } from "./cluster_port.ts";

/** The dependency frames of a task without ref arguments. */
const NO_FRAMES: readonly Frame[] = Object.freeze([]) as readonly Frame[];

/** A running node. */
export class Node implements Backend {
  readonly jobId = randomHex(4) as JobId;
  readonly nodeId = randomHex(14) as NodeId;
  readonly ids: IdFactory;
  readonly arena: SharedArena;
  readonly numWorkers: number;
  readonly resources: Record<string, number>;
  /** The driver's actor backend: the node's actors, and call links for method calls. */
  readonly actors: ActorBackend;
  readonly #actors: ActorManager;
  /** The driver's calls to actors (as a worker's: straight to the actor's worker). */
  readonly #calls: DriverCalls;
  readonly #table = new ObjectTable((id, frame, mode) => this.#spill.lend(id, frame, mode));
  readonly #channels = new TaskChannels();
  readonly #spinner = new Spinner();
  readonly #spill: SpillManager;
  /** Reference counts and what they mean: when objects are freed. */
  readonly #life: ObjectLifetime;
  readonly #owned = new OwnedObjects({
    status: (id) => this.#table.status(id),
    seal: (id, frame, error) => this.#sealed(id, frame, error),
  });
  readonly #scheduler: LocalScheduler;
  /** The control store: tasks, objects, workers, as they change (written in the background). */
  readonly gcs: ControlStore;
  readonly #records: NodeRecords;
  /** Every worker of the node: the task workers, and one per actor. */
  readonly #pool: WorkerPool;
  readonly #waits = new WorkerWaits({
    wait: (...args) => this.#tableWait(...args),
    taskBlocked: (taskId) => this.#scheduler.taskBlocked(taskId),
    taskUnblocked: (taskId) => this.#scheduler.taskUnblocked(taskId),
    lendAll: (ids, frames) => this.#life.lendAll(ids, frames),
    pin: (id, workerId) => this.#life.inc(id, workerId),
    unpin: (id) => this.#spill.unpin(id),
    answered: () => this.#kick(),
  });
  /** Keeps the process alive while work is outstanding (idle workers do not; see KeepAlive). */
  readonly #alive = new KeepAlive(() =>
    this.#scheduler.size > 0 || this.#calls.outstanding > 0 || this.#table.openWaits > 0 ||
    this.#pool.starting > 0 || this.#actors.starting > 0 || (this.#port?.outstanding ?? 0) > 0
  );
  readonly #grace = new CancelGrace({
    stillOn: (taskId, workerId) =>
      this.#scheduler.workerOf(taskId) === workerId || this.#leases.stillOn(taskId, workerId),
    replace: (workerId, cause) => {
      const worker = this.#pool.taskWorkers.get(workerId);
      if (worker) this.#pool.end(worker, { cause, forcedCancel: true });
    },
  });
  /** The cluster this node belongs to (absent when embedded). */
  readonly #port: ClusterPort | undefined;
  readonly #leases: NodeLeases;
  /** The driver pushes its tasks to leased workers (setting leasedTasks >= 1; embedded mode). */
  readonly #leasing: boolean;
  #kicked = false;
  #stopped = false;
  /** Serves a message of a worker (./worker_messages.ts). */
  readonly #serve: (worker: WorkerHandle, msg: FromWorker) => void;

  private constructor(options: NodeOptions) {
    cancelGraceMs(); // a bad setting fails init, naming it
    this.gcs = options.controlStore ?? new MemoryControlStore();
    this.#records = new NodeRecords(this.gcs, this.jobId, this.nodeId, () => {
      this.#calls.leases.resume();
      this.#kick();
    });
    this.ids = new IdFactory(options.ownerTag);
    this.numWorkers = numWorkersOf(options);
    const cpus = options.numCpus ?? this.numWorkers;
    this.resources = options.driverOnly ? {} : { CPU: cpus, ...options.resources };
    const maxBytes = options.objectStoreMemory ?? config("objectStoreMemory");
    this.arena = new SharedArena({
      initialBytes: Math.min(maxBytes, config("objectStoreInitialBytes")),
      maxBytes,
    });
    this.#spill = nodeSpillManager(this.arena, this.nodeId, options.spillDirectory, (round) => {
      this.#collectEverywhere();
      return sleep(config("spillRetryGcMs") * 2 ** round);
    }, storeReclaimer());
    this.#life = new ObjectLifetime({
      jobId: this.jobId,
      nodeId: this.nodeId,
      table: this.#table,
      arena: this.arena,
      spill: this.#spill,
      gcs: this.gcs,
      actorReleased: (actorId) => this.#actors.handlesReleased(actorId),
      unreferenced: (id) => this.#port?.unreferenced(id),
      collectEverywhere: (here) => this.#collectEverywhere(here),
    }, collectionEvery(maxBytes));
    // A bad setting fails init, naming it, in cluster mode too (which does not lease yet).
    const mode = leasedTasksMode();
    const leased = options.cluster ? 0 : mode;
    this.#leasing = leased >= 1;
    this.#pool = new WorkerPool(this.#poolHost(), {
      leases: leased >= 2,
      jobId: this.jobId,
      nodeId: this.nodeId,
      ownerTag: this.ids.ownerTag,
      sab: this.arena.sab,
      logToDriver: options.logToDriver ?? true,
      numWorkers: this.numWorkers,
      maxWorkers: this.numWorkers * config("workerPoolGrowth"),
      spawn: unrefThreadWorker,
    });
    this.#scheduler = new LocalScheduler({
      total: this.resources,
      objectStatus: (id) => this.#table.status(id),
      argBytes: (spec) => spec.deps.reduce((n, d) => n + this.#spill.sizeOf(d), 0),
      batchArgBytes: maxBytes / 8,
      batchBelowMs: config("batchBelowMs"),
      maxBatch: config("maxBatch"),
      spillback: (spec) => this.#port?.spillback(spec) ?? false,
    });
    const actors = this.#actors = new ActorManager(this.#actorHost(options.namespace ?? "default"));
    const { ids, resources: total } = this;
    const [pool, channels, grace] = [this.#pool, this.#channels, this.#grace];
    this.#leases = new NodeLeases({
      ids,
      total,
      scheduler: this.#scheduler,
      pool,
      channels,
      grace,
    });
    this.#calls = new DriverCalls({
      ids: this.ids,
      actors,
      lease: (caller, msg) => this.#kick(this.#leases.handle(caller, msg)),
      records: this.#records,
      owned: this.#owned,
      wait: (ids, n, req) => this.wait(ids, n, req),
      put: (id, frame, contained) => this.put(id, frame, contained),
      running: () => !this.#stopped,
    });
    const local: ActorBackend = {
      create: (spec) => this.#poked(actors.create(spec)),
      call: (call) => this.#poked(this.#calls.call(call)),
      kill: (actorId, noRestart) => actors.kill(actorId, noRestart),
      lookup: (name, namespace) => actors.lookup(name, namespace),
    };
    this.#port = options.cluster?.(clusterSideOf(this, {
      table: this.#table,
      life: this.#life,
      spill: this.#spill,
      scheduler: this.#scheduler,
      actors: local,
      actorWorker: (actorId) => this.#actors.workerOf(actorId),
      escape: (refs) => this.#calls.escape(refs),
      flushCalls: () => this.#calls.flushRecords(),
      sealed: (id, frame, error, contained) => this.#sealed(id, frame, error, contained),
      failAll: (spec, frame) => this.#failAll(spec, frame, "failed", true),
    }));
    this.actors = this.#port?.actorsOf(local) ?? local;
    const parts: WorkerMessagesHost = {
      taskResults: (worker, results) => this.#taskResults(worker, results),
      accept: (spec) => this.#accept(spec),
      put: (id, frame, contained) => this.put(id, frame, contained),
      clusterState: () => this.clusterState(),
      ...{ life: this.#life, waits: this.#waits, scheduler: this.#scheduler, actors },
      ...{ owned: this.#owned, spill: this.#spill, leases: this.#leases, records: this.#records },
    };
    this.#serve = (worker, msg) => serveWorker(parts, worker, msg);
  }

  /** `made`, once the process is kept alive for the work that made it. */
  #poked<T>(made: T): T {
    this.#alive.poke();
    return made;
  }

  #poolHost(): PoolHost {
    return {
      taskChannel: (id) => this.#channels.create(id),
      taskWorkerStarted: (worker) => {
        this.#scheduler.workerAdded(worker.id);
        this.#records.workerStarted(worker.id);
        this.#kick();
      },
      taskWorkerLost: (worker, trusted) => {
        try {
          this.#channels.read(worker, trusted, (results) => this.#taskResults(worker, results));
        } catch { /* a channel with garbage: its tasks are retried as if lost */ }
        this.#channels.drop(worker.id);
      },
      taskWorkerDied: (id, { cause, forcedCancel }) => {
        this.#records.workerDied(id, cause);
        this.#leases.workerDied(id, this.#pool.deathCause(id) ?? cause);
        this.#scheduler.workerDied(id, forcedCancel);
        this.#kick();
      },
      serve: (worker, msg) => {
        this.#serve(worker, msg);
        this.#kick();
        // Results the worker wrote to its channel before later messages.
        this.#channels.read(worker, undefined, (results) => this.#taskResults(worker, results));
      },
      workerAdded: (id) => this.#waits.added(id),
      workerGone: (id, cause) => this.#workerGone(id, cause),
    };
  }

  #actorHost(namespace: string): ActorHost {
    return {
      changed: (a) => this.#records.actorState(a),
      cluster: () => this.#port?.elsewhere,
      workers: this.#pool,
      arena: this.arena,
      namespace,
      total: this.resources,
      table: this.#table,
      hold: (demand) => this.#scheduler.hold(demand),
      release: (demand) => {
        this.#scheduler.release(demand);
        this.#kick();
      },
      holdArgs: (ids) => ids.forEach((id) => this.#life.inc(id)),
      releaseArgs: (ids) => ids.forEach((id) => this.#life.dec(id)),
    };
  }

  /** Starts a node and waits until its workers are up. */
  static async start(options: NodeOptions = {}): Promise<Node> {
    const node = new Node(options);
    node.#records.started(Date.now(), node, !options.driverOnly);
    try {
      await node.#alive.during(node.#pool.start());
    } catch (err) {
      await node.shutdown();
      throw err;
    }
    return node;
  }

  /** This node's description. */
  info(): NodeInfo {
    return {
      nodeId: this.nodeId,
      address: this.#port?.address ?? "embedded",
      alive: !this.#stopped,
      resources: { ...this.resources },
      numWorkers: this.#pool.taskWorkers.size,
    };
  }

  /** Resources not held by running tasks. */
  available(): Record<string, number> {
    const { used } = this.#scheduler.counts();
    const out: Record<string, number> = {};
    const idle = this.#calls.leases.idleHeld(); // the driver's idle leases give theirs back soon
    for (const [k, v] of Object.entries(this.resources)) {
      out[k] = v - (used[k] ?? 0) + (idle[k] ?? 0);
    }
    return out;
  }

  submit(spec: TaskSpec): ObjectRef[] | void {
    if (this.#leasing && leasable(spec)) return this.#poked(this.#calls.leases.submit(spec));
    this.#accept(spec);
    this.#kick();
  }

  put(id: ObjectId, frame: Frame, contained: readonly ObjectId[]): void {
    const stored = this.#table.status(id) === "missing" ? this.#spill.overflowed(id, frame) : frame;
    this.#sealed(id, stored, stored !== frame && stored instanceof Uint8Array, contained);
  }

  refOp(kind: RefOp[0], id: ObjectId): void {
    // The driver is this process: it never dies alone, so it needs no account of its own.
    this.#life.applyRefOp(kind, id, undefined);
  }

  /** Objects in the table and objects with references (for tests and status). */
  objectCounts(): { stored: number; referenced: number } {
    return { stored: this.#table.size, referenced: this.#life.referenced };
  }

  /** Objects in the store and spilled to disk, pinned bytes, spills and restores (for tests and status). */
  spillStats(): SpillStats {
    return this.#spill.stats();
  }

  async wait(
    ids: readonly ObjectId[],
    numReturns: number,
    req: WaitRequest,
    refs?: readonly ObjectRef[],
  ): Promise<WaitResult> {
    if (this.#stopped) throw runtimeShutDown();
    const owned = refs && this.#calls.wait(refs, numReturns, req);
    if (owned) return await this.#poked(owned);
    const table = this.#table;
    const missing = (id: ObjectId) => table.status(id) === "missing";
    if (
      numReturns === ids.length && ids.length <= SPIN_MAX_IDS &&
      this.#spinner.worth(ids, missing, (t) => this.#scheduler.averageMs(t))
    ) {
      // Send what is queued now, then spin on the channels of what runs.
      if (this.#kicked) this.#dispatch();
      const pollables = this.#channels.pollables(
        this.#pool.taskWorkers,
        (id) => this.#scheduler.hasTasks(id),
        (w, results) => this.#taskResults(w, results),
      );
      this.#spinner.spin(pollables, () => !ids.some(missing));
    }
    const handle = this.#tableWait(ids, numReturns, req.timeoutMs, req.fetch, req.fetchLocal);
    this.#alive.poke();
    return await this.#life.lend(ids, await untilAborted(handle, req.signal), "driver");
  }

  clusterState(): Promise<ClusterState> {
    return this.#port ? this.#port.state() : Promise.resolve(this.#clusterState());
  }

  /** Writes the queued control-store records, in cluster mode every live node's too. */
  flushRecords(): Promise<void> {
    this.#calls.flushRecords();
    return this.#port ? this.#port.flushRecords() : this.gcs.flush();
  }

  /** A table wait that first asks the cluster for the ids neither here nor made here. */
  #tableWait(...[ids, need, timeoutMs, fetch, local]: Parameters<WaitsHost["wait"]>) {
    if (this.#port && local === false) return this.#port.waitAnywhere(ids, need, timeoutMs);
    if (this.#port) this.#needAll(ids, fetch ? 0 : 1);
    return this.#table.wait(ids, need, timeoutMs, fetch);
  }

  #needAll(ids: readonly ObjectId[], priority: 0 | 1 | 2): void {
    for (const id of ids) {
      if (this.#table.status(id) === "missing" && !this.#scheduler.knows(taskIdOf(id))) {
        this.#port!.need(id, priority);
      }
    }
  }

  #clusterState(): ClusterState {
    return { nodes: [this.info()], total: { ...this.resources }, available: this.available() };
  }

  cancel(taskId: TaskId, mode: CancelMode, ref?: ObjectRef): void {
    const leased = ref && this.#calls.leases.taskOf(ref);
    if (leased) return this.#calls.leases.cancel(leased, mode.force, mode.recursive);
    this.#port?.cancel(taskId, mode);
    this.#scheduler.cancel(taskId, mode);
    this.#kick();
  }

  async shutdown(): Promise<void> {
    if (this.#stopped) return;
    this.#stopped = true;
    await this.#alive.during(this.#stop()).finally(() => this.#alive.stop());
  }

  async #stop(): Promise<void> {
    this.#grace.clear();
    this.#leases.close();
    this.#spill.close();
    this.#life.close();
    const stoppedAt = Date.now();
    for (const id of this.#pool.shutdown()) this.#records.workerDied(id, "shutdown", stoppedAt);
    this.#actors.shutdown();
    this.#calls.shutdown();
    this.#table.rejectAll(runtimeShutDown());
    this.#records.stopped(Date.now());
    await this.#port?.close();
    await this.gcs.close();
  }

  /** Finished tasks of `worker`, by message or through its channel. */
  #taskResults(worker: WorkerHandle, results: readonly ResultTuple[]): void {
    for (const [taskId, returns, failed, ms, contained] of results) {
      this.#finished({ taskId, returns, failed, ms, contained }, worker.id);
    }
  }

  /** A worker (of the pool or an actor's) is gone: its waits, holds, promises and links go too. */
  #workerGone(id: WorkerId, detail: string): void {
    this.#waits.gone(id);
    if (this.#stopped) return;
    this.#life.dropHolder(id);
    this.#owned.ownerDied(id, detail);
    this.#actors.callerGone(id);
    this.#leases.callerGone(id);
  }

  #accept(spec: TaskSpec): void {
    this.#records.functionSeen(spec.fn);
    this.#life.holdTask(spec.taskId, spec.argRefs);
    if (this.#port?.takes(spec)) return this.#port.forward(spec);
    this.#records.taskSubmitted(spec, Date.now());
    this.#scheduler.submit(spec);
    if (this.#port && spec.deps.length > 0) this.#needAll(spec.deps, 2);
  }

  /** Runs a garbage collection in every worker, and here unless `here` is false (`reclaimDropped`). */
  #collectEverywhere(here = true): void {
    if (!collectGarbage) return;
    if (here) reclaimDropped();
    for (const w of this.#pool.taskWorkers.values()) w.send({ type: "gc" });
  }

  #finished(result: TaskResult, workerId: WorkerId): void {
    const outcome = this.#scheduler.taskFinished(result.taskId, result.ms, result.failed, workerId);
    if (outcome === "cancelled") this.#grace.ended(result.taskId);
    if (outcome === "retry") this.#records.taskState(result.taskId, "ready");
    if (outcome !== "done") {
      // Dropped: a retry, a result from a worker the task no longer runs on (it died and
      // the task went elsewhere), or of a task cancelled while it ran (already failed).
      for (const f of result.returns) if (!(f instanceof Uint8Array)) this.arena.free(f);
      return;
    }
    const error = result.failed ? errorText(result.returns[0], this.arena) : undefined;
    this.#records.taskState(result.taskId, result.failed ? "failed" : "finished", error);
    this.#life.taskDone(result.taskId);
    this.#sealAll(result.taskId, result.returns, result.failed, result.contained);
  }

  #sealAll(
    taskId: TaskId,
    returns: readonly Frame[],
    error: boolean,
    contained?: readonly (readonly ObjectId[])[],
  ): void {
    returns.forEach((frame, i) =>
      this.#sealed(objectIdOf(taskId, i), frame, error, contained?.[i])
    );
  }

  #sealed(id: ObjectId, frame: Frame, error: boolean, contained?: readonly ObjectId[]): void {
    if (!this.#table.add(id, frame, error)) {
      if (!(frame instanceof Uint8Array)) this.arena.free(frame);
      return;
    }
    this.#life.sealed(id, frame, contained);
    this.#port?.sealed(id);
    this.#owned.sealed(id);
    this.#scheduler.objectCreated(id, error);
    this.#life.settle(id);
    this.#kick();
  }

  #kick(_after?: void): void {
    this.#alive.poke(); // a task submitted or freed, an actor's own message, ...
    if (this.#kicked || this.#stopped) return;
    this.#kicked = true;
    queueMicrotask(() => this.#dispatch());
  }

  #dispatch(): void {
    this.#kicked = false;
    if (this.#stopped) return;
    this.#actors.retryWaiting();
    const behind = this.#records.behind();
    if (behind) this.#leases.revokeAll(); // callers push nothing more; tasks wait for leases
    let todo = behind ? [] : this.#scheduler.dispatch(); // store behind: none
    for (; todo.length; todo = this.#scheduler.dispatch()) {
      for (const ins of todo) this.#apply(ins);
    }
    this.#channels.sendQueued();
    this.#leases.contended();
  }

  #apply(ins: Instruction): void {
    if (this.#leases.apply(ins)) return;
    switch (ins.type) {
      case "dispatch": {
        this.#records.taskRunning(ins.spec, ins.workerId);
        const { spec } = ins;
        const worker = this.#pool.taskWorkers.get(ins.workerId);
        if (!worker) break;
        // Pinned (restored first if spilled) until the worker has decoded them (it unpins).
        for (const d of spec.deps) this.#life.inc(d, ins.workerId);
        const lent = spec.deps.length === 0
          ? NO_FRAMES
          : this.#spill.lendAll(spec.deps, spec.deps.map((d) => this.#table.stored(d)!));
        if (!(lent instanceof Promise)) this.#channels.queue(worker, spec, lent);
        else {
          // The store was too full to restore a dependency now: the task follows on its own.
          lent.then((frames) => {
            if (worker.alive) this.#channels.sendNow(worker, spec, frames);
            else for (const d of spec.deps) this.#spill.unpin(d);
          });
        }
        break;
      }
      case "propagate": {
        const frame = this.#table.frame(ins.errorObject)!;
        this.#failAll(ins.spec, frame);
        this.#life.taskDone(ins.spec.taskId);
        break;
      }
      case "crashed": {
        this.#life.taskDone(ins.spec.taskId);
        const detail = this.#pool.deathCause(ins.workerId) ?? "unknown cause";
        this.#failAll(ins.spec, errorFrame(workerDied(taskName(ins.spec), ins.workerId, detail)));
        break;
      }
      case "infeasible":
        this.#life.taskDone(ins.spec.taskId);
        this.#failAll(ins.spec, errorFrame(infeasibleOn(ins.spec, ins.resource, this.resources)));
        break;
      case "spilledBack": // forwarded: its arguments stay held until it finishes elsewhere
        break;
      case "cancelled":
        this.#life.taskDone(ins.spec.taskId);
        this.#failAll(ins.spec, errorFrame(taskCancelled(taskName(ins.spec))), "cancelled");
        break;
      case "abort": {
        const worker = this.#pool.taskWorkers.get(ins.workerId);
        if (!worker) break;
        if (ins.force) {
          this.#pool.end(worker, { cause: "ended to force-cancel a task", forcedCancel: true });
        } else {
          worker.send({ type: "cancel", taskId: ins.spec.taskId, recursive: ins.recursive });
          this.#grace.start(ins.spec.taskId, taskName(ins.spec), ins.workerId);
        }
        break;
      }
      case "spawnWorker":
        this.#pool.grow(ins.count);
        break;
    }
  }

  #failAll(spec: TaskSpec, frame: Frame, state: TaskState = "failed", forwarded = false): void {
    if (forwarded) this.#records.taskSubmitted(spec, Date.now());
    this.#records.taskState(spec.taskId, state, errorText(frame, this.arena));
    for (let i = 0; i < spec.options.numReturns; i++) {
      this.#sealed(objectIdOf(spec.taskId, i), frame, true);
    }
  }
}
