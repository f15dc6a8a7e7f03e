/**
 * Tasks pushed straight to leased workers (direct submission, as Ray's
 * owners do): the caller asks the node for a lease on a pool worker per
 * resource shape ("leaseRequest"), the node's scheduler grants one when the
 * shape's resources are free (the lease is a task of its own there, holding
 * them), and from then on the caller writes its tasks of that shape into the
 * lease's call link and reads their results back, owning them, with no work
 * for the node per task. Tasks wait here, at their owner, until a lease has
 * room; a lease carries at most about a millisecond of work at a time (by
 * each function's measured time per task; a function not measured yet goes
 * alone), so long tasks spread over many leases and short ones go in
 * batches. A lease nobody used for
 * LEASE_IDLE_MS is given back ("leaseReturn").
 *
 * When the leased worker dies, the tasks it had taken are pushed again
 * within their `maxRetries` (else they fail with WorkerCrashedError), and
 * the others are pushed again as they are. A task whose worker blocked in
 * `get` on the task before it comes back unrun and is pushed elsewhere.
 * See docs/ARCHITECTURE.md, "Leases".
 *
 * @module
 */
import type { ActorId, ObjectId, TaskId, WorkerId } from "../common/mod.ts";
import { taskCancelled, workerDied } from "../common/mod.ts";
import type { ObjectRef } from "../core/mod.ts";
import { errorFrame, ownerOf } from "../core/mod.ts";
import type { FromWorker, TaskOptions, TaskSpec } from "../protocol/mod.ts";
import { LINK_RESULT, taskName } from "../protocol/mod.ts";
import type { Call, LeaseHooks, Link, Unlinked } from "./_call_types.ts";
import { callErrorText, callFailed, fill, PENDING } from "./_call_types.ts";
import { errorTextOf } from "./_call_records.ts";
import type { CallLinks } from "./call_links.ts";

/** A lease nobody pushed to for this long is given back. */
const LEASE_IDLE_MS = 2;
/** Milliseconds of work (by the shape's average) a lease carries at a time. */
const WORK_PER_LEASE_MS = 1;
/** Most tasks on one lease at a time. */
const MAX_PER_LEASE = 256;
/**
 * Most lease requests of one shape waiting at the node at a time (a grant
 * asks for the next while tasks wait; the node withdraws a caller's waiting
 * requests when it asks one of its leases back for another caller).
 */
const MAX_REQUESTS = 4;
/** Weight of the past in a function's average time per task (per task measured). */
const DECAY = 0.9;

/** How the owner reaches its node and its control-store records. */
export interface OwnerLeasesHost {
  /** Sends a lease message to the node. */
  post(msg: FromWorker): void;
  /** A task was submitted (for the control store). */
  submitted(spec: TaskSpec): void;
  /** A task was pushed to the leased worker `workerId` (it runs there next). */
  running(spec: TaskSpec, workerId: WorkerId): void;
  /**
   * Resolves once every one of `ids` exists at the node (a task's ref
   * arguments: it is pushed then, and its worker fetches them there).
   */
  whenStored(ids: readonly ObjectId[]): Promise<unknown>;
  /** True while the control store is behind: nothing is pushed then (`resume` when it caught up). */
  behind?(): boolean;
  /** A task ended: finished, failed or cancelled (`error`: why). */
  ended(spec: TaskSpec, state: "finished" | "failed" | "cancelled", error?: string): void;
}

/** One lease: a worker's link, granted or asked for. */
interface Lease {
  readonly link: Link;
  readonly shape: Shape;
  granted: boolean;
  /** When a task was last pushed to it or ended on it. */
  lastUsed: number;
  /** When the last task ended on it (or the first was pushed to it while empty). */
  lastEnd: number;
  /** Its running task waits in get: nothing more goes to it until a task of it ends. */
  blocked: boolean;
  /** Milliseconds of work on it, by its tasks' functions' averages (see WORK_PER_LEASE_MS). */
  work: number;
  /** Given back: nothing more goes to it; its link is forgotten once its tasks came back. */
  ending: boolean;
}

