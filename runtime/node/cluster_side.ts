/**
 * Builds the `ClusterSide` a node hands its cluster port: reads and writes
 * of its table, store and reference counts on behalf of peers.
 *
 * @module
 */
import {
  type ActorId,
  isPutId,
  type JobId,
  type NodeId,
  type ObjectId,
  objectIdOf,
  type TaskId,
  taskIdOf,
} from "../common/mod.ts";
import { type ActorBackend, errorFrame, type ObjectRef } from "../core/mod.ts";
import type { CancelMode, Frame, TaskSpec } from "../protocol/mod.ts";
import type { ClusterSide, StoredObject } from "./cluster_port.ts";
import type { ObjectLifetime } from "./object_lifetime.ts";
import type { SyncedWorker } from "./ref_syncs.ts";
import type { ObjectTable } from "./object_table.ts";
import type { SpillManager } from "./spill_manager.ts";
import type { LocalScheduler } from "../scheduler/mod.ts";
import type { ControlStore } from "../gcs/mod.ts";

/** What of the node the side reaches (the node's private parts, lent). */
export interface SideParts {
  readonly table: ObjectTable;
  readonly life: ObjectLifetime;
  readonly spill: SpillManager;
  readonly scheduler: Pick<LocalScheduler, "knows" | "size">;
  /** Gives the records of the node's own actor calls kept so far to its control store. */
  flushCalls(): void;
  /** The node's own actors (not the cluster's wrapper). */
  readonly actors: ActorBackend;
  /** The worker of one of the node's actors, while it has one. */
  actorWorker(actorId: ActorId): SyncedWorker | undefined;
  /** Results of the node's own calls, sealed into its table when they come. */
  escape(refs: readonly ObjectRef[]): void;
  /** Adds an object as the node does its own. */
  sealed(id: ObjectId, frame: Frame, error: boolean, contained?: readonly ObjectId[]): void;
  /** Seals every return of `spec` with `frame` (an error). */
  failAll(spec: TaskSpec, frame: Frame): void;
}

/** The node as its cluster port sees it. */
interface NodeFacts {
  readonly nodeId: string;
  readonly jobId: JobId;
  readonly numWorkers: number;
  readonly resources: Readonly<Record<string, number>>;
  readonly arena: ClusterSide["arena"];
  readonly gcs: Pick<ControlStore, "record" | "flush">;
  available(): Record<string, number>;
  put(id: ObjectId, frame: Frame, contained: readonly ObjectId[]): void;
  submit(spec: TaskSpec): void;
  cancel(taskId: TaskId, mode: CancelMode): void;
}

const NONE: readonly ObjectId[] = Object.freeze([]) as readonly ObjectId[];

/** The side of `node` that its cluster port calls. */
export function clusterSideOf(node: NodeFacts, parts: SideParts): ClusterSide {
  const { table, life } = parts;
  /** Calls to the node's actors with ref arguments, by task: their actor. */
  const calls = new Map<TaskId, ActorId>();
  return {
    nodeId: node.nodeId,
    jobId: node.jobId,
    numWorkers: node.numWorkers,
    resources: node.resources,
    arena: node.arena,
    acceptPlaced(spec, holder) {
      if (holder !== "") {
        for (let i = 0; i < spec.options.numReturns; i++) {
          life.inc(objectIdOf(spec.taskId, i), holder);
        }
      }
      node.submit(spec);
    },
    sealFetched(id, frame, error, contained) {
      if (table.status(id) !== "missing") return;
      if (error) parts.sealed(id, frame, true, contained);
      else node.put(id, frame, contained);
    },
    readObject: (id) => readObject(node, parts, id),
    readSpilled(id, offset, max) {
      const stored = table.stored(id);
      if (stored === undefined || stored instanceof Uint8Array) return undefined;
      const part = parts.spill.readSpilled(id, offset, max);
      if (!part) return undefined;
      const error = table.status(id) === "error";
      return { ...part, error, contained: life.containedOf(id) ?? NONE };
    },
    isLocal(id) {
      if (table.status(id) !== "missing") return true;
      return !isPutId(id) && parts.scheduler.knows(taskIdOf(id));
    },
    inlineOf(id) {
      const f = table.stored(id);
      if (!(f instanceof Uint8Array)) return undefined;
      const error = table.status(id) === "error";
      return { bytes: f, error, contained: life.containedOf(id) ?? NONE };
    },
    isMissing: (id) => table.status(id) === "missing",
    sizeOf(id) {
      const f = table.stored(id);
      return f === undefined ? 0 : f instanceof Uint8Array ? f.length : f.size;
    },
    cancel: (taskId, mode) => node.cancel(taskId, mode),
    flushRecords: () => {
      parts.flushCalls(); // the records of calls to actors here, kept for their batch
      return node.gcs.flush();
    },
    forwardedDone(taskId) {
      const actorId = calls.get(taskId);
      if (actorId === undefined) return life.taskDone(taskId);
      calls.delete(taskId);
      // Its results came through a link: the actor's holds on the arguments come by message.
      const worker = parts.actorWorker(actorId);
      if (worker) life.taskDoneAfter(taskId, worker);
      else life.taskDone(taskId);
    },
    failForwarded: (spec, error) => parts.failAll(spec, errorFrame(error)),
    dropHolder: (holder) => life.dropHolder(holder),
    heldBy: (prefix) => life.heldBy(prefix),
    hold: (id, holder) => life.inc(id, holder),
    holdArgs: (taskId, argRefs) => life.holdTask(taskId, argRefs),
    callActor(call, holder) {
      for (let i = 0; i < call.numReturns; i++) life.inc(objectIdOf(call.taskId, i), holder);
      // Its arguments are held here until its results come (`forwardedDone`).
      life.holdTask(call.taskId, call.argRefs);
      if (call.argRefs.length > 0) calls.set(call.taskId, call.actorId);
      parts.escape(parts.actors.call(call));
    },
    release: (id, holder) => life.dec(id, holder),
    collectGarbage: () => parts.spill.collect(),
    load: () => ({ available: node.available(), queueLength: parts.scheduler.size }),
    heartbeat() {
      const load = { available: node.available(), queueLength: parts.scheduler.size };
      // `rayd status` and the dashboard show it (the store keeps a node's latest).
      const { nodeId } = node;
      const at = { nodeId: nodeId as NodeId, ts: Date.now(), queued: load.queueLength };
      node.gcs.record({ type: "nodeHeartbeat", ...at, available: load.available });
      return load;
    },
  };
}

async function readObject(
  node: NodeFacts,
  { table, life, spill }: SideParts,
  id: ObjectId,
): Promise<StoredObject | undefined> {
  const stored = table.stored(id);
  if (stored === undefined) return undefined;
  const error = table.status(id) === "error";
  const contained = life.containedOf(id) ?? NONE;
  if (stored instanceof Uint8Array) return { bytes: stored, error, contained, done: () => {} };
  // Held and pinned (restored first if spilled) while the peer reads it.
  life.inc(id, "peer-read");
  const [frame] = await spill.lendAll([id], [stored]);
  let released = false;
  const done = () => {
    if (released) return;
    released = true;
    spill.unpin(id);
    life.dec(id, "peer-read");
  };
  if (frame instanceof Uint8Array) return { bytes: frame, error: true, contained, done };
  return { bytes: node.arena.view(frame), error, contained, done };
}
