/**
 * The in-memory control store: the default of embedded mode.
 *
 * @module
 */
import type { ActorId, JobId, NodeId, ObjectId, TaskId } from "../common/mod.ts";
import type { TaskSpec } from "../protocol/mod.ts";
import type { ControlStore, ControlStoreOptions, Unsubscribe } from "./control_store.ts";
import { GCS_DEFAULTS } from "./control_store.ts";
import type { Channel, ChannelMessages, ControlStoreEvent, JobState, NodeState } from "./events.ts";
import { channelMessage } from "./events.ts";
import type {
  ActorFilter,
  ActorRecord,
  FunctionRecord,
  JobRecord,
  ListFilter,
  NodeRecord,
  ObjectFilter,
  ObjectRecord,
  StoreSummary,
  TaskFilter,
  TaskRecord,
  WorkerFilter,
  WorkerRecord,
} from "./records.ts";
import { storeClosed } from "./errors.ts";
import { actorNameKey, functionField, MemoryTables } from "./_memory_tables.ts";
import { listLimit, newestFirst, stateTime } from "./_listing.ts";
import { Subscribers } from "./_subscribers.ts";
import { specOf } from "./_task_spec.ts";

/**
 * A control store held in this process's memory. Recorded events are applied
 * in a microtask, in batches; subscribers are called after each batch.
 *
 * @example
 * ```ts
 * import { MemoryControlStore } from "./memory_store.ts";
 * const store = new MemoryControlStore();
 * store.record({ type: "kvPut", key: "a", value: "1" });
 * await store.flush();
 * console.assert((await store.kvGet("a")) === "1");
 * await store.close();
 * ```
 */
export class MemoryControlStore implements ControlStore {
  readonly address = "memory";
  #tables: MemoryTables;
  #pending: ControlStoreEvent[] = [];
  #scheduled = false;
  #closed = false;
  #subscribers = new Subscribers();

