/**
 * A pool worker's leases (runtime/links/owner_leases.ts): each is a
 * caller's call link carrying tasks. The worker reads them beside its task
 * channel and runs each lease's tasks one at a time, in the order the
 * caller wrote them, writing results back to the caller, who owns them.
 * While a lease's running task waits in `get` (its CPU is lent out), the
 * tasks queued behind it go back to the caller unrun, to be pushed to
 * another lease: a task may be waiting for one of them.
 *
 * @module
 */
import type { ObjectId, TaskId } from "../common/mod.ts";
import type { WaitResult } from "../core/mod.ts";
import { ActorLinks, type LinkState } from "../links/mod.ts";
import type { SharedArena } from "../object_store/mod.ts";
import type { ActorResult, Frame, FunctionDescriptor, RunActorCall } from "../protocol/mod.ts";
import { LINK_RESULT } from "../protocol/mod.ts";
import { ScratchFrames } from "../serialization/mod.ts";
import { Executor } from "./executor.ts";

/** One lease, as the worker runs it. */
interface Lease {
  readonly key: string;
  readonly leaseTaskId: TaskId;
  readonly link: LinkState;
  readonly queue: RunActorCall[];
  /** The task running now. */
  running?: TaskId;
  /** The running task waits in get: what comes is handed back unrun. */
  blocked: boolean;
  /** The lease ended: what comes is handed back; the link goes once the running task ends. */
  closing: boolean;
}

/** What the leases need from the worker. */
export interface LeaseRunnerHost {
  readonly arena: SharedArena;
  /** Fetches objects from the node (ref arguments). */
  fetch(ids: readonly ObjectId[]): Promise<WaitResult>;
  /** Seals an object at the node (batched with the worker's puts). */
  put(id: ObjectId, frame: Frame, contained: readonly ObjectId[]): void;
  /** Sends the backend's batched messages (puts before the results that refer to them). */
  flushBackend(): void;
  /** A lease's link held garbage. */
  broken(key: string, why: string): void;
  /** Work may wait: run what waits (the task loop's listen). */
  wake(): void;
  /** A cancelled leased task ended (the node stops its grace timer). */
  cancelDone(taskId: TaskId): void;
}

/** The leases of one pool worker. */
export class LeaseRunner {
  readonly #host: LeaseRunnerHost;
  readonly #links: ActorLinks;
  readonly #executor: Executor;
  readonly #scratch = new ScratchFrames();
  readonly #leases = new Map<string, Lease>();
  readonly #byLink = new Map<LinkState, Lease>();
  /** Running leased tasks, to their lease. */
  readonly #leaseOf = new Map<TaskId, Lease>();
  readonly #fns = new Map<string, FunctionDescriptor>();
  /** Leased tasks cancelled while they may run here. */
  readonly #cancelled = new Set<TaskId>();
  #flushQueued = false;
  #running = 0;

