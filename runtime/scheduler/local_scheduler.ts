/**
 * The local scheduler's state machine. Tasks wait for their arguments, then
 * for resources and an idle worker; events go in as method calls and what to
 * do comes out of `dispatch()` as instructions. No I/O, no timers: durations are
 * passed in by the caller. A worker is one thread, so CPU is held per worker:
 * while any task on it runs (not blocked in get), the worker holds the CPUs of
 * the batch that woke it. Tasks known to be short (by a moving average of their
 * function's run time) go to a worker in batches, so one message carries many.
 *
 * @module
 */
import type { ObjectId, TaskId, WorkerId } from "../common/mod.ts";
import { type CancelMode, fnKeyOf, type TaskSpec } from "../protocol/mod.ts";
import { addInto, demandOf, fits, type Resources, sameShape, unmet } from "./resources.ts";
import type { Instruction, Outcome, SchedulerOptions } from "./_scheduler_types.ts";
import {
  type Entry,
  GONE,
  isLight,
  type Light,
  newTask,
  type ScheduledTask,
  type TaskPhase,
} from "./_scheduled_task.ts";

export type { Instruction, ObjectStatus, Outcome, SchedulerOptions } from "./_scheduler_types.ts";

/** What the scheduler knows of a worker's load. */
interface WorkerLoad {
  /** Tasks on the worker that are running (not blocked). */
  running: number;
  /** CPUs held while `running > 0`. */
  cpuHeld: number;
  /** Every task on it came in a batch of short tasks (so more may queue behind them). */
  shortOnly: boolean;
  readonly tasks: Set<TaskId>;
}

const EMA_WEIGHT = 0.2;

/** The state machine. */
export class LocalScheduler {
  readonly #opts: Required<SchedulerOptions>;
  readonly #tasks = new Map<TaskId, Entry>();
  readonly #waitingOn = new Map<ObjectId, ScheduledTask[]>();
  readonly #children = new Map<TaskId, Set<TaskId>>();
  #ready: Entry[] = [];
  #readyHead = 0;
  readonly #workers = new Map<WorkerId, WorkerLoad>();
  readonly #out: Instruction[] = [];
  readonly #used: Resources = {};
  readonly #fnMs = new Map<string, number>();
  readonly #shapes = new WeakMap<
    TaskSpec["options"],
    { demand: Resources; missingResource?: string }
  >();
  /** A spawnWorker instruction is out and no worker came or went since. */
  #spawnAsked = false;

