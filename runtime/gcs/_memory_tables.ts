/**
 * The tables of the in-memory control store and how each event changes them.
 * The Lua script of the Redis store (_redis_script.ts) applies the same rules.
 *
 * @module
 */
import type { ActorId, JobId, NodeId, ObjectId, TaskId } from "../common/mod.ts";
import { objectIdOf } from "../common/mod.ts";
import type {
  ActorStateChanged,
  ControlStoreEvent,
  ObjectState,
  TaskState,
  TaskStateChanged,
  TaskSubmitted,
} from "./events.ts";
import { FINAL_TASK_STATES } from "./events.ts";
import { newestFirst } from "./_listing.ts";
import { ActorCallLog } from "./_actor_calls.ts";
import { FinishedTasks } from "./_finished_tasks.ts";
import type {
  ActorRecord,
  FunctionRecord,
  JobRecord,
  NodeRecord,
  ObjectRecord,
  TaskRecord,
  TaskTransition,
  WorkerRecord,
} from "./records.ts";

const FINAL = new Set<string>(FINAL_TASK_STATES);
/**
 * No ids: a task's `deps` before its spec came, and its `returns` as kept
 * (made from its id and `numReturns` when read: `recordOf`), so a queued
 * task's record holds no array or id strings of its own for them.
 */
const NO_IDS = Object.freeze([]) as unknown as ObjectId[];

/**
 * A task's record as kept: its history flat, `[state, ms since the tables'
 * start, state, ms, ...]` (small integers; no object or boxed number per
 * transition: a finished task's record is about 150 bytes smaller, and the
 * last `maxFinishedTasks` of them are kept). `recordOf` makes the record a
 * reader sees.
 */
export type TaskRow = Omit<TaskRecord, "history"> & { history: (TaskState | number)[] };

/** A history before its first transition (every write replaces the array). */
const NO_HISTORY = Object.freeze([]) as unknown as TaskRow["history"];

/**
 * The record of `row` as read: its history's times counted from `base`, its
 * `returns` listed (the tables keep none; see NO_IDS). Always a new object.
 */
function recordOf(row: TaskRow, base: number): TaskRecord {
  const history: TaskTransition[] = [];
  const flat = row.history;
  for (let i = 0; i < flat.length; i += 2) {
    history.push({ state: flat[i] as TaskState, ts: base + (flat[i + 1] as number) });
  }
  const n = row.options?.numReturns ?? 0;
  const returns = n === 0 || row.returns.length > 0
    ? row.returns
    : Array.from({ length: n }, (_, i) => objectIdOf(row.taskId, i));
  return { ...row, history, returns };
}

/** Counts per key, with +1/-1 moves. */
export class Counter {
  /** The counts; keys at zero stay. */
  readonly counts = new Map<string, number>();
  /** Adds `by` to `key`. */
  add(key: string, by: number): void {
    this.counts.set(key, (this.counts.get(key) ?? 0) + by);
  }
  /** The counts as a plain object, without zeros. */
  toObject(): Record<string, number> {
    const out: Record<string, number> = {};
    for (const [k, v] of this.counts) if (v !== 0) out[k] = v;
    return out;
  }
}

/** `o` without its `undefined` properties, so records compare equal across stores. */
function defined<T extends object>(o: T): T {
  for (const k of Object.keys(o) as (keyof T)[]) if (o[k] === undefined) delete o[k];
  return o;
}

/** Key of a function within its job. */
export function functionField(moduleUrl: string, key: string): string {
  return `${moduleUrl}|${key}`;
}

/** Key of a named actor: `<namespace>/<name>`. */
export function actorNameKey(name: string, namespace = ""): string {
  return `${namespace}/${name}`;
}

/**
 * True for a transition that adds nothing: the same state again, not newer
 * (a replayed write), or a non-final state older than the task's final one
 * (a late write from another node).
 */
export function stale(task: Pick<TaskRecord, "state" | "updatedAt">, e: TaskStateChanged): boolean {
  if (task.state === e.state) return e.ts <= task.updatedAt;
  return FINAL.has(task.state) && !FINAL.has(e.state) && e.ts < task.updatedAt;
}