  /** @param host the worker */
  constructor(host: LeaseRunnerHost) {
    this.#host = host;
    this.#executor = new Executor(host.arena, this.#scratch);
    this.#links = new ActorLinks({
      arena: host.arena,
      fetch: host.fetch,
      put: host.put,
      enqueue: (run, link) => this.#enqueue(run, link),
      wake: () => host.wake(),
      broken: (key, why) => host.broken(key, why),
    });
  }

  /** Leases open on this worker. */
  get size(): number {
    return this.#leases.size;
  }

  /** A caller leased this worker ("leaseOpen"). */
  open(key: string, leaseTaskId: TaskId, link: SharedArrayBuffer, bell: SharedArrayBuffer): void {
    const state = this.#links.add(key, link, bell);
    const lease: Lease = {
      key,
      leaseTaskId,
      link: state,
      queue: [],
      blocked: false,
      closing: false,
    };
    this.#leases.set(key, lease);
    this.#byLink.set(state, lease);
    this.#host.wake();
  }

  /**
   * The lease ended ("leaseClose"): the tasks not started go back to the
   * caller; the link goes once the running one ended and its result is out.
   */
  close(key: string): void {
    const lease = this.#leases.get(key);
    if (!lease || lease.closing) return;
    lease.closing = true;
    this.#links.collect(); // every call its caller wrote before returning it: handed back too
    this.#handBack(lease);
    this.#host.wake(); // calls of other leases that came with them run
  }

  /** True when tasks wait in a lease's link. */
  waiting(): boolean {
    return this.#leases.size > 0 && this.#links.waiting();
  }

  /** The lease task a running leased task holds its CPU by (for "blocked" and waits). */
  leaseTaskOf(taskId: TaskId): TaskId | undefined {
    return this.#leaseOf.get(taskId)?.leaseTaskId;
  }

  /** Signals a running leased task (`ray.cancel`); one not started yet fails when its turn comes. */
  cancel(taskId: TaskId): void {
    this.#executor.cancel(taskId);
    if (this.#leaseOf.has(taskId)) this.#cancelled.add(taskId);
  }

  /**
   * A leased task waits in get: the tasks behind it on its lease go back to
   * the caller (it may wait for one of them); more that come go back too
   * until it ends.
   */
  blocked(taskId: TaskId, on: boolean): void {
    const lease = this.#leaseOf.get(taskId);
    if (!lease || lease.blocked === on) return;
    lease.blocked = on;
    if (on) this.#handBack(lease);
  }

  /** Runs what waits; how many tasks came, -1 while leased tasks still run. */
  runQueued(): number {
    if (this.#leases.size === 0) return 0;
    const came = this.#links.collect();
    for (const lease of this.#leases.values()) this.#startNext(lease);
    this.#flush();
    return this.#running > 0 ? -1 : came;
  }

  #enqueue(run: RunActorCall, link: LinkState): void {
    const lease = this.#byLink.get(link);
    if (!lease) return;
    lease.queue.push(run);
    if (lease.blocked || lease.closing) this.#handBack(lease);
  }

  #handBack(lease: Lease): void {
    for (const run of lease.queue.splice(0)) {
      this.#links.decoded(run);
      lease.link.results.push([run[6], LINK_RESULT.unrun, []]);
    }
    this.#flushSoon();
  }

  /** Starts the lease's next task while none runs; synchronous ones run back to back. */
  #startNext(lease: Lease): void {
    while (lease.running === undefined && lease.queue.length > 0) {
      const run = lease.queue.shift()!;
      const [taskId, method, args, numReturns, deps, depFrames] = run;
      const fn = this.#fn(method);
      lease.running = taskId;
      this.#leaseOf.set(taskId, lease);
      const task = { taskId, fn, args, deps, depFrames, numReturns, name: fn.name };
      let result;
      try {
        result = this.#executor.run(task);
      } finally {
        this.#links.decoded(run);
      }
      if (!(result instanceof Promise)) {
        this.#done(lease, run, result.returns, result.failed, result.contained);
        continue;
      }
      this.#running++;
      result.then((r) => {
        this.#running--;
        this.#done(lease, run, r.returns, r.failed, r.contained);
        this.#startNext(lease);
        this.#flushSoon();
        if (this.#running === 0) this.#host.wake();
      });
    }
  }

  #done(
    lease: Lease,
    run: RunActorCall,
    returns: readonly Frame[],
    failed: boolean,
    contained?: readonly (readonly ObjectId[])[],
  ): void {
    this.#leaseOf.delete(run[0]);
    if (this.#cancelled.delete(run[0])) this.#host.cancelDone(run[0]);
    lease.running = undefined;
    lease.blocked = false;
    const result: ActorResult = contained && contained.some((c) => c.length > 0)
      ? [run[6], returns, failed, contained]
      : [run[6], returns, failed];
    this.#links.report(lease.link, run, result);
  }

  #fn(method: string): FunctionDescriptor {
    let fn = this.#fns.get(method);
    if (!fn) {
      const [moduleUrl, key, name, source] = JSON.parse(method);
      fn = source === null ? { moduleUrl, key, name } : { moduleUrl, key, name, source };
      this.#fns.set(method, fn!);
    }
    return fn!;
  }

  #flushSoon(): void {
    if (this.#flushQueued) return;
    this.#flushQueued = true;
    queueMicrotask(() => this.#flush());
  }

  /** Sends the results so far, after the backend's batched messages (puts). */
  #flush(): void {
    this.#flushQueued = false;
    this.#host.flushBackend();
    this.#links.pump();
    this.#scratch.reset();
    for (const lease of this.#leases.values()) {
      const { link } = lease;
      if (!lease.closing || lease.running !== undefined) continue;
      if (link.unsent.length > 0 || link.results.length > 0 || link.channel.workPending) continue;
      if (link.intake.length > 0 || link.fetching) continue; // fetching ref arguments first
      this.#leases.delete(lease.key);
      this.#byLink.delete(link);
      this.#links.drop(lease.key);
    }
  }
}
