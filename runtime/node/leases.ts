/**
 * The node's side of leases (runtime/links/owner_leases.ts): a caller's
 * request for a pool worker of some resource shape becomes a task of its
 * own in the local scheduler (the lease task), so leases queue with other
 * tasks in one order and hold their resources by the scheduler's rules
 * (a lease whose task waits in `get` is blocked and lends its CPU out, as a
 * task would). When the scheduler dispatches a lease task to a worker, the
 * lease is granted: the worker reads the caller's link ("leaseOpen") and the
 * caller hears "actorLinked" with the worker's doorbell. The lease task
 * finishes when the caller returns the lease. A lease whose worker dies
 * ends without a retry: its caller pushes its tasks elsewhere.
 *
 * @module
 */
import type { IdFactory, TaskId, WorkerId } from "../common/mod.ts";
import { config, settingEnvName } from "../common/mod.ts";
import type { Frame, FromWorker, FunctionDescriptor, TaskSpec, ToWorker } from "../protocol/mod.ts";
import { BELL_OFFSET } from "../transport/mod.ts";
import { NO_ARGS } from "../protocol/mod.ts";
import type { Instruction, LocalScheduler } from "../scheduler/mod.ts";
import { errorFrame } from "../core/mod.ts";
import { infeasibleOn } from "./_error_text.ts";
import type { LinkCaller } from "../links/mod.ts";

/** The function of every lease task (never run: a lease task only holds resources). */
export const LEASE_FN: FunctionDescriptor = Object.freeze({
  moduleUrl: "rayd:lease",
  key: "lease",
  name: "lease",
});
/**
 * A lease held this long while other work waits for what it holds is asked
 * back (fairness: a caller streaming tasks does not starve the others).
 */
export const LEASE_QUANTUM_MS = 20;
/** Waiting tasks looked at for another caller's work. */
const WAITING_SCAN = 64;

type LeaseMessage = Extract<
  FromWorker,
  { type: "leaseRequest" | "leaseReturn" | "leaseCancel" | "leaseDrained" }
>;
type Request = Extract<LeaseMessage, { type: "leaseRequest" }>;

/** One lease, from request to return. */
interface NodeLease {
  readonly caller: LinkCaller;
  readonly linkId: number;
  readonly spec: TaskSpec;
  readonly link: SharedArrayBuffer;
  readonly bell: SharedArrayBuffer;
  workerId?: WorkerId;
  grantedAt: number;
  /** Asked back ("leaseRevoke"); not asked again. */
  revoked?: boolean;
}

/**
 * The `leasedTasks` setting: 0 (off), 1 (the driver leases) or 2 (every
 * caller); throws RangeError naming it for anything else.
 */
export function leasedTasksMode(): 0 | 1 | 2 {
  const mode = config("leasedTasks");
  if (mode !== 0 && mode !== 1 && mode !== 2) {
    throw new RangeError(
      `Invalid leasedTasks (${settingEnvName("leasedTasks")}): expected 0, 1 or 2, got ${mode}`,
    );
  }
  return mode;
}

/** What the leases need from the node. */
export interface NodeLeasesHost {
  readonly ids: IdFactory;
  /** The node's resources (for the error of a shape it can never fit). */
  readonly total: Readonly<Record<string, number>>;
  readonly scheduler: LocalScheduler;
  /** The pool's task workers. */
  readonly pool: { readonly taskWorkers: ReadonlyMap<WorkerId, { send(msg: ToWorker): void }> };
  /** Their task channels (a worker's doorbell is in its channel's memory). */
  readonly channels: { memoryOf(id: WorkerId): SharedArrayBuffer | undefined };
  /** The clock of the fairness rule (milliseconds; default `performance.now`). */
  readonly now?: () => number;
  /** Ends workers for forced cancels, and replaces those that run a cancelled task too long. */
  readonly grace: {
    replace(id: WorkerId, cause: string): void;
    start(taskId: TaskId, name: string, workerId: WorkerId): void;
  };
}

/** Every lease of the node. */
export class NodeLeases {
  readonly #host: NodeLeasesHost;
  readonly #byTask = new Map<TaskId, NodeLease>();
  readonly #byLink = new Map<string, NodeLease>();
  /** Returned leases whose tasks may still run: their callers hear if the worker dies. */
  readonly #draining = new Map<string, NodeLease>();
  /** Cancelled leased tasks that may still run, and where. */
  readonly #cancelled = new Map<TaskId, WorkerId>();
  #fairTimer: ReturnType<typeof setTimeout> | undefined;
  #stopped = false;

  /** @param host the node */
  constructor(host: NodeLeasesHost) {
    this.#host = host;
  }

  /** Lease tasks known (asked for or granted). */
  get size(): number {
    return this.#byTask.size;
  }