/** All tables of one in-memory store. */
export class MemoryTables {
  readonly jobs = new Map<JobId, JobRecord>();
  readonly nodes = new Map<NodeId, NodeRecord>();
  readonly workers = new Map<string, WorkerRecord>();
  readonly functions = new Map<JobId, Map<string, FunctionRecord>>();
  /**
   * Tasks by id. A task known only from its `taskSubmitted` event is kept as
   * that event (already made, 56 bytes) until anything changes it: a queued
   * task then costs no record, history or timestamps of its own (about 300
   * bytes less a task; a million queued tasks are common). A final,
   * unpinned task is its number in the capped history (`#finished`).
   */
  readonly #tasks = new Map<TaskId, TaskRow | TaskSubmitted | number>();
  /** What the times in the rows' histories count from. */
  readonly #base = Date.now();
  /** Unpinned final tasks, oldest first, in columns: the capped history. */
  readonly #finished = new FinishedTasks();
  readonly objects = new Map<ObjectId, ObjectRecord>();
  readonly actors = new Map<ActorId, ActorRecord>();
  /** Actor method calls, as their callers recorded them (./_actor_calls.ts). */
  readonly calls: ActorCallLog;
  readonly actorNames = new Map<string, ActorId>();
  readonly kv = new Map<string, string>();
  readonly taskStates = new Counter();
  readonly taskFunctions = new Map<string, Counter>();
  readonly objectStates = new Counter();
  objectBytes = 0;
  evicted = 0;

  /** @param maxFinishedTasks history cap @param taskHistoryMax transitions kept per task */
  constructor(readonly maxFinishedTasks: number, readonly taskHistoryMax: number) {
    this.calls = new ActorCallLog(maxFinishedTasks, this.actors);
  }

  /** Applies one event. */
  apply(e: ControlStoreEvent): void {
    switch (e.type) {
      case "jobStarted":
        this.jobs.set(
          e.jobId,
          defined({
            jobId: e.jobId,
            state: "running",
            startedAt: e.ts,
            nodeId: e.nodeId,
            entrypoint: e.entrypoint,
            namespace: e.namespace,
          }),
        );
        return;
      case "jobFinished": {
        const job = this.jobs.get(e.jobId);
        if (job) Object.assign(job, { state: "finished", endedAt: e.ts });
        return;
      }
      case "nodeAdded":
        this.nodes.set(e.nodeId, {
          nodeId: e.nodeId,
          state: "alive",
          address: e.address,
          resources: { ...e.resources },
          numWorkers: e.numWorkers,
          startedAt: e.ts,
          heartbeatAt: e.ts,
        });
        return;
      case "nodeHeartbeat": {
        const node = this.nodes.get(e.nodeId);
        if (node?.state !== "alive") return;
        node.heartbeatAt = e.ts;
        if (e.available) node.available = { ...e.available };
        if (e.queued !== undefined) node.queued = e.queued;
        if (e.running !== undefined) node.running = e.running;
        return;
      }
      case "nodeRemoved": {
        const node = this.nodes.get(e.nodeId);
        if (node) Object.assign(node, defined({ state: "dead", endedAt: e.ts, reason: e.reason }));
        return;
      }
      case "workerStarted":
        this.workers.set(`${e.nodeId}:${e.workerId}`, {
          nodeId: e.nodeId,
          workerId: e.workerId,
          state: "alive",
          startedAt: e.ts,
        });
        return;
      case "workerDied": {
        const w = this.workers.get(`${e.nodeId}:${e.workerId}`);
        if (w) Object.assign(w, defined({ state: "dead", endedAt: e.ts, reason: e.reason }));
        return;
      }
      case "functionRegistered": {
        let fns = this.functions.get(e.jobId);
        if (!fns) this.functions.set(e.jobId, fns = new Map());
        const { moduleUrl, key, name, source } = e.fn;
        fns.set(
          functionField(moduleUrl, key),
          defined({ jobId: e.jobId, moduleUrl, key, name, source }),
        );
        return;
      }
      case "taskSubmitted":
        return this.#taskSubmitted(e);
      case "taskState":
        return this.#taskState(e);
      case "actorCalls":
        return this.calls.add(e, { count: (name, state, by) => this.#countTask(name, state, by) });
      case "lineagePinned": {
        const task = this.#record(e.taskId); // out of the capped history, if it was there
        if (task) task.pinned = true;
        return;
      }
      case "lineageUnpinned": {
        if (typeof this.#tasks.get(e.taskId) === "number") return; // in the history: unpinned
        const task = this.#record(e.taskId);
        if (!task?.pinned) return;
        task.pinned = false;
        if (FINAL.has(task.state)) this.#retire(task);
        return;
      }
      case "objectCreated": {
        const obj = this.objects.get(e.objectId);
        if (obj) return this.#addLocation(obj, e.nodeId);
        this.objects.set(e.objectId, {
          objectId: e.objectId,
          state: "ready",
          size: e.size,
          owner: e.owner,
          locations: [e.nodeId],
          createdAt: e.ts,
        });
        this.objectStates.add("ready", 1);
        this.objectBytes += e.size;
        return;
      }
      case "objectLocationAdded": {
        const obj = this.objects.get(e.objectId);
        if (obj) this.#addLocation(obj, e.nodeId);
        return;
      }
      case "objectLocationRemoved": {
        const obj = this.objects.get(e.objectId);
        if (!obj) return;
        obj.locations = obj.locations.filter((n) => n !== e.nodeId);
        if (obj.locations.length === 0) this.#objectState(obj, "lost");
        return;
      }
      case "objectFreed": {
        const obj = this.objects.get(e.objectId);
        if (!obj) return;
        this.objects.delete(e.objectId);
        this.objectStates.add(obj.state, -1);
        this.objectBytes -= obj.size;
        return;
      }
      case "actorState":
        return this.#actorState(e);
      case "kvPut":
        this.kv.set(e.key, e.value);
        return;
      case "kvDelete":
        this.kv.delete(e.key);
        return;
    }
  }

  #addLocation(obj: ObjectRecord, nodeId: NodeId): void {
    if (!obj.locations.includes(nodeId)) obj.locations.push(nodeId);
    this.#objectState(obj, "ready");
  }

  #objectState(obj: ObjectRecord, state: ObjectState): void {
    if (obj.state === state) return;
    this.objectStates.add(obj.state, -1);
    this.objectStates.add(state, 1);
    obj.state = state;
  }

  /** Counts `by` tasks in `state`, overall and (when the name is known) for the function. */
  #countTask(name: string, state: string, by: number): void {
    this.taskStates.add(state, by);
    this.#countFunction(name, state, by);
  }