/** Tasks of one resource shape, and the leases that run them. */
interface Shape {
  readonly options: TaskOptions;
  readonly queue: Call[];
  head: number;
  readonly leases: Lease[];
  /** Leases asked for and not granted yet. */
  requested: number;
  fillQueued: boolean;
}

/** A caller's leases and the tasks it pushes to them. */
export class OwnerLeases {
  readonly #links: CallLinks;
  readonly #host: OwnerLeasesHost;
  readonly #shapes = new Map<string, Shape>();
  readonly #shapeKeys = new WeakMap<TaskOptions, string>();
  readonly #methods = new WeakMap<TaskSpec["fn"], string>();
  /** Per function (its method string): decayed sums of milliseconds and of tasks measured. */
  readonly #fnTimes = new Map<string, { ms: number; n: number }>();
  /** Leases by their link's number. */
  readonly #byLink = new Map<number, Lease>();
  #nextLease = 1;
  #stopped = false;
  #queued = 0;
  #idleTimer: ReturnType<typeof setTimeout> | undefined;

  /**
   * @param links the thread's call links (leases are links to pool workers)
   * @param host the node and the records
   */
  constructor(links: CallLinks, host: OwnerLeasesHost) {
    this.#links = links;
    this.#host = host;
  }

  /** The thread stops: no more timers. */
  shutdown(): void {
    clearTimeout(this.#idleTimer);
    this.#idleTimer = undefined;
    this.#stopped = true;
  }

  /** What this thread's idle leases hold (granted, nothing on them): free for any task soon. */
  idleHeld(): Record<string, number> {
    const held: Record<string, number> = {};
    for (const shape of this.#shapes.values()) {
      for (const lease of shape.leases) {
        if (!lease.granted || lease.ending || lease.link.pending.size > 0) continue;
        const { numCpus, resources } = shape.options;
        held.CPU = (held.CPU ?? 0) + numCpus;
        for (const [k, v] of Object.entries(resources)) held[k] = (held[k] ?? 0) + v;
      }
    }
    return held;
  }

  /** Tasks waiting here for room on a lease. */
  get queued(): number {
    return this.#queued;
  }

  /**
   * Submits a task to a lease of its shape; returns its refs at once. A task
   * with ref arguments waits here until they exist at the node (those this
   * thread owns were promised there when its arguments were encoded).
   */
  submit(spec: TaskSpec): ObjectRef[] {
    const c = this.#links.make({
      taskId: spec.taskId,
      actorId: "" as ActorId,
      method: this.#method(spec.fn),
      args: spec.args,
      deps: spec.deps,
      argRefs: spec.argRefs,
      numReturns: spec.options.numReturns,
    });
    c.spec = spec;
    const refs = c.refs!; // a push may read results, and settling clears `c.refs`
    this.#host.submitted(spec);
    const shape = this.#shape(spec.options);
    this.#queued++;
    if (spec.deps.length === 0) {
      shape.queue.push(c);
      this.#fill(shape);
      return refs;
    }
    this.#host.whenStored(spec.deps).then(() => {
      if (c.cancelled) return; // uncounted when cancelled
      shape.queue.push(c);
      this.#fillSoon(shape);
    }, () => {}); // the thread stopped: its waits were rejected
    return refs;
  }

  /**
   * Cancels a task of a lease (`c`, found by its ref): it fails with
   * TaskCancelledError now; if its worker may run it, the node signals it
   * (`force`: ends the worker) and its result is dropped when it comes.
   */
  cancel(c: Call, force: boolean, recursive = true): void {
    if (!c.spec) return;
    if (c.cancelled && force && c.link !== undefined) {
      // Cancelled already and still out: a forced cancel now ends its worker.
      const { id: linkId } = c.link;
      const { taskId, spec: { fn: { name } } } = c;
      return this.#host.post({ type: "leaseCancel", linkId, taskId, force, name, recursive });
    }
    if (c.kind !== PENDING || c.cancelled) return;
    c.cancelled = true;
    const frame = errorFrame(taskCancelled(taskName(c.spec)));
    this.#links.settle(c, LINK_RESULT.failed, fill(c, frame));
    this.#host.ended(c.spec, "cancelled", errorTextOf(frame));
    if (c.link === undefined) {
      this.#queued--; // still here: it never leaves
      return;
    }
    const { id: linkId } = c.link;
    const { taskId, spec: { fn: { name } } } = c;
    this.#host.post({ type: "leaseCancel", linkId, taskId, force, name, recursive });
    // Its CPU goes back now: the lease ends (what it holds besides comes back unrun).
    const lease = this.#byLink.get(linkId);
    if (lease) this.#end(lease);
  }

  /**
   * Task `parent` (running in this thread) was cancelled recursively: so
   * are the tasks it submitted to leases (their own workers then cancel
   * theirs).
   */
  cancelChildren(parent: TaskId, force: boolean): void {
    const children: Call[] = [];
    for (const shape of this.#shapes.values()) {
      for (let i = shape.head; i < shape.queue.length; i++) {
        if (shape.queue[i].spec?.parentTaskId === parent) children.push(shape.queue[i]);
      }
      for (const lease of shape.leases) {
        for (const c of lease.link.pending.values()) {
          if (c.spec?.parentTaskId === parent) children.push(c);
        }
      }
    }
    for (const c of children) this.cancel(c, force);
  }

  /** The node asks for lease `linkId` back (others wait): it ends, and is asked for again if needed. */
  revoked(linkId: number): void {
    const lease = this.#byLink.get(linkId);
    if (!lease) return;
    const { shape } = lease;
    this.#end(lease);
    this.#fillSoon(shape);
  }

  /** The leased task `ref` is a return of, if it is one of this thread's. */
  taskOf(ref: ObjectRef): Call | undefined {
    const owner = ownerOf(ref) as Call | undefined;
    return owner?.spec ? owner : undefined;
  }

  /** The method string a worker resolves the function by (its descriptor as JSON, made once). */
  #method(fn: TaskSpec["fn"]): string {
    let m = this.#methods.get(fn);
    if (m === undefined) {
      m = JSON.stringify([fn.moduleUrl, fn.key, fn.name, fn.source ?? null]);
      this.#methods.set(fn, m);
    }
    return m;
  }

  #shape(options: TaskOptions): Shape {
    let key = this.#shapeKeys.get(options);
    if (key === undefined) {
      key = JSON.stringify([options.numCpus, options.resources]);
      this.#shapeKeys.set(options, key);
    }
    let shape = this.#shapes.get(key);
    if (!shape) {
      shape = { options, queue: [], head: 0, leases: [], requested: 0, fillQueued: false };
      this.#shapes.set(key, shape);
    }
    return shape;
  }

  /**
   * Milliseconds a task of function `method` keeps its lease, by a decayed
   * average of what its tasks took; a function not seen yet counts as a
   * whole lease's worth (it goes alone until measured).
   */
  #estimate(method: string): number {
    const t = this.#fnTimes.get(method);
    return t === undefined ? WORK_PER_LEASE_MS : t.ms / t.n;
  }

  #measured(method: string, ms: number): void {
    const t = this.#fnTimes.get(method);
    if (t === undefined) this.#fnTimes.set(method, { ms, n: 1 });
    else {
      t.ms = t.ms * DECAY + ms;
      t.n = t.n * DECAY + 1;
    }
  }

  /** The control store caught up: what waits here is pushed again. */
  resume(): void {
    for (const shape of this.#shapes.values()) this.#fillSoon(shape);
  }

  /** Pushes queued tasks to leases with room; asks for more leases while tasks wait. */
  #fill(shape: Shape): void {
    if (this.#host.behind?.()) return;
    const now = performance.now();
    for (const lease of shape.leases) {
      if (shape.head === shape.queue.length) break;
      if (!lease.granted || lease.blocked) continue;
      const pending = lease.link.pending;
      if (pending.size === 0) {
        lease.lastEnd = now;
        lease.work = 0;
      }
      const room = () => pending.size < MAX_PER_LEASE && lease.work < WORK_PER_LEASE_MS;
      if (!room()) continue;
      lease.lastUsed = now;
      while (room() && shape.head < shape.queue.length) {
        const c = shape.queue[shape.head++];
        if (c.cancelled) continue; // not counted in #queued any more
        this.#queued--;
        c.estimateMs = this.#estimate(c.method);
        lease.work += c.estimateMs;
        // Recorded first: the push may read results, this task's among them.
        this.#host.running(c.spec!, lease.link.label as WorkerId);
        this.#links.queueOn(lease.link, c);
      }
    }
    if (shape.head === shape.queue.length) {
      shape.queue.length = 0;
      shape.head = 0;
      return;
    }
    const want = Math.min(MAX_REQUESTS, shape.queue.length - shape.head) - shape.requested;
    for (let i = 0; i < want; i++) this.#request(shape);
  }

  #request(shape: Shape): void {
    shape.requested++;
    const lease: Lease = {
      link: undefined as unknown as Link,
      shape,
      granted: false,
      lastUsed: performance.now(),
      lastEnd: 0,
      blocked: false,
      ending: false,
      work: 0,
    };
    const hooks: LeaseHooks = {
      granted: () => this.#granted(lease),
      ended: (c, kind) => this.#ended(lease, c, kind),
      lost: (calls, msg) => this.#lost(lease, calls, msg),
    };
    const key = `lease:${this.#nextLease++}`;
    const first = shape.queue[shape.head]?.spec;
    const name = first ? taskName(first) : "lease";
    (lease as { link: Link }).link = this.#links.openLease(key, hooks, (linkId, link, bell) => ({
      type: "leaseRequest",
      linkId,
      options: shape.options,
      name,
      link,
      bell,
    }));
    shape.leases.push(lease);
    this.#byLink.set(lease.link.id, lease);
  }

  #granted(lease: Lease): void {
    if (lease.ending) return;
    lease.granted = true;
    lease.shape.requested--;
    lease.lastUsed = performance.now();
    this.#fill(lease.shape);
    this.#idleSoon();
  }

  /** A task of `lease` ended (or came back unrun: it goes first in the queue again). */
  #ended(lease: Lease, c: Call, kind: number): void {
    const { shape } = lease;
    const now = performance.now();
    lease.blocked = kind === LINK_RESULT.unrun;
    lease.work = Math.max(0, lease.work - (c.estimateMs ?? 0));
    if (c.cancelled) {
      // Its late result (or it came back unrun): dropped.
    } else if (kind === LINK_RESULT.unrun) {
      c.link = undefined;
      shape.queue.splice(shape.head, 0, c);
      this.#queued++;
    } else {
      // The lease runs its tasks in order: this one ran since the one before it ended.
      this.#measured(c.method, now - lease.lastEnd);
      this.#report(c);
    }
    lease.lastEnd = now;
    lease.lastUsed = now;
    if (lease.ending) this.#forgetIfDone(lease);
    // Not now: this runs while the link's results are read, and a push may read them too.
    this.#fillSoon(shape);
  }

  /** Fills `shape`'s leases at the end of this turn (once per turn). */
  #fillSoon(shape: Shape): void {
    if (shape.fillQueued) return;
    shape.fillQueued = true;
    queueMicrotask(() => {
      shape.fillQueued = false;
      this.#fill(shape);
      this.#idleSoon();
    });
  }

  #report(c: Call): void {
    const spec = c.spec!;
    if (callFailed(c)) this.#host.ended(spec, "failed", callErrorText(c, errorTextOf));
    else this.#host.ended(spec, "finished");
  }

  /** The leased worker is gone: taken tasks are retried within `maxRetries`, others pushed again. */
  #lost(lease: Lease, calls: readonly (readonly [Call, boolean])[], msg: Unlinked): void {
    const { shape } = lease;
    if (!lease.granted && !lease.ending) shape.requested--;
    this.#drop(lease);
    const again: Call[] = [];
    for (const [c, taken] of calls) {
      if (c.cancelled) continue;
      if (msg.death) {
        // The node can never grant this shape (infeasible): every task of it fails so.
        this.#fail(c, msg.death);
        continue;
      }
      const budget = c.spec!.options.maxRetries;
      if (taken && budget !== -1 && c.spec!.attempt >= budget) {
        this.#fail(c, errorFrame(workerDied(taskName(c.spec!), msg.label, msg.why)));
        continue;
      }
      if (taken) (c.spec as { attempt: number }).attempt++;
      c.link = undefined;
      again.push(c);
    }
    if (msg.death) {
      for (let i = shape.head; i < shape.queue.length; i++) {
        const c = shape.queue[i];
        if (c.cancelled) continue;
        this.#queued--;
        this.#fail(c, msg.death);
      }
      shape.queue.length = 0;
      shape.head = 0;
      return;
    }
    shape.queue.splice(shape.head, 0, ...again);
    this.#queued += again.length;
    this.#fillSoon(shape);
  }

  #fail(c: Call, frame: Uint8Array): void {
    this.#links.settle(c, LINK_RESULT.failed, fill(c, frame));
    this.#host.ended(c.spec!, "failed", errorTextOf(frame));
  }

  #drop(lease: Lease): void {
    const list = lease.shape.leases;
    const i = list.indexOf(lease);
    if (i >= 0) list.splice(i, 1);
    this.#byLink.delete(lease.link.id);
    this.#links.closeLease(lease.link);
  }

  /**
   * Gives `lease` back: the node frees what it holds now and closes it in
   * the worker, which hands back what it did not start; nothing more goes to
   * it, and its link is forgotten once every task on it came back.
   */
  #end(lease: Lease): void {
    if (lease.ending) return;
    lease.ending = true;
    const list = lease.shape.leases;
    list.splice(list.indexOf(lease), 1);
    if (!lease.granted) lease.shape.requested--;
    // What was not written to it yet goes first in the queue again (written, the worker hands it back).
    const back = this.#links.takeUnsent(lease.link);
    if (back.length > 0) {
      const { shape } = lease;
      for (const c of back) {
        c.link = undefined;
        lease.work = Math.max(0, lease.work - (c.estimateMs ?? 0));
      }
      shape.queue.splice(shape.head, 0, ...back);
      this.#queued += back.length;
      this.#fillSoon(shape);
    }
    const { id: linkId, pending, unsent } = lease.link;
    const draining = pending.size > 0 || unsent.length > 0;
    this.#host.post(
      draining ? { type: "leaseReturn", linkId, draining } : { type: "leaseReturn", linkId },
    );
    if (!draining) this.#forget(lease);
  }

  /** Once every task of an ended lease came back: the link is forgotten, and the node told. */
  #forgetIfDone(lease: Lease): void {
    if (lease.link.pending.size > 0 || lease.link.unsent.length > 0) return;
    this.#forget(lease);
    this.#host.post({ type: "leaseDrained", linkId: lease.link.id });
  }

  #forget(lease: Lease): void {
    this.#byLink.delete(lease.link.id);
    this.#links.closeLease(lease.link);
  }

  /** Gives back, soon, the leases that stay idle. */
  #idleSoon(): void {
    if (this.#idleTimer !== undefined || this.#stopped) return;
    this.#idleTimer = setTimeout(() => {
      this.#idleTimer = undefined;
      const now = performance.now();
      let busy = false;
      for (const shape of this.#shapes.values()) {
        for (const lease of [...shape.leases]) {
          if (!lease.granted) continue;
          if (lease.link.pending.size > 0 || lease.link.unsent.length > 0) continue;
          if (now - lease.lastUsed < LEASE_IDLE_MS) {
            busy = true;
            continue;
          }
          this.#end(lease);
        }
      }
      if (busy) this.#idleSoon();
    }, LEASE_IDLE_MS);
  }
}

/** Most ref arguments of a leased task: its call (which lists them) must fit a link. */
const MAX_LEASED_DEPS = 512;

/**
 * True when a task may go to a lease: the default strategy, no retries on
 * exceptions, at most MAX_LEASED_DEPS ref arguments.
 */
export function leasable(spec: TaskSpec): boolean {
  const o = spec.options;
  return !o.retryExceptions && spec.deps.length <= MAX_LEASED_DEPS &&
    (o.schedulingStrategy === "DEFAULT" || o.schedulingStrategy === undefined);
}