  /** A caller's lease message ("leaseRequest", "leaseReturn", "leaseCancel"). */
  handle(caller: LinkCaller, msg: LeaseMessage): void {
    if (msg.type === "leaseRequest") this.request(caller, msg);
    else if (msg.type === "leaseReturn") this.returned(caller, msg.linkId, msg.draining);
    else if (msg.type === "leaseDrained") this.#draining.delete(keyOf(caller, msg.linkId));
    else this.cancel(caller, msg);
  }

  /** A caller asks for a lease: its lease task queues in the scheduler. */
  request(caller: LinkCaller, msg: Request): void {
    const spec: TaskSpec = {
      taskId: this.#host.ids.nextTaskId(),
      fn: LEASE_FN,
      args: NO_ARGS,
      deps: [],
      argRefs: [],
      options: { ...msg.options, numReturns: 0, maxRetries: 0, name: msg.name },
      attempt: 0,
    };
    const lease: NodeLease = {
      caller,
      linkId: msg.linkId,
      spec,
      link: msg.link,
      bell: msg.bell,
      grantedAt: 0,
    };
    this.#byTask.set(spec.taskId, lease);
    this.#byLink.set(keyOf(caller, msg.linkId), lease);
    this.#host.scheduler.submit(spec);
  }

  /**
   * Applies a scheduler instruction about a lease task (the node grants it
   * instead of running it); false for other tasks' instructions.
   */
  apply(ins: Instruction): boolean {
    if (!("spec" in ins) || ins.spec.fn !== LEASE_FN) return false;
    if (ins.type === "dispatch") this.#granted(ins.spec, ins.workerId);
    else if (ins.type === "infeasible") {
      this.#infeasible(
        ins.spec,
        errorFrame(infeasibleOn(ins.spec, ins.resource, this.#host.total)),
      );
    }
    return true; // "cancelled" (returned before granted) and the rest need nothing
  }

  /** The scheduler dispatched lease task `spec` to `workerId`: the lease is granted. */
  #granted(spec: TaskSpec, workerId: WorkerId): void {
    const lease = this.#byTask.get(spec.taskId);
    const worker = this.#host.pool.taskWorkers.get(workerId);
    const channel = this.#host.channels.memoryOf(workerId);
    if (!lease || !worker || !channel) return;
    if (!lease.caller.alive) return this.#end(lease);
    lease.workerId = workerId;
    lease.grantedAt = this.#now();
    worker.send({
      type: "leaseOpen",
      linkId: keyOf(lease.caller, lease.linkId),
      leaseTaskId: spec.taskId,
      link: lease.link,
      bell: lease.bell,
    });
    lease.caller.send({
      type: "actorLinked",
      linkId: lease.linkId,
      actorBell: channel,
      bellOffset: BELL_OFFSET,
      maxTaskRetries: 0,
      label: workerId,
    });
  }