  /** @param options history cap and per-task transition cap */
  constructor(options: ControlStoreOptions = {}) {
    this.#tables = new MemoryTables(
      options.maxFinishedTasks ?? GCS_DEFAULTS.maxFinishedTasks,
      options.taskHistoryMax ?? GCS_DEFAULTS.taskHistoryMax,
    );
  }

  record(event: ControlStoreEvent): void {
    if (this.#closed) return;
    this.#pending.push(event);
    if (this.#scheduled) return;
    this.#scheduled = true;
    queueMicrotask(() => this.#apply());
  }

  /** Never behind: events are applied at the end of the turn they were recorded in. */
  backpressure(): Promise<void> | undefined {
    return undefined;
  }

  flush(): Promise<void> {
    this.#apply();
    return Promise.resolve();
  }

  #apply(): void {
    this.#scheduled = false;
    const batch = this.#pending;
    if (batch.length === 0) return;
    this.#pending = [];
    for (const e of batch) this.#tables.apply(e);
    for (const e of batch) {
      const m = channelMessage(e);
      if (m && this.#subscribers.count(m.channel) > 0) {
        this.#subscribers.deliver(m.channel, m.message);
      }
    }
  }

  #read<T>(f: (t: MemoryTables) => T): Promise<T> {
    if (this.#closed) return Promise.reject(storeClosed(this.address));
    try {
      return Promise.resolve(structuredClone(f(this.#tables)));
    } catch (err) {
      return Promise.reject(err);
    }
  }

  getJob(jobId: JobId): Promise<JobRecord | undefined> {
    return this.#read((t) => t.jobs.get(jobId));
  }

  listJobs(filter: ListFilter<JobState> = {}): Promise<JobRecord[]> {
    return this.#read((t) =>
      newestFirst(
        t.jobs.values(),
        stateTime.job,
        (r) => matches(r.state, filter.state),
        listLimit(filter.limit),
      )
    );
  }

  getNode(nodeId: NodeId): Promise<NodeRecord | undefined> {
    return this.#read((t) => t.nodes.get(nodeId));
  }

  listNodes(filter: ListFilter<NodeState> = {}): Promise<NodeRecord[]> {
    return this.#read((t) =>
      newestFirst(
        t.nodes.values(),
        stateTime.node,
        (r) => matches(r.state, filter.state),
        listLimit(filter.limit),
      )
    );
  }

  listWorkers(filter: WorkerFilter = {}): Promise<WorkerRecord[]> {
    return this.#read((t) =>
      newestFirst(
        t.workers.values(),
        stateTime.worker,
        (r) => matches(r.state, filter.state) && matches(r.nodeId, filter.nodeId),
        listLimit(filter.limit),
      )
    );
  }

  getFunction(jobId: JobId, moduleUrl: string, key: string): Promise<FunctionRecord | undefined> {
    return this.#read((t) => t.functions.get(jobId)?.get(functionField(moduleUrl, key)));
  }

  listFunctions(jobId: JobId): Promise<FunctionRecord[]> {
    return this.#read((t) => [...(t.functions.get(jobId)?.values() ?? [])]);
  }

  getTask(taskId: TaskId): Promise<TaskRecord | undefined> {
    return this.#read((t) => {
      return t.task(taskId);
    });
  }

  getTaskSpec(taskId: TaskId): Promise<TaskSpec | undefined> {
    return this.#read((t) => {
      const task = t.task(taskId);
      return task && specOf(task);
    });
  }

  listTasks(filter: TaskFilter = {}): Promise<TaskRecord[]> {
    return this.#read((t) =>
      t.listTasks(
        (state, jobId, nodeId) =>
          matches(state, filter.state) && matches(jobId, filter.jobId) &&
          matches(nodeId, filter.nodeId),
        listLimit(filter.limit),
      )
    );
  }

  getObject(objectId: ObjectId): Promise<ObjectRecord | undefined> {
    return this.#read((t) => t.objects.get(objectId));
  }

  listObjects(filter: ObjectFilter = {}): Promise<ObjectRecord[]> {
    return this.#read((t) =>
      newestFirst(
        t.objects.values(),
        stateTime.object,
        (r) =>
          matches(r.state, filter.state) &&
          (filter.nodeId === undefined || r.locations.includes(filter.nodeId)),
        listLimit(filter.limit),
      )
    );
  }

  getActor(actorId: ActorId): Promise<ActorRecord | undefined> {
    return this.#read((t) => t.actors.get(actorId));
  }

  getNamedActor(name: string, namespace?: string): Promise<ActorRecord | undefined> {
    return this.#read((t) => {
      const id = t.actorNames.get(actorNameKey(name, namespace));
      return id === undefined ? undefined : t.actors.get(id);
    });
  }

  listActors(filter: ActorFilter = {}): Promise<ActorRecord[]> {
    return this.#read((t) =>
      newestFirst(
        t.actors.values(),
        stateTime.actor,
        (r) => matches(r.state, filter.state) && matches(r.jobId, filter.jobId),
        listLimit(filter.limit),
      )
    );
  }

  summary(): Promise<StoreSummary> {
    return this.#read((t) => {
      const byFunction: StoreSummary["tasks"]["byFunction"] = {};
      for (const [name, c] of t.taskFunctions) byFunction[name] = c.toObject();
      return {
        tasks: {
          byState: t.taskStates.toObject(),
          byFunction,
          retained: t.taskCount,
          evicted: t.evictedCount,
        },
        objects: { byState: t.objectStates.toObject(), totalBytes: t.objectBytes },
        nodes: countStates(t.nodes.values()),
        workers: countStates(t.workers.values()),
        actors: countStates(t.actors.values()),
        jobs: countStates(t.jobs.values()),
      };
    });
  }

  kvGet(key: string): Promise<string | undefined> {
    return this.#read((t) => t.kv.get(key));
  }

  kvPut(key: string, value: string): Promise<void> {
    if (this.#closed) return Promise.reject(storeClosed(this.address));
    this.record({ type: "kvPut", key, value });
    return this.flush();
  }

  kvDelete(key: string): Promise<void> {
    if (this.#closed) return Promise.reject(storeClosed(this.address));
    this.record({ type: "kvDelete", key });
    return this.flush();
  }

  kvKeys(prefix = ""): Promise<string[]> {
    return this.#read((t) => [...t.kv.keys()].filter((k) => k.startsWith(prefix)).sort());
  }

  subscribe<C extends Channel>(
    channel: C,
    handler: (message: ChannelMessages[C]) => void,
  ): Unsubscribe {
    const ready = Promise.resolve();
    if (this.#closed) return Object.assign(() => {}, { ready });
    return Object.assign(this.#subscribers.add(channel, handler), { ready });
  }

  close(): Promise<void> {
    if (this.#closed) return Promise.resolve();
    this.#apply();
    this.#closed = true;
    this.#subscribers.clear();
    return Promise.resolve();
  }
}

function matches<T>(value: T, wanted: T | undefined): boolean {
  return wanted === undefined || value === wanted;
}

function countStates<S extends string>(
  records: Iterable<{ state: S }>,
): Partial<Record<S, number>> {
  const out: Partial<Record<S, number>> = {};
  for (const r of records) out[r.state] = (out[r.state] ?? 0) + 1;
  return out;
}
