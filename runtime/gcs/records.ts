/**
 * What a control store answers: the records of its tables, the filters of
 * its list queries, and the status summary.
 *
 * @module
 */
import type { ActorId, JobId, NodeId, ObjectId, TaskId, WorkerId } from "../common/mod.ts";
import type { TaskOptions } from "../protocol/mod.ts";
import type {
  ActorState,
  JobState,
  Millis,
  NodeState,
  ObjectState,
  TaskState,
  WorkerState,
} from "./events.ts";

/** A job. */
export interface JobRecord {
  jobId: JobId;
  state: JobState;
  startedAt: Millis;
  endedAt?: Millis;
  nodeId?: NodeId;
  entrypoint?: string;
  namespace?: string;
}

/** A node, with its last heartbeat. */
export interface NodeRecord {
  nodeId: NodeId;
  state: NodeState;
  address: string;
  resources: Record<string, number>;
  numWorkers: number;
  startedAt: Millis;
  /** Time of the last heartbeat (the start time before the first one). */
  heartbeatAt: Millis;
  available?: Record<string, number>;
  queued?: number;
  running?: number;
  endedAt?: Millis;
  reason?: string;
}

/** A worker of a node. */
export interface WorkerRecord {
  nodeId: NodeId;
  workerId: WorkerId;
  state: WorkerState;
  startedAt: Millis;
  endedAt?: Millis;
  reason?: string;
}

/** A registered remote function. */
export interface FunctionRecord {
  jobId: JobId;
  moduleUrl: string;
  key: string;
  name: string;
  /** Source text, for functions shipped instead of imported. */
  source?: string;
}

/** One state a task entered, and when. */
export interface TaskTransition {
  state: TaskState;
  ts: Millis;
}

/**
 * A task: what it runs, where, its state history and its lineage (the
 * objects it consumed and produced). `args` is kept only while the task is
 * unfinished or its lineage is pinned.
 */
export interface TaskRecord {
  taskId: TaskId;
  jobId?: JobId;
  /** Display name (`""` until the `taskSubmitted` event arrives). */
  name: string;
  moduleUrl?: string;
  /** The function's key in its module (`name#n`). */
  fnKey?: string;
  /** For an actor method call (named `Class.method`): its actor. */
  actorId?: ActorId;
  state: TaskState;
  /** Transitions, oldest first (at most `taskHistoryMax`, the latest kept). */
  history: TaskTransition[];
  submittedAt?: Millis;
  updatedAt: Millis;
  /** Time it reached a final state. */
  endedAt?: Millis;
  nodeId?: NodeId;
  workerId?: WorkerId;
  parentTaskId?: TaskId;
  attempt: number;
  /** Objects it consumed (its top-level ref arguments). */
  deps: ObjectId[];
  /** Objects it produced (its returns). */
  returns: ObjectId[];
  options?: TaskOptions;
  /** Its inline argument frame, while the lineage is kept. */
  args?: Uint8Array;
  error?: string;
  /** True while its lineage is pinned. */
  pinned: boolean;
}

/** An object: size, owner, the nodes that hold it. */
export interface ObjectRecord {
  objectId: ObjectId;
  state: ObjectState;
  size: number;
  owner: string;
  locations: NodeId[];
  createdAt: Millis;
}

/** An actor. */
export interface ActorRecord {
  actorId: ActorId;
  state: ActorState;
  className?: string;
  name?: string;
  namespace?: string;
  jobId?: JobId;
  nodeId?: NodeId;
  workerId?: WorkerId;
  restarts: number;
  error?: string;
  updatedAt: Millis;
}

/** Filters every list query takes. Results come newest first. */
export interface ListFilter<S extends string> {
  /** Only records in this state. */
  state?: S;
  /** At most this many records (default `DEFAULT_LIST_LIMIT`). */
  limit?: number;
}

/** Filters of `listTasks`. */
export interface TaskFilter extends ListFilter<TaskState> {
  jobId?: JobId;
  nodeId?: NodeId;
}

/** Filters of `listObjects`: `nodeId` keeps objects with a copy on that node. */
export interface ObjectFilter extends ListFilter<ObjectState> {
  nodeId?: NodeId;
}

/** Filters of `listWorkers`. */
export interface WorkerFilter extends ListFilter<WorkerState> {
  nodeId?: NodeId;
}

/** Filters of `listActors`. */
export interface ActorFilter extends ListFilter<ActorState> {
  jobId?: JobId;
}

/** Counts per state. */
export type StateCounts<S extends string> = Partial<Record<S, number>>;

/** The status summary: counts of everything, by state. */
export interface StoreSummary {
  tasks: {
    /** Tasks per current state, counted over the store's life (evicted tasks stay counted). */
    byState: StateCounts<TaskState>;
    /** The same, per function display name. */
    byFunction: Record<string, StateCounts<TaskState>>;
    /** Task records held now. */
    retained: number;
    /** Finished task records dropped from the capped history. */
    evicted: number;
  };
  objects: { byState: StateCounts<ObjectState>; totalBytes: number };
  nodes: StateCounts<NodeState>;
  workers: StateCounts<WorkerState>;
  actors: StateCounts<ActorState>;
  jobs: StateCounts<JobState>;
}
