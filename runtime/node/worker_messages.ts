/**
 * What a node does with each message a worker posts (see PoolHost.serve):
 * task results and submissions, puts, ref ops, waits, cancels, actor and
 * lease messages, records of the tasks it pushed to leases.
 *
 * @module
 */
import type { ObjectId, TaskId, WorkerId } from "../common/mod.ts";
import type {
  ActorCallValue,
  ClusterState,
  Frame,
  FromWorker,
  ResultTuple,
  TaskSpec,
} from "../protocol/mod.ts";
import type { TaskState } from "../gcs/mod.ts";
import type { WorkerHandle } from "../pool/mod.ts";
import { REF_OP } from "../core/mod.ts";
import type { ActorManager } from "./actor_manager.ts";
import type { NodeLeases } from "./leases.ts";
import { checkObject } from "./node_options.ts";
import type { ObjectLifetime } from "./object_lifetime.ts";
import type { OwnedObjects } from "./owned_objects.ts";
import type { SpillManager } from "./spill_manager.ts";
import type { WorkerWaits } from "./worker_waits.ts";
import type { LocalScheduler } from "../scheduler/mod.ts";

/** The node's parts that serve workers. */
export interface WorkerMessagesHost {
  taskResults(worker: WorkerHandle, results: readonly ResultTuple[]): void;
  accept(spec: TaskSpec): void;
  put(id: ObjectId, frame: Frame, contained: readonly ObjectId[]): void;
  clusterState(): Promise<ClusterState>;
  readonly life: ObjectLifetime;
  readonly waits: WorkerWaits;
  readonly scheduler: LocalScheduler;
  readonly actors: ActorManager;
  readonly owned: OwnedObjects;
  readonly spill: SpillManager;
  readonly leases: NodeLeases;
  readonly records: {
    taskSubmitted(spec: TaskSpec, ts: number): void;
    taskRunning(spec: Pick<TaskSpec, "taskId" | "attempt">, workerId: WorkerId): void;
    taskState(taskId: TaskId, state: TaskState, error?: string): void;
    actorCalls(calls: readonly ActorCallValue[]): void;
  };
}

/** Serves a message any worker may send; throws for one it cannot handle. */
export function serveWorker(host: WorkerMessagesHost, worker: WorkerHandle, msg: FromWorker): void {
  if (typeof msg !== "object" || msg === null) throw new TypeError("not an object");
  switch (msg.type) {
    case "done":
      return host.taskResults(worker, msg.results);
    case "taskRing":
      return;
    case "submit":
      for (const spec of msg.specs) host.accept(spec);
      return;
    case "put":
      for (const [id, frame, contained] of msg.objects) {
        checkObject(id, frame, contained);
        host.put(id, frame, contained);
      }
      return;
    case "holds":
      for (const id of msg.ids) host.life.applyRefOp(REF_OP.hold, id, worker.id);
      return;
    case "refs":
      for (const [kind, id] of msg.ops) host.life.applyRefOp(kind, id, worker.id);
      return;
    case "refSynced":
      return host.life.syncs.synced(worker.id, msg.seq);
    case "wait":
      return host.waits.wait(worker, msg);
    case "cancelWait":
      return host.waits.cancel(worker, msg.reqId);
    case "cancel":
      host.scheduler.cancel(msg.taskId, { force: msg.force, recursive: msg.recursive });
      return;
    case "actorCreate":
    case "actorLink":
    case "actorKill":
    case "actorLookup":
    case "actorCallViaNode":
      return host.actors.fromWorker(worker, msg);
    case "promise":
    case "seal":
    case "sealIfMissing":
      return host.owned.handle(worker.id as WorkerId, msg);
    case "blocked":
      if (msg.on) host.scheduler.taskBlocked(msg.taskId);
      else host.scheduler.taskUnblocked(msg.taskId);
      return;
    case "needSpace":
      return host.spill.answer(msg.size, msg.reply);
    case "clusterState":
      host.clusterState().then((state) =>
        worker.send({ type: "clusterState", reqId: msg.reqId, state })
      );
      return;
    case "leaseRequest":
    case "leaseReturn":
    case "leaseCancel":
    case "leaseDrained":
      return host.leases.handle(worker, msg);
    case "leaseCancelDone":
      return host.leases.cancelDone(msg.taskId);
    case "taskRecords": {
      const ts = Date.now();
      for (const spec of msg.submitted) host.records.taskSubmitted(spec, ts);
      for (const [taskId, workerId, attempt] of msg.running) {
        host.records.taskRunning({ taskId, attempt }, workerId);
      }
      for (const [taskId, state, error] of msg.ended) host.records.taskState(taskId, state, error);
      if (msg.calls && msg.calls.length > 0) host.records.actorCalls(msg.calls);
      return;
    }
    default:
      throw new TypeError(`unknown message type`);
  }
}