  #countFunction(name: string, state: string, by: number): void {
    if (name === "") return;
    let c = this.taskFunctions.get(name);
    if (!c) this.taskFunctions.set(name, c = new Counter());
    c.add(state, by);
  }

  /** Tasks kept (queued, running, final within the history cap), actor calls too. */
  get taskCount(): number {
    return this.#tasks.size + this.calls.size;
  }

  /** Final task records and ended actor calls dropped beyond the cap. */
  get evictedCount(): number {
    return this.evicted + this.calls.evicted;
  }

  /** The record of task `id` as read (a submitted-only task's is made for the reader, not kept). */
  task(id: TaskId): TaskRecord | undefined {
    const task = this.#tasks.get(id);
    return task !== undefined ? this.#recordOf(task) : this.calls.get(id);
  }

  /**
   * The tasks whose state, job and node pass `keep`, newest first, at most
   * `limit`, as read. Only those returned are made into records.
   */
  listTasks(
    keep: (state: TaskState, jobId: JobId | undefined, nodeId: NodeId | undefined) => boolean,
    limit: number,
  ): TaskRecord[] {
    const done = this.#finished;
    const tasks = newestFirst(
      this.#tasks.values(),
      (t) => typeof t === "number" ? done.updatedAt(t) : "type" in t ? t.ts : t.updatedAt,
      (t) =>
        typeof t === "number"
          ? keep(done.state(t), done.jobId(t), done.nodeId(t))
          : "type" in t
          ? keep("submitted", t.jobId, undefined)
          : keep(t.state, t.jobId, t.nodeId),
      limit,
    ).map((t) => this.#recordOf(t));
    if (this.calls.size === 0) return tasks;
    const all = tasks.concat(this.calls.list(keep, limit));
    return all.sort((a, b) => b.updatedAt - a.updatedAt).slice(0, limit);
  }

  #recordOf(task: TaskRow | TaskSubmitted | number): TaskRecord {
    const base = this.#base;
    if (typeof task === "number") return recordOf(this.#finished.row(task), base);
    return recordOf("type" in task ? submittedRow(task, base) : task, base);
  }

  /**
   * The kept row of task `id`, to change: made from its submission when that
   * is all there was, or taken out of the capped history.
   */
  #record(id: TaskId): TaskRow | undefined {
    const task = this.#tasks.get(id);
    if (task === undefined) return undefined;
    if (typeof task !== "number" && !("type" in task)) return task;
    const row = typeof task === "number"
      ? this.#finished.take(task)
      : submittedRow(task, this.#base);
    this.#tasks.set(id, row);
    return row;
  }

  #taskSubmitted(e: TaskSubmitted): void {
    const spec = e.spec;
    const task = this.#record(spec.taskId);
    const name = spec.options.name ?? spec.fn.name;
    if (!task) {
      this.#tasks.set(spec.taskId, e);
      this.#countTask("", "submitted", 1);
      this.#countFunction(name, "submitted", 1);
      return;
    }
    if (task.name === "") this.#countFunction(name, task.state, 1);
    fromSubmission(task, e);
    if (FINAL.has(task.state) && !task.pinned) this.#retire(task); // back to the history
  }

  #taskState(e: TaskStateChanged): void {
    const kept = this.#tasks.get(e.taskId);
    if (typeof kept === "number") {
      const done = this.#finished;
      if (stale({ state: done.state(kept), updatedAt: done.updatedAt(kept) }, e)) return;
    }
    let task = this.#record(e.taskId);
    if (!task) {
      task = newTask(e.taskId, e.state, e.ts, 0);
      this.#tasks.set(e.taskId, task);
      this.#countTask("", e.state, 1);
    } else if (stale(task, e)) {
      return;
    }
    const old = task.state;
    if (old !== e.state) {
      this.#countTask(task.name, old, -1);
      this.#countTask(task.name, e.state, 1);
    }
    // A new array of the exact length: a push grows an array's room to 17 entries (150 bytes a task).
    const next = [...task.history, e.state, e.ts - this.#base];
    const max = 2 * this.taskHistoryMax;
    task.history = next.length > max ? next.slice(next.length - max) : next;
    task.state = e.state;
    task.updatedAt = e.ts;
    if (e.nodeId !== undefined) task.nodeId = e.nodeId;
    if (e.workerId !== undefined) task.workerId = e.workerId;
    if (e.attempt !== undefined) task.attempt = e.attempt;
    if (e.error !== undefined) task.error = e.error;
    if (FINAL.has(e.state)) {
      task.endedAt = e.ts;
      if (!task.pinned) this.#retire(task);
    } else if (FINAL.has(old)) {
      task.endedAt = undefined; // retried: out of the history (#record took it out)
    }
  }

  /** Moves a final, unpinned task into the capped history, dropping the oldest beyond the cap. */
  #retire(task: TaskRow): void {
    task.args = undefined;
    this.#tasks.set(task.taskId, this.#finished.add(task));
    while (this.#finished.live > this.maxFinishedTasks) {
      this.#tasks.delete(this.#finished.shift()!);
      this.evicted++;
    }
  }

  #actorState(e: ActorStateChanged): void {
    let actor = this.actors.get(e.actorId);
    if (!actor) {
      actor = { actorId: e.actorId, state: e.state, restarts: 0, updatedAt: e.ts };
      this.actors.set(e.actorId, actor);
    }
    actor.state = e.state;
    actor.updatedAt = e.ts;
    for (
      const k of [
        "className",
        "name",
        "namespace",
        "jobId",
        "nodeId",
        "workerId",
        "restarts",
        "error",
      ] as const
    ) {
      if (e[k] !== undefined) (actor as unknown as Record<string, unknown>)[k] = e[k];
    }
    if (actor.name === undefined) return;
    const key = actorNameKey(actor.name, actor.namespace);
    if (e.state !== "dead") this.actorNames.set(key, actor.actorId);
    else if (this.actorNames.get(key) === actor.actorId) this.actorNames.delete(key);
  }
}

