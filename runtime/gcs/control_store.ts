/**
 * The control store interface (Ray's GCS): a fire-and-forget, batched write
 * side, async state queries, pub/sub of changes, and a small KV.
 *
 * @module
 */
import type { ActorId, JobId, NodeId, ObjectId, TaskId } from "../common/mod.ts";
import { config } from "../common/mod.ts";
import type { TaskSpec } from "../protocol/mod.ts";
import type { Channel, ChannelMessages, ControlStoreEvent } from "./events.ts";
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
import type { JobState, NodeState } from "./events.ts";

/**
 * Defaults of the control store's settings. They belong in
 * runtime/common/config.ts under the names given in each comment.
 */
export const GCS_DEFAULTS = {
  /** `gcsMaxFinishedTasks`: finished task records kept (unpinned ones beyond it are dropped, oldest first). */
  maxFinishedTasks: config("gcsMaxFinishedTasks"),
  /** `gcsTaskHistoryMax`: state transitions kept per task record (the latest). */
  taskHistoryMax: config("gcsTaskHistoryMax"),
  /** `gcsFlushIntervalMs`: how long a recorded event may wait before its batch is written (Redis). */
  flushIntervalMs: config("gcsFlushIntervalMs"),
  /** `gcsTaskHoldMs`: how long a submitted task's record may wait for its end before it is written (Redis). */
  taskHoldMs: config("gcsTaskHoldMs"),
  /** `gcsBatchMax`: most events written in one round trip (Redis). */
  batchMax: config("gcsBatchMax"),
  /** `gcsQueueMax`: queued writes (a task's merged changes count once) past which the node stops starting tasks until half are written (Redis). */
  queueMax: config("gcsQueueMax"),
  /** `gcsRedisConnectTimeoutMs`: deadline for connecting to Redis and checking it. */
  connectTimeoutMs: config("gcsRedisConnectTimeoutMs"),
  /** `gcsRedisCommandTimeoutMs`: deadline of each Redis command. */
  commandTimeoutMs: config("gcsRedisCommandTimeoutMs"),
  /** `gcsRedisRetryMaxMs`: longest pause between reconnect or write attempts while Redis is down. */
  retryMaxMs: config("gcsRedisRetryMaxMs"),
  /** `gcsListLimit`: records a list query returns when no `limit` is given. */
  listLimit: config("gcsListLimit"),
} as const;

/** Settings every implementation takes. */
export interface ControlStoreOptions {
  /** Finished task records kept (default `GCS_DEFAULTS.maxFinishedTasks`). */
  maxFinishedTasks?: number;
  /** State transitions kept per task (default `GCS_DEFAULTS.taskHistoryMax`). */
  taskHistoryMax?: number;
}

/**
 * Undoes a `subscribe` when called. `ready` settles once the subscription is
 * active (Redis: confirmed by the server); changes applied before that may be missed.
 */
export interface Unsubscribe {
  (): void;
  /** Settles once the subscription is active. */
  readonly ready: Promise<void>;
}

/**
 * A control store. Writes go through `record`, which never waits or throws:
 * events are applied in the background in batches, in the order recorded.
 * Queries see what has been applied; call `flush()` first to see your own
 * writes. Implementations: `MemoryControlStore` (embedded mode) and
 * `RedisControlStore` (cluster mode, from `connectRedis`).
 */
export interface ControlStore {
  /** `"memory"` or `"redis://host:port"` (no password): for messages and status lines. */
  readonly address: string;

  /**
   * Queues one change. Returns at once; never throws. Events are applied in
   * order, in batches.
   */
  record(event: ControlStoreEvent): void;

  /**
   * While the store is behind on its writes, a promise that settles when it
   * has caught up enough; `undefined` otherwise (always, in memory). Records
   * are never dropped: the node stops starting tasks while this is set, so
   * that the cluster runs at the speed the store writes.
   */
  backpressure(): Promise<void> | undefined;

  /**
   * Writes everything recorded so far.
   *
   * @throws {ControlStoreError} when the store cannot take writes now (Redis
   * down or refusing writes); the events stay queued and are written later.
   */
  flush(): Promise<void>;

  /** A job. */
  getJob(jobId: JobId): Promise<JobRecord | undefined>;
  /** Jobs, newest first. */
  listJobs(filter?: ListFilter<JobState>): Promise<JobRecord[]>;
  /** A node. */
  getNode(nodeId: NodeId): Promise<NodeRecord | undefined>;
  /** Nodes, newest first. */
  listNodes(filter?: ListFilter<NodeState>): Promise<NodeRecord[]>;
  /** Workers, newest first. */
  listWorkers(filter?: WorkerFilter): Promise<WorkerRecord[]>;
  /** A registered function. */
  getFunction(jobId: JobId, moduleUrl: string, key: string): Promise<FunctionRecord | undefined>;
  /** A job's registered functions. */
  listFunctions(jobId: JobId): Promise<FunctionRecord[]>;
  /** A task with its state history and lineage, while its record is kept. */
  getTask(taskId: TaskId): Promise<TaskRecord | undefined>;
  /**
   * The spec to re-run a task (lineage reconstruction): present while the
   * record keeps its inline argument frame (unfinished or pinned tasks).
   */
  getTaskSpec(taskId: TaskId): Promise<TaskSpec | undefined>;
  /** Tasks, most recently changed first. */
  listTasks(filter?: TaskFilter): Promise<TaskRecord[]>;
  /** An object. */
  getObject(objectId: ObjectId): Promise<ObjectRecord | undefined>;
  /** Objects, newest first. */
  listObjects(filter?: ObjectFilter): Promise<ObjectRecord[]>;
  /** An actor. */
  getActor(actorId: ActorId): Promise<ActorRecord | undefined>;
  /** The actor that is not dead and has this name in this namespace. */
  getNamedActor(name: string, namespace?: string): Promise<ActorRecord | undefined>;
  /** Actors, most recently changed first. */
  listActors(filter?: ActorFilter): Promise<ActorRecord[]>;
  /** Counts of everything by state. */
  summary(): Promise<StoreSummary>;

  /** The value of a KV key. */
  kvGet(key: string): Promise<string | undefined>;
  /** Sets a KV key (records a `kvPut` event and flushes). */
  kvPut(key: string, value: string): Promise<void>;
  /** Deletes a KV key (records a `kvDelete` event and flushes). */
  kvDelete(key: string): Promise<void>;
  /** KV keys starting with `prefix`, sorted. */
  kvKeys(prefix?: string): Promise<string[]>;

  /**
   * Calls `handler` for each change published on `channel`, after the change
   * is applied. A throwing handler is logged and does not stop the others.
   *
   * @returns a function that stops the calls, with a `ready` promise
   */
  subscribe<C extends Channel>(
    channel: C,
    handler: (message: ChannelMessages[C]) => void,
  ): Unsubscribe;

  /** Flushes what it can, then releases timers and connections. Safe to call twice. */
  close(): Promise<void>;
}
