/**
 * What a control store is told: one typed event per change, recorded
 * fire-and-forget with `ControlStore.record` and written in batches.
 *
 * @module
 */
import type { ActorId, JobId, NodeId, ObjectId, TaskId, WorkerId } from "../common/mod.ts";
import type { ActorCallValue, FunctionDescriptor, TaskSpec } from "../protocol/mod.ts";

/** Milliseconds since the Unix epoch (`Date.now()`). */
export type Millis = number;

/** States a task record goes through. `finished`, `failed` and `cancelled` are final. */
export type TaskState =
  | "submitted"
  | "waiting"
  | "ready"
  | "running"
  | "blocked"
  | "finished"
  | "failed"
  | "cancelled";

/** Every task state, in the order a task usually meets them. */
export const TASK_STATES: readonly TaskState[] = [
  "submitted",
  "waiting",
  "ready",
  "running",
  "blocked",
  "finished",
  "failed",
  "cancelled",
];

/** Final task states: a task in one of them moves to the capped history. */
export const FINAL_TASK_STATES: readonly TaskState[] = ["finished", "failed", "cancelled"];

/** States of a node and of a worker. */
export type NodeState = "alive" | "dead";
/** States of a worker (same as a node's). */
export type WorkerState = NodeState;
/** States of a job. */
export type JobState = "running" | "finished";
/** States of an actor. */
export type ActorState = "pending" | "alive" | "restarting" | "dead";
/** States of an object: `ready` has at least one location, `lost` has none. Freed objects are deleted. */
export type ObjectState = "ready" | "lost";

/** Every node (and worker) state. */
export const NODE_STATES: readonly NodeState[] = ["alive", "dead"];
/** Every job state. */
export const JOB_STATES: readonly JobState[] = ["running", "finished"];
/** Every object state. */
export const OBJECT_STATES: readonly ObjectState[] = ["ready", "lost"];
/** Every actor state. */
export const ACTOR_STATES: readonly ActorState[] = ["pending", "alive", "restarting", "dead"];

/** A job (one driver session) started. */
export interface JobStarted {
  readonly type: "jobStarted";
  readonly jobId: JobId;
  readonly ts: Millis;
  /** Node the driver runs on. */
  readonly nodeId?: NodeId;
  /** What the driver runs (script path or URL). */
  readonly entrypoint?: string;
  readonly namespace?: string;
}

/** A job ended. */
export interface JobFinished {
  readonly type: "jobFinished";
  readonly jobId: JobId;
  readonly ts: Millis;
}

/** A node joined the cluster. */
export interface NodeAdded {
  readonly type: "nodeAdded";
  readonly nodeId: NodeId;
  readonly ts: Millis;
  /** `host:port` other nodes reach it at (`""` in embedded mode). */
  readonly address: string;
  readonly resources: Readonly<Record<string, number>>;
  readonly numWorkers: number;
}

/** A node is still there; only the latest heartbeat of a node in a batch is written. */
export interface NodeHeartbeat {
  readonly type: "nodeHeartbeat";
  readonly nodeId: NodeId;
  readonly ts: Millis;
  /** Resources free right now. */
  readonly available?: Readonly<Record<string, number>>;
  /** Tasks queued on the node (waiting or ready). */
  readonly queued?: number;
  /** Tasks running on the node. */
  readonly running?: number;
}

/** A node left or was declared dead. */
export interface NodeRemoved {
  readonly type: "nodeRemoved";
  readonly nodeId: NodeId;
  readonly ts: Millis;
  readonly reason?: string;
}

/** A worker of a node started. */
export interface WorkerStarted {
  readonly type: "workerStarted";
  readonly nodeId: NodeId;
  readonly workerId: WorkerId;
  readonly ts: Millis;
}

/** A worker of a node died or was stopped. */
export interface WorkerDied {
  readonly type: "workerDied";
  readonly nodeId: NodeId;
  readonly workerId: WorkerId;
  readonly ts: Millis;
  readonly reason?: string;
}

/** A remote function became known (its source too, when shipped instead of imported). */
export interface FunctionRegistered {
  readonly type: "functionRegistered";
  readonly jobId: JobId;
  readonly fn: FunctionDescriptor;
}

/**
 * A task was submitted. The spec's argument frame is kept (for lineage) only
 * when it is inline bytes; a frame in a node's shared store is not.
 */
export interface TaskSubmitted {
  readonly type: "taskSubmitted";
  readonly jobId: JobId;
  readonly spec: TaskSpec;
  readonly ts: Millis;
}

/** A task changed state. */
export interface TaskStateChanged {
  readonly type: "taskState";
  readonly taskId: TaskId;
  readonly state: TaskState;
  readonly ts: Millis;
  readonly nodeId?: NodeId;
  readonly workerId?: WorkerId;
  /** Retry number when it changed (a retry starts again at `ready`). */
  readonly attempt?: number;
  /** Why it failed, for `failed` and `cancelled`. */
  readonly error?: string;
}