/** The row of a task known only from its submission `e` (history times from `base`). */
function submittedRow(e: TaskSubmitted, base: number): TaskRow {
  const task = newTask(e.spec.taskId, "submitted", e.ts, e.spec.attempt);
  task.history = ["submitted", e.ts - base];
  return fromSubmission(task, e);
}

/** Fills `task`'s fields from its submission `e`. */
function fromSubmission(task: TaskRow, e: TaskSubmitted): TaskRow {
  const spec = e.spec;
  task.jobId = e.jobId;
  task.name = spec.options.name ?? spec.fn.name;
  task.moduleUrl = spec.fn.moduleUrl;
  task.fnKey = spec.fn.key;
  task.submittedAt = e.ts;
  if (spec.parentTaskId !== undefined) task.parentTaskId = spec.parentTaskId;
  task.deps = spec.deps as ObjectId[]; // specs are never changed after submission
  task.options = spec.options; // its returns follow from it (recordOf)
  if (spec.args instanceof Uint8Array && (!FINAL.has(task.state) || task.pinned)) {
    task.args = spec.args; // frames are never written after they are made
  }
  return task;
}

/**
 * A task record with every field present from the start, so that all records
 * share one object shape (fields added later would make V8 build new shapes
 * per record, and cost memory and speed with a million of them).
 */
function newTask(
  taskId: TaskId,
  state: TaskRecord["state"],
  ts: number,
  attempt: number,
): TaskRow {
  return {
    taskId,
    jobId: undefined,
    name: "",
    moduleUrl: undefined,
    fnKey: undefined,
    state,
    history: NO_HISTORY,
    submittedAt: undefined,
    updatedAt: ts,
    endedAt: undefined,
    nodeId: undefined,
    workerId: undefined,
    parentTaskId: undefined,
    attempt,
    deps: NO_IDS,
    returns: NO_IDS,
    options: undefined,
    args: undefined,
    error: undefined,
    pinned: false,
  };
}