  /** @param options the node's resources, the object table query and tuning */
  constructor(options: SchedulerOptions) {
    this.#opts = {
      batchBelowMs: 1,
      maxBatch: 256,
      argBytes: () => 0,
      batchArgBytes: Infinity,
      spillback: () => false,
      spillbackQueueLength: Infinity,
      ...options,
    };
  }

  /** A new task: fails at once if it can never fit, else waits for its arguments or queues. */
  submit(spec: TaskSpec): void {
    const { demand, missingResource } = this.#shapeOf(spec.options);
    if (missingResource !== undefined) {
      this.#out.push(
        this.#opts.spillback(spec)
          ? { type: "spilledBack", spec }
          : { type: "infeasible", spec, resource: missingResource },
      );
      return;
    }
    const parent = spec.parentTaskId === undefined ? undefined : this.#tasks.get(spec.parentTaskId);
    if (parent !== undefined && !isLight(parent) && parent.cancelled) {
      // A cancelled task that is still running may submit more: those are cancelled too.
      this.#out.push({ type: "cancelled", spec });
      return;
    }
    if (spec.deps.length === 0 && this.#spillsBack(spec)) {
      this.#out.push({ type: "spilledBack", spec });
      return;
    }
    const rec: Entry = spec.deps.length === 0 ? spec : newTask(spec, demand);
    this.#tasks.set(spec.taskId, rec);
    // Children of any parent, this scheduler's or not (one on a leased worker: cancelChildren).
    if (spec.parentTaskId !== undefined) {
      const kids = this.#children.get(spec.parentTaskId);
      if (kids) kids.add(spec.taskId);
      else this.#children.set(spec.parentTaskId, new Set([spec.taskId]));
    }
    if (isLight(rec)) {
      this.#ready.push(rec);
      return;
    }
    const deps = spec.deps.length > 1 ? new Set(spec.deps) : spec.deps;
    for (const dep of deps) {
      const status = this.#opts.objectStatus(dep);
      if (status === "error") return this.#propagate(rec, dep);
      if (status === "missing") {
        rec.missing++;
        const list = this.#waitingOn.get(dep);
        if (list) list.push(rec);
        else this.#waitingOn.set(dep, [rec]);
      }
    }
    if (rec.missing === 0) this.#enqueue(rec);
  }

  /** A task's demand and what of it the node lacks, per options object (calls of one function share it). */
  #shapeOf(options: TaskSpec["options"]): { demand: Resources; missingResource?: string } {
    let shape = this.#shapes.get(options);
    if (!shape) {
      const demand = demandOf(options.numCpus, options.resources);
      shape = { demand, missingResource: unmet(demand, this.#opts.total) };
      this.#shapes.set(options, shape);
    }
    return shape;
  }

  /** An object now exists: release the tasks waiting for it. */
  objectCreated(id: ObjectId, isError: boolean): void {
    const waiters = this.#waitingOn.get(id);
    if (!waiters) return;
    this.#waitingOn.delete(id);
    for (const rec of waiters) {
      if (rec.state !== "waiting") continue;
      if (isError) this.#propagate(rec, id);
      else if (--rec.missing === 0) this.#enqueue(rec);
    }
  }

  /**
   * A task on a worker reported its result after `ms` of running.
   * @param workerId the worker that reported it, when known
   * @returns "stale" when the task is not running there (unknown, finished,
   * or sent elsewhere after that worker died: drop the result), "retry" when
   * a failed task with `retryExceptions` should run again (drop the result),
   * "cancelled" when it was cancelled while running (drop the result: its
   * returns already failed with TaskCancelledError), else
   * "done"
   */
  taskFinished(taskId: TaskId, ms = 0, failed = false, workerId?: WorkerId): Outcome {
    const rec = this.#rec(taskId);
    if (!rec || rec.workerId === undefined) return "stale";
    if (workerId !== undefined && rec.workerId !== workerId) return "stale";
    this.#leaveWorker(rec);
    if (rec.cancelled) {
      this.#forget(rec);
      return "cancelled";
    }
    const prev = this.#fnMs.get(rec.fnKey);
    this.#fnMs.set(rec.fnKey, prev === undefined ? ms : prev + EMA_WEIGHT * (ms - prev));
    if (failed && rec.spec.options.retryExceptions && this.#retriesLeft(rec)) {
      rec.spec.attempt++;
      this.#enqueue(rec);
      return "retry";
    }
    this.#forget(rec);
    return "done";
  }

  /** A running task waits in get/wait: its worker may give its CPU back. */
  taskBlocked(taskId: TaskId): void {
    const rec = this.#rec(taskId);
    if (rec?.state !== "running") return;
    rec.state = "blocked";
    this.#adjustRunning(this.#workers.get(rec.workerId!), -1, 0);
  }

  /** A blocked task resumes: its worker takes CPU again if it had none (may oversubscribe). */
  taskUnblocked(taskId: TaskId): void {
    const rec = this.#rec(taskId);
    if (rec?.state !== "blocked") return;
    rec.state = "running";
    this.#adjustRunning(this.#workers.get(rec.workerId!), 1, rec.demand.CPU ?? 0);
  }

  /**
   * Cancels a task: it fails at once ("cancelled"). One not yet running is
   * dropped; a running one gives its resources back at once (its worker may
   * take other tasks meanwhile, as for a blocked task) and is signalled or,
   * with `force`, its worker ended ("abort"); its later result is dropped.
   * With `recursive`, the tasks it submitted are cancelled too. A forced
   * cancel of a task cancelled before that still runs ends its worker.
   * @returns false when the task is not known here (finished or never seen)
   * or was cancelled already (and this adds no force)
   */
  cancel(taskId: TaskId, mode: CancelMode): boolean {
    const rec = this.#rec(taskId);
    if (!rec) return false;
    if (rec.cancelled) {
      // Cancelled but still running: a forced cancel now ends its worker.
      if (!mode.force || rec.state !== "cancelling") return false;
      this.#out.push({ type: "abort", workerId: rec.workerId!, spec: rec.spec, force: true });
      return true;
    }
    if (mode.recursive) {
      for (const child of this.#children.get(taskId) ?? []) {
        this.cancel(child, { force: mode.force, recursive: true });
      }
    }
    rec.cancelled = true;
    this.#out.push({ type: "cancelled", spec: rec.spec });
    if (rec.state === "waiting" || rec.state === "ready") {
      this.#forget(rec);
    } else {
      if (rec.state === "running") this.#adjustRunning(this.#workers.get(rec.workerId!), -1, 0);
      this.#releaseOther(rec);
      rec.state = "cancelling";
      const { force, recursive } = mode;
      const abort = { type: "abort", workerId: rec.workerId!, spec: rec.spec, force } as const;
      this.#out.push(recursive ? { ...abort, recursive } : abort);
    }
    return true;
  }

  /** Cancels the tasks `parent` submitted (a parent this scheduler does not hold: a leased task). */
  cancelChildren = (parent: TaskId, mode: CancelMode): void =>
    [...this.#children.get(parent) ?? []].forEach((child) => void this.cancel(child, mode));

  /** A worker is ready for tasks. */
  workerAdded(workerId: WorkerId): void {
    this.#spawnAsked = false;
    this.#workers.set(workerId, { running: 0, cpuHeld: 0, shortOnly: true, tasks: new Set() });
  }

  /**
   * A worker died: its tasks run again while retries last, else "crashed".
   * With `cancelled`, the worker was ended to cancel a task: the others on it
   * run again without spending a retry.
   */
  workerDied(workerId: WorkerId, cancelled = false): void {
    const worker = this.#workers.get(workerId);
    if (!worker) return;
    this.#workers.delete(workerId);
    this.#spawnAsked = false;
    if (worker.running > 0) addInto(this.#used, { CPU: worker.cpuHeld }, -1);
    for (const taskId of worker.tasks) {
      const rec = this.#rec(taskId)!;
      rec.workerId = undefined;
      if (rec.cancelled) {
        // It already failed and gave its resources back.
        this.#forget(rec);
        continue;
      }
      this.#releaseOther(rec);
      if (cancelled) {
        this.#enqueue(rec);
      } else if (this.#retriesLeft(rec)) {
        rec.spec.attempt++;
        this.#enqueue(rec);
      } else {
        this.#forget(rec);
        this.#out.push({ type: "crashed", spec: rec.spec, workerId });
      }
    }
  }

  /** Holds `demand` outside any task (a live actor's resources); false when it does not fit now. */
  hold(demand: Readonly<Resources>): boolean {
    if (!fits(demand, this.#used, this.#opts.total)) return false;
    addInto(this.#used, demand, 1);
    return true;
  }

  /** Gives back what `hold` took. */
  release(demand: Readonly<Resources>): void {
    addInto(this.#used, demand, -1);
  }

  /**
   * Milliseconds the task's function took on average so far, if the task is
   * known and its function has finished before (a driver's get does not
   * spin for tasks that take long).
   */
  averageMs(taskId: TaskId): number | undefined {
    const e = this.#tasks.get(taskId);
    return e && this.#fnMs.get(isLight(e) ? fnKeyOf(e.fn) : e.fnKey);
  }

  /** Whether worker `workerId` has tasks (running, blocked, or cancelled and still running). */
  hasTasks(workerId: WorkerId): boolean {
    return (this.#workers.get(workerId)?.tasks.size ?? 0) > 0;
  }

  /** True while this scheduler holds the task (not finished, not forwarded). */
  knows(taskId: TaskId): boolean {
    return this.#tasks.has(taskId);
  }

  /** True while the task waits in get (its CPU lent out). */
  isBlocked = (taskId: TaskId): boolean => this.#stateOf(taskId) === "blocked";

  /** The worker a task runs on, if it runs. */
  workerOf(taskId: TaskId): WorkerId | undefined {
    const e = this.#tasks.get(taskId);
    return e === undefined || isLight(e) ? undefined : e.workerId;
  }

  /** Tasks not finished yet (waiting, queued, running or blocked). */
  get size(): number {
    return this.#tasks.size;
  }

  /**
   * Tasks queued (waiting for arguments or resources), on workers, and
   * resources in use (cancelled tasks still on a worker are in none).
   */
  counts(): { queued: number; running: number; blocked: number; used: Resources } {
    let running = 0;
    let blocked = 0;
    let cancelling = 0;
    for (const rec of this.#tasks.values()) {
      if (isLight(rec)) continue;
      if (rec.state === "running") running++;
      else if (rec.state === "blocked") blocked++;
      else if (rec.state === "cancelling") cancelling++;
    }
    return {
      queued: this.#tasks.size - running - blocked - cancelling,
      running,
      blocked,
      used: { ...this.#used },
    };
  }

  /** The first (at most `limit`) tasks ready to run that wait for resources or a worker. */
  waiting(limit: number, out: TaskSpec[] = []): TaskSpec[] {
    for (let i = this.#readyHead; i < this.#ready.length && out.length < limit; i++) {
      const rec = this.#entry(i);
      if (rec.state === "ready") out.push(rec.spec);
    }
    return out;
  }

  /** Hands ready tasks to idle workers and returns everything to do. */
  dispatch(): Instruction[] {
    let idle = this.#idleWorkers();
    while (this.#readyHead < this.#ready.length) {
      const rec = this.#entry(this.#readyHead);
      if (rec.state !== "ready") {
        this.#readyHead++;
        continue;
      }
      const fitsNow = fits(rec.demand, this.#used, this.#opts.total);
      const workerId = fitsNow ? idle.shift() : undefined;
      if (workerId !== undefined) {
        this.#startBatch(rec, workerId, idle.length + 1);
        if (idle.length === 0) idle = this.#idleWorkers();
        continue;
      }
      // Short tasks may queue behind a busy worker's batch of short tasks:
      // that worker starts them without waiting for a round trip to us.
      const busy = this.#batchable(rec) && !this.#hasStoreArgs(rec)
        ? this.#pipelineWorker(rec)
        : undefined;
      if (busy !== undefined) {
        this.#startBatch(rec, busy, this.#workers.size);
        continue;
      }
      if (fitsNow && !this.#spawnAsked) {
        this.#out.push({ type: "spawnWorker", count: this.#fitting() });
        this.#spawnAsked = true;
      }
      break;
    }
    if (this.#readyHead > 1024 && this.#readyHead * 2 > this.#ready.length) {
      this.#ready = this.#ready.slice(this.#readyHead);
      this.#readyHead = 0;
    }
    return this.#out.splice(0);
  }

  #startBatch(first: ScheduledTask, workerId: WorkerId, idleCount: number): void {
    const worker = this.#workers.get(workerId)!;
    const batchable = this.#batchable(first);
    worker.shortOnly &&= batchable;
    const queued = this.#ready.length - this.#readyHead;
    const limit = batchable ? Math.min(this.#opts.maxBatch, Math.ceil(queued / idleCount)) : 1;
    let taken = 0;
    let argBytes = 0;
    while (taken < limit && this.#readyHead < this.#ready.length) {
      const rec = this.#entry(this.#readyHead);
      if (rec.state === "ready") {
        if (taken > 0 && (rec.fnKey !== first.fnKey || !sameShape(rec.demand, first.demand))) break;
        // A batch's arguments are all restored and pinned at once: keep them a part of the store.
        const bytes = rec.spec.deps.length === 0 ? 0 : this.#opts.argBytes(rec.spec);
        if (taken > 0 && argBytes + bytes > this.#opts.batchArgBytes) break;
        argBytes += bytes;
        if (taken === 0) this.#takeOther(rec);
        rec.state = "running";
        rec.workerId = workerId;
        worker.tasks.add(rec.spec.taskId);
        this.#out.push({ type: "dispatch", workerId, spec: rec.spec });
        taken++;
      }
      this.#readyHead++;
    }
    this.#adjustRunning(worker, taken, first.demand.CPU ?? 0);
  }

  /** How many queued tasks, from the head, fit the free resources together (at most maxBatch). */
  #fitting(): number {
    const used = { ...this.#used };
    let count = 0;
    for (let i = this.#readyHead; i < this.#ready.length && count < this.#opts.maxBatch; i++) {
      const rec = this.#entry(i);
      if (rec.state !== "ready") continue;
      if (!fits(rec.demand, used, this.#opts.total)) break;
      addInto(used, rec.demand, 1);
      count++;
    }
    return count;
  }

  /** Known short and asking only for CPU: may go in a batch, and may queue behind another batch. */
  #batchable(rec: ScheduledTask): boolean {
    return this.#isShort(rec) && Object.keys(rec.demand).every((k) => k === "CPU");
  }

  #hasStoreArgs(rec: ScheduledTask): boolean {
    return rec.spec.deps.length > 0 && this.#opts.argBytes(rec.spec) > 0;
  }

  /** A busy worker running only short tasks, with at most one more batch queued (the least loaded). */
  #pipelineWorker(rec: ScheduledTask): WorkerId | undefined {
    let best: WorkerId | undefined;
    let load = Infinity;
    for (const [id, w] of this.#workers) {
      if (w.running === 0 || !w.shortOnly || w.tasks.size >= 2 * this.#opts.maxBatch) continue;
      if ((rec.demand.CPU ?? 0) > w.cpuHeld) continue;
      if (w.tasks.size < load) {
        best = id;
        load = w.tasks.size;
      }
    }
    return best;
  }

  #isShort(rec: ScheduledTask): boolean {
    const ms = this.#fnMs.get(rec.fnKey);
    return ms !== undefined && ms < this.#opts.batchBelowMs;
  }

  #idleWorkers(): WorkerId[] {
    const empty: WorkerId[] = [];
    const blockedOnly: WorkerId[] = [];
    for (const [id, w] of this.#workers) {
      if (w.running > 0) continue;
      (w.tasks.size === 0 ? empty : blockedOnly).push(id);
    }
    return empty.concat(blockedOnly);
  }

  /** Changes a worker's running count; it takes `cpu` when it starts running and frees it when it stops. */
  #adjustRunning(worker: WorkerLoad | undefined, delta: number, cpu: number): void {
    if (!worker) return;
    const before = worker.running;
    worker.running += delta;
    if (before === 0 && worker.running > 0) {
      worker.cpuHeld = cpu;
      addInto(this.#used, { CPU: cpu }, 1);
    } else if (before > 0 && worker.running === 0) {
      addInto(this.#used, { CPU: worker.cpuHeld }, -1);
      worker.cpuHeld = 0;
    }
  }

  /** Non-CPU resources are held per task, from dispatch to finish. */
  #takeOther(rec: ScheduledTask): void {
    const { CPU: _cpu, ...other } = rec.demand;
    addInto(this.#used, other, 1);
  }

  #releaseOther(rec: ScheduledTask): void {
    const { CPU: _cpu, ...other } = rec.demand;
    addInto(this.#used, other, -1);
  }

  #leaveWorker(rec: ScheduledTask): void {
    const worker = this.#workers.get(rec.workerId!);
    if (rec.state === "running") this.#adjustRunning(worker, -1, 0);
    worker?.tasks.delete(rec.spec.taskId);
    if (worker && worker.tasks.size === 0) worker.shortOnly = true;
    if (rec.state !== "cancelling") this.#releaseOther(rec);
    rec.workerId = undefined;
  }

  #retriesLeft(rec: ScheduledTask): boolean {
    const { maxRetries } = rec.spec.options;
    return maxRetries === -1 || rec.spec.attempt < maxRetries;
  }

  /** The task is new and the queue long: `spillback` took it (the caller lets it go). */
  #spillsBack(spec: TaskSpec): boolean {
    return spec.attempt === 0 &&
      this.#ready.length - this.#readyHead >= this.#opts.spillbackQueueLength &&
      this.#opts.spillback(spec);
  }

  /** The task `taskId` as a ScheduledTask (a light one is made one), if held. */
  #rec(taskId: TaskId): ScheduledTask | undefined {
    const e = this.#tasks.get(taskId);
    return e === undefined || !isLight(e) ? e : this.#made(e);
  }

  #stateOf(taskId: TaskId): TaskPhase | undefined {
    const e = this.#tasks.get(taskId);
    return e === undefined ? undefined : isLight(e) ? "ready" : e.state;
  }

  /** Light task `spec` made a ScheduledTask (ready, in the ready queue as its spec). */
  #made(spec: Light): ScheduledTask {
    const rec = newTask(spec, this.#shapeOf(spec.options).demand);
    rec.state = "ready";
    this.#tasks.set(spec.taskId, rec);
    return rec;
  }

  /**
   * Ready-queue entry `i` as a ScheduledTask (stored back in its place), or
   * GONE for a task that left (cancelled, forwarded) since it was queued.
   */
  #entry(i: number): ScheduledTask {
    const e = this.#ready[i];
    if (!isLight(e)) return e;
    const held = this.#tasks.get(e.taskId);
    const rec = held === e
      ? this.#made(e)
      : held !== undefined && !isLight(held) && held.spec === e
      ? held
      : GONE;
    this.#ready[i] = rec;
    return rec;
  }

  #enqueue(rec: ScheduledTask): void {
    if (this.#spillsBack(rec.spec)) {
      this.#forget(rec);
      this.#out.push({ type: "spilledBack", spec: rec.spec });
      return;
    }
    rec.state = "ready";
    this.#ready.push(rec);
  }

  #forget(rec: ScheduledTask): void {
    rec.state = "gone";
    this.#tasks.delete(rec.spec.taskId);
    this.#children.delete(rec.spec.taskId);
    const parent = rec.spec.parentTaskId;
    const siblings = parent === undefined ? undefined : this.#children.get(parent);
    if (siblings?.delete(rec.spec.taskId) && siblings.size === 0) this.#children.delete(parent!);
  }

  #propagate(rec: ScheduledTask, errorObject: ObjectId): void {
    this.#forget(rec);
    this.#out.push({ type: "propagate", spec: rec.spec, errorObject });
  }
}
