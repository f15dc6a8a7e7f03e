/**
 * The local scheduler's state machine: tasks wait for their arguments, then
 * for a CPU and a free worker. Events go in as method calls; what to do comes
 * out of `drain()` as instructions. No I/O, no timers.
 *
 * Task states: waiting (arguments missing) -> ready (queued) -> running
 * (on a worker; "blocked" while it waits in get) -> finished. A worker death
 * sends its running tasks back to ready (retry) or to failed.
 *
 * @module
 */
import type { ObjectId, TaskId, WorkerId } from "../common/mod.ts";
import type { TaskSpec } from "../protocol/mod.ts";

/** What the node should do next. */
export type Instruction =
  | { readonly type: "dispatch"; readonly workerId: WorkerId; readonly spec: TaskSpec }
  /** An argument is an error: the task fails with that same error. */
  | { readonly type: "propagate"; readonly spec: TaskSpec; readonly errorObject: ObjectId }
  /** The worker running the task died and retries ran out. */
  | { readonly type: "crashed"; readonly spec: TaskSpec; readonly workerId: WorkerId };

/** Whether an object exists, and whether it holds an error. */
export type ObjectStatus = "missing" | "ok" | "error";

type TaskState = "waiting" | "ready" | "running" | "blocked";

interface TaskRecord {
  readonly spec: TaskSpec;
  state: TaskState;
  missing: number;
  workerId?: WorkerId;
}

interface WorkerRecord {
  /** Tasks on the worker that hold a CPU (running, not blocked). */
  running: number;
  readonly tasks: Set<TaskId>;
}

/** The state machine. */
export class LocalScheduler {
  readonly #objectStatus: (id: ObjectId) => ObjectStatus;
  readonly #tasks = new Map<TaskId, TaskRecord>();
  readonly #waitingOn = new Map<ObjectId, TaskRecord[]>();
  #ready: TaskRecord[] = [];
  #readyHead = 0;
  readonly #workers = new Map<WorkerId, WorkerRecord>();
  readonly #out: Instruction[] = [];
  readonly #totalCpus: number;
  #usedCpus = 0;

  /**
   * @param totalCpus CPUs this node offers
   * @param objectStatus tells whether an object exists (the node's object table)
   */
  constructor(totalCpus: number, objectStatus: (id: ObjectId) => ObjectStatus) {
    this.#totalCpus = totalCpus;
    this.#objectStatus = objectStatus;
  }

  /** A new task: waits for its arguments, or queues. */
  submit(spec: TaskSpec): void {
    const rec: TaskRecord = { spec, state: "waiting", missing: 0 };
    this.#tasks.set(spec.taskId, rec);
    for (const dep of new Set(spec.deps)) {
      const status = this.#objectStatus(dep);
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

  /** A task finished (either way): free its CPU and worker slot. */
  taskFinished(taskId: TaskId): void {
    const rec = this.#tasks.get(taskId);
    if (!rec || rec.workerId === undefined) return;
    this.#tasks.delete(taskId);
    const worker = this.#workers.get(rec.workerId);
    if (rec.state === "running") {
      this.#usedCpus -= rec.spec.options.numCpus;
      if (worker) worker.running--;
    }
    worker?.tasks.delete(taskId);
  }

  /** A running task waits in get/wait: it gives its CPU back. */
  taskBlocked(taskId: TaskId): void {
    const rec = this.#tasks.get(taskId);
    if (rec?.state !== "running") return;
    rec.state = "blocked";
    this.#usedCpus -= rec.spec.options.numCpus;
    const worker = this.#workers.get(rec.workerId!);
    if (worker) worker.running--;
  }

  /** A blocked task resumes: it takes its CPU again (possibly oversubscribing). */
  taskUnblocked(taskId: TaskId): void {
    const rec = this.#tasks.get(taskId);
    if (rec?.state !== "blocked") return;
    rec.state = "running";
    this.#usedCpus += rec.spec.options.numCpus;
    const worker = this.#workers.get(rec.workerId!);
    if (worker) worker.running++;
  }

  /** A worker is ready for tasks. */
  workerAdded(workerId: WorkerId): void {
    this.#workers.set(workerId, { running: 0, tasks: new Set() });
  }

  /** A worker died: retry its tasks or report them crashed. */
  workerDied(workerId: WorkerId): void {
    const worker = this.#workers.get(workerId);
    if (!worker) return;
    this.#workers.delete(workerId);
    for (const taskId of worker.tasks) {
      const rec = this.#tasks.get(taskId)!;
      if (rec.state === "running") this.#usedCpus -= rec.spec.options.numCpus;
      rec.workerId = undefined;
      const { maxRetries } = rec.spec.options;
      if (maxRetries === -1 || rec.spec.attempt < maxRetries) {
        rec.spec.attempt++;
        this.#enqueue(rec);
      } else {
        this.#tasks.delete(taskId);
        this.#out.push({ type: "crashed", spec: rec.spec, workerId });
      }
    }
  }

  /** Tasks waiting for arguments or queued, and tasks on workers. */
  counts(): { queued: number; running: number; usedCpus: number } {
    const queued = this.#ready.length - this.#readyHead;
    return { queued, running: this.#tasks.size - queued, usedCpus: this.#usedCpus };
  }

  /** Hands out ready tasks to idle workers and returns everything to do. */
  drain(): Instruction[] {
    while (this.#readyHead < this.#ready.length) {
      const rec = this.#ready[this.#readyHead];
      const cpus = rec.spec.options.numCpus;
      if (this.#usedCpus > 0 && this.#usedCpus + cpus > this.#totalCpus + 1e-9) break;
      const workerId = this.#pickWorker();
      if (workerId === undefined) break;
      this.#readyHead++;
      this.#start(rec, workerId, cpus);
    }
    if (this.#readyHead > 1024 && this.#readyHead * 2 > this.#ready.length) {
      this.#ready = this.#ready.slice(this.#readyHead);
      this.#readyHead = 0;
    }
    return this.#out.splice(0);
  }

  #start(rec: TaskRecord, workerId: WorkerId, cpus: number): void {
    const worker = this.#workers.get(workerId)!;
    rec.state = "running";
    rec.workerId = workerId;
    worker.running++;
    worker.tasks.add(rec.spec.taskId);
    this.#usedCpus += cpus;
    this.#out.push({ type: "dispatch", workerId, spec: rec.spec });
  }

  /** An idle worker, preferring one with no tasks at all over one whose tasks are all blocked. */
  #pickWorker(): WorkerId | undefined {
    let fallback: WorkerId | undefined;
    for (const [id, w] of this.#workers) {
      if (w.running > 0) continue;
      if (w.tasks.size === 0) return id;
      fallback ??= id;
    }
    return fallback;
  }

  #enqueue(rec: TaskRecord): void {
    rec.state = "ready";
    this.#ready.push(rec);
  }

  #propagate(rec: TaskRecord, errorObject: ObjectId): void {
    this.#tasks.delete(rec.spec.taskId);
    rec.state = "ready";
    this.#out.push({ type: "propagate", spec: rec.spec, errorObject });
  }
}