  /** No node can ever fit the lease's shape: its caller fails the tasks of that shape with `error`. */
  #infeasible(spec: TaskSpec, error: Frame): void {
    const lease = this.#byTask.get(spec.taskId);
    if (!lease) return;
    this.#forget(lease);
    lease.caller.send({
      type: "actorUnlinked",
      linkId: lease.linkId,
      label: "lease",
      why: "infeasible",
      maxTaskRetries: 0,
      death: error as Uint8Array,
    });
  }

  /** The caller is done with a lease. */
  returned(caller: LinkCaller, linkId: number, draining = false): void {
    const lease = this.#byLink.get(keyOf(caller, linkId));
    if (!lease) return;
    this.#end(lease);
    if (draining && lease.workerId !== undefined) this.#draining.set(keyOf(caller, linkId), lease);
  }

  /** The caller cancels a task it pushed to a lease. */
  cancel(caller: LinkCaller, msg: Extract<LeaseMessage, { type: "leaseCancel" }>): void {
    const { linkId, taskId, force, name, recursive } = msg;
    // Tasks it submitted that the node holds (submitted through the node, not leased).
    if (recursive) this.#host.scheduler.cancelChildren(taskId, { force, recursive: true });
    // A forced cancel after a plain one finds the worker among the cancelled.
    const workerId = this.#byLink.get(keyOf(caller, linkId))?.workerId ??
      this.#cancelled.get(taskId);
    if (workerId === undefined) return;
    const { grace, pool } = this.#host;
    if (force) return grace.replace(workerId, "ended to force-cancel a task");
    this.#cancelled.set(taskId, workerId);
    pool.taskWorkers.get(workerId)?.send({ type: "cancel", taskId, recursive });
    grace.start(taskId, name, workerId);
  }

  /**
   * Worker `workerId` died (before the scheduler hears it): its leases end
   * and their callers push their tasks elsewhere.
   */
  workerDied(workerId: WorkerId, why: string): void {
    for (const [taskId, on] of this.#cancelled) if (on === workerId) this.#cancelled.delete(taskId);
    const draining = [...this.#draining].filter(([, lease]) => lease.workerId === workerId);
    for (const [key] of draining) this.#draining.delete(key);
    const held = [...this.#byTask.values()].filter((lease) => lease.workerId === workerId);
    for (const lease of held) this.#end(lease, false);
    for (const lease of [...held, ...draining.map(([, lease]) => lease)]) {
      lease.caller.send({
        type: "actorUnlinked",
        linkId: lease.linkId,
        label: workerId,
        why,
        maxTaskRetries: 0,
      });
    }
  }

  /**
   * After a dispatch: while work waits that another caller's lease holds
   * resources from, the lease granted longest ago (at least
   * LEASE_QUANTUM_MS) is asked back; its caller asks again if it still has
   * tasks, behind what waits.
   */
  contended(): void {
    if (this.#fairTimer !== undefined || this.#stopped || this.#byTask.size === 0) return;
    if (this.#host.scheduler.waiting(1).length === 0) return;
    this.#fairTimer = setTimeout(() => {
      this.#fairTimer = undefined;
      this.revokeOverdue();
      this.contended();
    }, LEASE_QUANTUM_MS);
    Deno.unrefTimer(this.#fairTimer as unknown as number);
  }

  /**
   * Asks back the lease granted longest ago (at least LEASE_QUANTUM_MS)
   * that holds resources another caller's waiting work needs, if any.
   */
  revokeOverdue(): void {
    const waiting = this.#host.scheduler.waiting(WAITING_SCAN);
    if (waiting.length === 0) return;
    // Whose work waits: callers of lease requests, or "" for plain tasks.
    const waiters = new Set(waiting.map((s) => this.#byTask.get(s.taskId)?.caller.id ?? ""));
    const now = this.#now();
    let oldest: NodeLease | undefined;
    for (const lease of this.#byTask.values()) {
      if (lease.workerId === undefined || lease.revoked) continue;
      // One whose task waits in get holds no CPU: asking it back frees nothing.
      if (this.#host.scheduler.isBlocked(lease.spec.taskId)) continue;
      if (now - lease.grantedAt < LEASE_QUANTUM_MS) continue;
      const others = waiters.has("") || [...waiters].some((id) => id !== lease.caller.id);
      if (others && (!oldest || lease.grantedAt < oldest.grantedAt)) oldest = lease;
    }
    if (!oldest) return;
    // Its caller's requests still waiting go too: asked again, they queue behind the others.
    for (const lease of this.#byTask.values()) {
      if (lease.caller !== oldest.caller || lease.revoked) continue;
      if (lease !== oldest && lease.workerId !== undefined) continue;
      lease.revoked = true;
      lease.caller.send({ type: "leaseRevoke", linkId: lease.linkId });
    }
  }

  /** Asks every lease back (the control store is behind: nothing more runs until it caught up). */
  revokeAll(): void {
    for (const lease of this.#byTask.values()) {
      if (lease.workerId === undefined || lease.revoked) continue;
      lease.revoked = true;
      lease.caller.send({ type: "leaseRevoke", linkId: lease.linkId });
    }
  }

  /** The node stops. */
  close(): void {
    clearTimeout(this.#fairTimer);
    this.#fairTimer = undefined;
    this.#stopped = true;
  }

  /** The worker says a cancelled leased task ended. */
  cancelDone(taskId: TaskId): void {
    this.#cancelled.delete(taskId);
  }

  /** True while cancelled leased task `taskId` may still run on `workerId` (for the grace period). */
  stillOn(taskId: TaskId, workerId: WorkerId): boolean {
    return this.#cancelled.get(taskId) === workerId;
  }

  /** A caller is gone: its leases end. */
  callerGone(callerId: string): void {
    for (const lease of [...this.#byTask.values()]) {
      if (lease.caller.id === callerId) this.#end(lease);
    }
    for (const [key, lease] of this.#draining) {
      if (lease.caller.id === callerId) this.#draining.delete(key);
    }
  }

  #end(lease: NodeLease, tell = true): void {
    this.#forget(lease);
    const { scheduler } = this.#host;
    if (lease.workerId === undefined) {
      // Its "cancelled" instruction is ignored (apply).
      scheduler.cancel(lease.spec.taskId, { force: false, recursive: false });
      return;
    }
    scheduler.taskFinished(
      lease.spec.taskId,
      this.#now() - lease.grantedAt,
      false,
      lease.workerId,
    );
    if (tell) {
      this.#host.pool.taskWorkers.get(lease.workerId)?.send({
        type: "leaseClose",
        linkId: keyOf(lease.caller, lease.linkId),
      });
    }
  }

  #now(): number {
    return this.#host.now?.() ?? performance.now();
  }

  #forget(lease: NodeLease): void {
    this.#byTask.delete(lease.spec.taskId);
    this.#byLink.delete(keyOf(lease.caller, lease.linkId));
  }
}

function keyOf(caller: LinkCaller, linkId: number): string {
  return `${caller.id}:${linkId}`;
}
