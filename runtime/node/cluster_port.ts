/**
 * The seam between a node and the cluster it belongs to. The node calls a
 * `ClusterPort` (built by runtime/cluster) at the few points where a task
 * or an object can leave or enter this process; the port calls back through
 * the `ClusterSide` the node hands it. Without a port the node is embedded
 * and none of this runs.
 *
 * @module
 */
import type { JobId, ObjectId, TaskId } from "../common/mod.ts";
import type { SharedArena } from "../object_store/mod.ts";
import type { ActorCall, CancelMode, ClusterState, Frame, TaskSpec } from "../protocol/mod.ts";
import type { ActorBackend } from "../core/mod.ts";
import type { ActorsElsewhere } from "./actor_manager.ts";
import type { WaitHandle } from "./object_table.ts";

/** What the node asks of the cluster. */
export interface ClusterPort {
  /** This node's address as peers reach it (`host:port`). */
  readonly address: string;
  /** Forwarded tasks not finished and pulls under way: they keep a driver alive. */
  readonly outstanding: number;
  /**
   * True when `spec` should run elsewhere (a driver, SPREAD, affinity to another node). Such a
   * task is recorded in the control store by the node that runs it (one record, written once),
   * or by this node if it fails before any node takes it (`failForwarded`).
   */
  takes(spec: TaskSpec): boolean;
  /** The local scheduler cannot place `spec` (it lacks a resource): true when the cluster takes it. */
  spillback(spec: TaskSpec): boolean;
  /** Sends a task `takes` or `spillback` accepted to the node the global scheduler picks. */
  forward(spec: TaskSpec): void;
  /** Waits until `need` of `ids` exist anywhere in the cluster, pulling none (a table wait). */
  waitAnywhere(ids: readonly ObjectId[], need: number, timeoutMs: number | undefined): WaitHandle;
  /**
   * Something here waits for `id`, which is neither stored nor made here:
   * pull it. `priority`: 0 a `get` waits, 1 a `wait`, 2 a queued task's arguments.
   */
  need(id: ObjectId, priority?: 0 | 1 | 2): void;
  /** An object was added to this node's table. */
  sealed(id: ObjectId): void;
  /** Nothing here holds `id` any more. */
  unreferenced(id: ObjectId): void;
  /** Cancels a task this node forwarded (no-op for others). */
  cancel(taskId: TaskId, mode: CancelMode): void;
  /** The whole cluster's nodes and resources. */
  state(): Promise<ClusterState>;
  /** Every live node's queued control-store records written, this process's too (for a read). */
  flushRecords(): Promise<void>;
  /** The actor backend of the node's driver, given the node's own (`local`). */
  actorsOf(local: ActorBackend): ActorBackend;
  /** The cluster's actors, for the node's workers (created, found, called through the head). */
  readonly elsewhere: ActorsElsewhere;
  /** Closes the cluster links (the node is shutting down). */
  close(): Promise<void>;
}

/** An object as a peer reads it. */
export interface StoredObject {
  /** The encoded value (a view of the store, valid until `done`). */
  readonly bytes: Uint8Array;
  /** The object holds an error. */
  readonly error: boolean;
  /** Ids of the refs inside it. */
  readonly contained: readonly ObjectId[];
  /** Lets go of the pin taken for the read. */
  done(): void;
}

/** What the cluster can do to the node. */
export interface ClusterSide {
  readonly nodeId: string;
  /** The job of this process (a driver's; tasks leaving it carry it: TaskSpec.jobId). */
  readonly jobId: JobId;
  readonly numWorkers: number;
  readonly resources: Readonly<Record<string, number>>;
  readonly arena: SharedArena;
  /**
   * Runs a task the global scheduler placed here; its results are held for
   * `holder` until released (`""`: the node's own task, nothing held).
   */
  acceptPlaced(spec: TaskSpec, holder: string): void;
  /** Adds an object pulled from a peer. */
  sealFetched(id: ObjectId, frame: Frame, error: boolean, contained: readonly ObjectId[]): void;
  /** Reads a stored object for a peer (restores it if spilled); undefined when it is not here. */
  readObject(id: ObjectId): Promise<StoredObject | undefined>;
  /**
   * Bytes `[offset, offset + max)` of stored object `id` read from disk when
   * it is spilled (not restored into the store for it), with its whole size;
   * undefined when it is not spilled (then `readObject`).
   */
  readSpilled(
    id: ObjectId,
    offset: number,
    max: number,
  ): (Omit<StoredObject, "done"> & { readonly size: number }) | undefined;
  /** True when `id` is stored here or made by a task of this node. */
  isLocal(id: ObjectId): boolean;
  /** Stored object `id` when it is small and inline (not in the store), else undefined. */
  inlineOf(id: ObjectId): Omit<StoredObject, "done"> | undefined;
  /** True when `id` is not stored here. */
  isMissing(id: ObjectId): boolean;
  /** Bytes of stored object `id` (0 when it is not here). */
  sizeOf(id: ObjectId): number;
  /** Cancels a task of this node's scheduler (see `ray.cancel`). */
  cancel(taskId: TaskId, mode: CancelMode): void;
  /** A forwarded task (or a call made here for a remote owner) ended: its arguments are let go. */
  forwardedDone(taskId: TaskId): void;
  /** Fails a task this node forwarded with `error` (an Error), sealing its returns. */
  failForwarded(spec: TaskSpec, error: Error): void;
  /** Lets go of what `holder` (a peer) held here. */
  dropHolder(holder: string): void;
  /** What each holder whose name starts with `prefix` holds here (a scan, for a drain). */
  heldBy(prefix: string): Map<string, ObjectId[]>;
  /** Calls a local actor for a remote owner: the results are held for `holder` until released. */
  callActor(call: ActorCall, holder: string): void;
  /** A forwarded call's arguments are held until `forwardedDone`. */
  holdArgs(taskId: TaskId, argRefs: readonly ObjectId[]): void;
  /** One reference more on behalf of `holder`. */
  hold(id: ObjectId, holder: string): void;
  /** One reference fewer on behalf of `holder`. */
  release(id: ObjectId, holder: string): void;
  /** Collects garbage in every thread (dropped views let go of their objects); resolves after a pause. */
  collectGarbage(): Promise<void>;
  /** Free resources and tasks not finished (queued or running). */
  load(): { available: Record<string, number>; queueLength: number };
  /** This process's queued control-store records written. */
  flushRecords(): Promise<void>;
  /** `load()` for a heartbeat: also recorded in the control store (`rayd status` shows it). */
  heartbeat(): { available: Record<string, number>; queueLength: number };
}

/** Builds a port for a node, given the node's side. */
export type ClusterPortFactory = (side: ClusterSide) => ClusterPort;
