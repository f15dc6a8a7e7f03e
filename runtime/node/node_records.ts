/**
 * What a node writes to the control store, one method per record: the job
 * and the node coming and going, workers starting and dying, tasks
 * submitted and changing state, actors changing state.
 *
 * @module
 */
import type { JobId, NodeId, TaskId, WorkerId } from "../common/mod.ts";
import type { ControlStore, TaskState } from "../gcs/mod.ts";
import type { ActorCallValue, FunctionDescriptor, TaskSpec } from "../protocol/mod.ts";
import { fnKeyOf } from "../protocol/mod.ts";
import { actorStateEvent, type ActorStatus } from "./actor_manager.ts";

/** A node as its start is recorded: what it offers and where it is reached. */
interface StartedNode {
  readonly resources: Readonly<Record<string, number>>;
  readonly numWorkers: number;
  info(): { readonly address: string };
}

/** The node's records, written in the background by its control store. */
export class NodeRecords {
  readonly #gcs: ControlStore;
  readonly #jobId: JobId;
  readonly #nodeId: NodeId;
  readonly #knownFns = new Set<string>();
  #joined = true;

  readonly #caughtUp: () => void;
  #waiting = false;

  /**
   * @param gcs where records go
   * @param jobId the node's job
   * @param nodeId the node
   * @param caughtUp called when the store has caught up after `behind()` said it was behind
   */
  constructor(gcs: ControlStore, jobId: JobId, nodeId: NodeId, caughtUp: () => void) {
    this.#gcs = gcs;
    this.#jobId = jobId;
    this.#nodeId = nodeId;
    this.#caughtUp = caughtUp;
  }

  /**
   * True while the control store is behind on its writes (`backpressure`):
   * the node then starts no task, so the cluster runs at the speed the store
   * writes instead of losing records. `caughtUp` is called once it has.
   */
  behind(): boolean {
    const wait = this.#gcs.backpressure();
    if (wait === undefined) return false;
    if (!this.#waiting) {
      this.#waiting = true;
      wait.then(() => {
        this.#waiting = false;
        this.#caughtUp();
      });
    }
    return true;
  }

  /**
   * The job started, and its node joined (`joins` false: a cluster driver's node, which runs
   * nothing and is not one of the cluster's nodes).
   */
  started(ts: number, node: StartedNode, joins: boolean): void {
    this.#joined = joins;
    this.#gcs.record({ type: "jobStarted", jobId: this.#jobId, ts, nodeId: this.#nodeId });
    if (!joins) return;
    const { resources, numWorkers } = node;
    const { address } = node.info();
    this.#gcs.record({
      type: "nodeAdded",
      nodeId: this.#nodeId,
      ts,
      address,
      resources,
      numWorkers,
    });
  }

  /** The job finished, and its node left. */
  stopped(ts: number): void {
    this.#gcs.record({ type: "jobFinished", jobId: this.#jobId, ts });
    if (!this.#joined) return;
    this.#gcs.record({ type: "nodeRemoved", nodeId: this.#nodeId, ts, reason: "shutdown" });
  }

  workerStarted(workerId: WorkerId): void {
    this.#gcs.record({ type: "workerStarted", nodeId: this.#nodeId, workerId, ts: Date.now() });
  }

  workerDied(workerId: WorkerId, reason: string, ts = Date.now()): void {
    this.#gcs.record({ type: "workerDied", nodeId: this.#nodeId, workerId, ts, reason });
  }

  /** A task of `fn` came: the function is recorded with the first task of it. */
  functionSeen(fn: FunctionDescriptor): void {
    const fnKey = fnKeyOf(fn);
    if (this.#knownFns.has(fnKey)) return;
    this.#knownFns.add(fnKey);
    this.#gcs.record({ type: "functionRegistered", jobId: this.#jobId, fn });
  }

  /** A task was submitted (and its function seen). */
  taskSubmitted(spec: TaskSpec, ts: number): void {
    this.functionSeen(spec.fn);
    this.#gcs.record({ type: "taskSubmitted", jobId: spec.jobId ?? this.#jobId, spec, ts });
  }

  /** The task was dispatched to `workerId`. */
  taskRunning(spec: Pick<TaskSpec, "taskId" | "attempt">, workerId: WorkerId): void {
    this.#gcs.record({
      type: "taskState",
      taskId: spec.taskId,
      state: "running",
      ts: Date.now(),
      nodeId: this.#nodeId,
      workerId,
      attempt: spec.attempt,
    });
  }

  /** The task is ready again (retried), or finished, failed or cancelled (`error`: why). */
  taskState(taskId: TaskId, state: TaskState, error?: string): void {
    this.#gcs.record({ type: "taskState", taskId, state, ts: Date.now(), error });
  }

  /** Actor calls a caller of job `jobId` (default: the node's) recorded (flat, ACTOR_CALL). */
  actorCalls(calls: readonly ActorCallValue[], jobId: JobId = this.#jobId): void {
    this.#gcs.record({ type: "actorCalls", jobId, calls });
  }

  actorState(status: ActorStatus): void {
    this.#gcs.record(actorStateEvent(status, status.jobId ?? this.#jobId, this.#nodeId));
  }
}
