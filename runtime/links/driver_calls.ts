/**
 * The driver's calls to actors: the driver (the node's own thread) calls
 * through call links and owns its results like a worker (./call_links.ts);
 * its link messages go straight to the node's actor manager and
 * owned-object table (through `DriverCallsHost`) instead of by
 * postMessage, and the answers come back on a later microtask, as a worker
 * would get them.
 *
 * @module
 */
import type { IdFactory, ObjectId, TaskId, WorkerId } from "../common/mod.ts";
import type { ObjectRef, WaitRequest, WaitResult } from "../core/mod.ts";
import type {
  ActorCall,
  ActorCallValue,
  Frame,
  FromWorker,
  TaskSpec,
  ToWorker,
} from "../protocol/mod.ts";
import { CallLinks } from "./call_links.ts";
import { OwnerLeases } from "./owner_leases.ts";
import type { LinkCaller } from "./caller_links.ts";

/** A caller's message to open a link (`actorLink`). */
type LinkRequest = Extract<FromWorker, { type: "actorLink" }>;
/** A caller's lease messages (./owner_leases.ts). */
type LeaseMessage = Extract<
  FromWorker,
  { type: "leaseRequest" | "leaseReturn" | "leaseCancel" | "leaseDrained" }
>;
/** A caller's message about results it owns (`promise`, `seal`, `sealIfMissing`). */
type OwnerMessage = Extract<FromWorker, { type: "promise" | "seal" | "sealIfMissing" }>;

/** What the driver's calls need from the node. */
export interface DriverCallsHost {
  readonly ids: IdFactory;
  /** The node's actors (runtime/node/actor_manager.ts): where links are opened. */
  readonly actors: { link(caller: LinkCaller, msg: LinkRequest): void };
  /** The node's leases (runtime/node/leases.ts). */
  lease(caller: LinkCaller, msg: LeaseMessage): void;
  /** The control store's records of the driver's leased tasks and actor calls. */
  readonly records: {
    actorCalls(calls: readonly ActorCallValue[]): void;
    taskSubmitted(spec: TaskSpec, ts: number): void;
    taskRunning(spec: TaskSpec, workerId: WorkerId): void;
    taskState(taskId: TaskId, state: "finished" | "failed" | "cancelled", error?: string): void;
    /** True while the control store is behind. */
    behind(): boolean;
  };
  /** The node's table of results owned by callers (runtime/node/owned_objects.ts). */
  readonly owned: { handle(owner: WorkerId, msg: OwnerMessage, trusted?: boolean): void };
  /** The node's own wait (for results an actor sealed there). */
  wait(ids: readonly ObjectId[], n: number, req: WaitRequest): Promise<WaitResult>;
  put(id: ObjectId, frame: Frame, contained: readonly ObjectId[]): void;
  /** False once the node stops. */
  running(): boolean;
}

/** The driver as a caller of actors. */
export class DriverCalls {
  readonly #host: DriverCallsHost;
  readonly #links: CallLinks;
  readonly #caller: LinkCaller;
  /** The driver's tasks pushed to leased workers. */
  readonly leases: OwnerLeases;

  /** @param host the node */
  constructor(host: DriverCallsHost) {
    this.#host = host;
    this.#links = new CallLinks({
      post: (msg) => this.#fromDriver(msg),
      ids: host.ids,
      put: host.put,
      nodeWait: host.wait,
      records: (calls) => host.records.actorCalls(calls),
    });
    this.#caller = {
      id: "driver",
      get alive() {
        return host.running();
      },
      send: (msg) => queueMicrotask(() => this.#toDriver(msg)),
    };
    this.leases = new OwnerLeases(this.#links, {
      post: (msg) => this.#fromDriver(msg),
      submitted: (spec) => host.records.taskSubmitted(spec, Date.now()),
      running: (spec, workerId) => host.records.taskRunning(spec, workerId),
      ended: (spec, state, error) => host.records.taskState(spec.taskId, state, error),
      behind: () => host.records.behind(),
      whenStored: (ids) => host.wait(ids, ids.length, { fetch: false }),
    });
  }

  /** Calls made (and leased tasks submitted) and not answered yet. */
  get outstanding(): number {
    return this.#links.outstanding + this.leases.queued;
  }

  /** Makes a call; returns its refs (owned by the driver). */
  call(call: ActorCall): ObjectRef[] {
    return this.#links.call(call);
  }

  /**
   * Answers a wait of refs the driver owns, or undefined when some are not
   * (what the driver owns among them is then promised to the node, which
   * answers for all).
   */
  wait(
    refs: readonly ObjectRef[],
    numReturns: number,
    req: WaitRequest,
  ): Promise<WaitResult> | undefined {
    if (refs.length > 0 && this.#links.ownsAll(refs)) {
      return this.#links.wait(refs, numReturns, req);
    }
    this.#links.escape(refs);
    return undefined;
  }

  /** Results of `refs` are sealed into the node's table when they come (they leave the driver). */
  escape(refs: readonly ObjectRef[]): void {
    this.#links.escape(refs);
  }

  /** Gives the records of the driver's actor calls kept so far to the control store. */
  flushRecords(): void {
    this.#links.flushRecords();
  }

  /** Rejects what waits (the node stops). */
  shutdown(): void {
    this.#links.flushRecords();
    this.leases.shutdown();
    this.#links.shutdown();
  }

  /** A message of the driver's links, handled as a worker's would be. */
  #fromDriver(msg: FromWorker): void {
    switch (msg.type) {
      case "actorLink":
        return this.#host.actors.link(this.#caller, msg);
      case "leaseRequest":
      case "leaseReturn":
      case "leaseCancel":
      case "leaseDrained":
        return this.#host.lease(this.#caller, msg);
      case "promise":
      case "seal":
      case "sealIfMissing":
        return this.#host.owned.handle("driver" as WorkerId, msg, true);
    }
  }

  /** A message to the driver as a caller. */
  #toDriver(msg: ToWorker): void {
    if (!this.#host.running()) return;
    if (msg.type === "actorLinked") this.#links.linked(msg);
    else if (msg.type === "leaseRevoke") this.leases.revoked(msg.linkId);
    else if (msg.type === "actorUnlinked") this.#links.unlinked(msg);
  }
}