/**
 * Actor method calls, recorded by their callers (who own the results) in
 * batches, off the path of each call: one event per caller and turn. `calls`
 * is flat, ACTOR_CALL_STRIDE values per call at the offsets of ACTOR_CALL
 * (runtime/protocol/call_records.ts).
 * A call is recorded when its result came (its final state), and as
 * `running` first when it was still out a while after it was written. The
 * times are the caller's: `startedAt` is when the call was written to the
 * actor's link, or when the call before it on that link ended if later
 * (calls on one link run in order); `endedAt` when its result was read.
 */
export interface ActorCallsRecorded {
  readonly type: "actorCalls";
  readonly jobId?: JobId;
  readonly calls: readonly ActorCallValue[];
}

/**
 * Keep the lineage (spec and arguments) of a task after it finishes, because
 * an object it produced is still referenced. Pin before the task finishes.
 */
export interface LineagePinned {
  readonly type: "lineagePinned";
  readonly taskId: TaskId;
}

/** The lineage of a task is no longer needed; a finished task then joins the capped history. */
export interface LineageUnpinned {
  readonly type: "lineageUnpinned";
  readonly taskId: TaskId;
}

/** An object was sealed in a node's store. */
export interface ObjectCreated {
  readonly type: "objectCreated";
  readonly objectId: ObjectId;
  readonly ts: Millis;
  /** Bytes of its frame. */
  readonly size: number;
  /** Who holds its reference count: the owner's node id, `<nodeId>/<workerId>` for a worker. */
  readonly owner: string;
  /** The node whose store has it. */
  readonly nodeId: NodeId;
}

/** One more node has a copy of an object. Ignored for an object with no record. */
export interface ObjectLocationAdded {
  readonly type: "objectLocationAdded";
  readonly objectId: ObjectId;
  readonly nodeId: NodeId;
}

/** A node dropped its copy of an object; with no copy left the object is `lost`. */
export interface ObjectLocationRemoved {
  readonly type: "objectLocationRemoved";
  readonly objectId: ObjectId;
  readonly nodeId: NodeId;
}

/** No reference to an object is left: its record is deleted. */
export interface ObjectFreed {
  readonly type: "objectFreed";
  readonly objectId: ObjectId;
}

/** An actor was created or changed state. Fields left out keep their recorded value. */
export interface ActorStateChanged {
  readonly type: "actorState";
  readonly actorId: ActorId;
  readonly state: ActorState;
  readonly ts: Millis;
  readonly className?: string;
  /** Name for `getActor`; unique per namespace among actors that are not dead. */
  readonly name?: string;
  readonly namespace?: string;
  readonly jobId?: JobId;
  readonly nodeId?: NodeId;
  readonly workerId?: WorkerId;
  /** Restarts so far. */
  readonly restarts?: number;
  /** Why it died. */
  readonly error?: string;
}

/** Sets a key of the small key-value store. */
export interface KvPut {
  readonly type: "kvPut";
  readonly key: string;
  readonly value: string;
}

/** Deletes a key of the small key-value store. */
export interface KvDelete {
  readonly type: "kvDelete";
  readonly key: string;
}

/** Every change a control store records, told apart by `type`. */
export type ControlStoreEvent =
  | JobStarted
  | JobFinished
  | NodeAdded
  | NodeHeartbeat
  | NodeRemoved
  | WorkerStarted
  | WorkerDied
  | FunctionRegistered
  | TaskSubmitted
  | TaskStateChanged
  | ActorCallsRecorded
  | LineagePinned
  | LineageUnpinned
  | ObjectCreated
  | ObjectLocationAdded
  | ObjectLocationRemoved
  | ObjectFreed
  | ActorStateChanged
  | KvPut
  | KvDelete;

/**
 * What each pub/sub channel carries. The `task` channel gets a `taskState`
 * message with state `submitted` for each `taskSubmitted` event.
 */
export interface ChannelMessages {
  node: NodeAdded | NodeRemoved;
  object: ObjectCreated | ObjectLocationAdded | ObjectLocationRemoved | ObjectFreed;
  actor: ActorStateChanged;
  task: TaskStateChanged;
}

/** A pub/sub channel name. */
export type Channel = keyof ChannelMessages;

/**
 * The channel message an event publishes, if any.
 *
 * @param event a recorded event
 * @returns the channel and message, or `undefined` for events that publish nothing
 * @example
 * ```ts
 * import { channelMessage } from "./events.ts";
 * const m = channelMessage({ type: "objectFreed", objectId: "ab" as never });
 * console.assert(m?.channel === "object");
 * ```
 */
export function channelMessage(
  event: ControlStoreEvent,
): { channel: Channel; message: ChannelMessages[Channel] } | undefined {
  switch (event.type) {
    case "nodeAdded":
    case "nodeRemoved":
      return { channel: "node", message: event };
    case "objectCreated":
    case "objectLocationAdded":
    case "objectLocationRemoved":
    case "objectFreed":
      return { channel: "object", message: event };
    case "actorState":
      return { channel: "actor", message: event };
    case "taskState":
      return { channel: "task", message: event };
    case "taskSubmitted":
      return {
        channel: "task",
        message: { type: "taskState", taskId: event.spec.taskId, state: "submitted", ts: event.ts },
      };
    default:
      return undefined;
  }
}
