/**
 * A caller's method calls to actors (a worker's, or the driver's through
 * ./driver_calls.ts), through call links (./call_link.ts): calls go from this thread straight to the
 * actor's worker and results come straight back, so the node's thread does
 * nothing per call. This thread owns the results (as in Ray's ownership
 * model): they live here, `get` and `wait` of them are answered here, and
 * the node hears of one only when it leaves this thread (a ref passed to a
 * task, put, returned, or waited for with refs the node has): then this
 * thread promises it and seals it at the node once it has it. Results an
 * actor could not send back inline (big, or holding refs) it seals at the
 * node itself; the link says so.
 *
 * When the actor's worker dies the node unlinks: calls still unread in the
 * link are written again to the next link; calls the actor had taken are
 * retried within the actor's `maxTaskRetries`, else fail with
 * RayActorError; if the actor is dead for good every call fails with its
 * death. See docs/ARCHITECTURE.md, "Call links".
 *
 * @module
 */
import type { ActorId, IdFactory, LongTimer, ObjectId, TaskId } from "../common/mod.ts";
import {
  actorCallLost,
  config,
  linkGarbage,
  longTimeout,
  objectIdOf,
  RecentMap,
  runtimeShutDown,
} from "../common/mod.ts";
import type { ObjectRef, WaitRequest, WaitResult } from "../core/mod.ts";
import {
  currentTask,
  errorFrame,
  ownedRef,
  ownedRefs,
  ownerOf,
  refTracker,
  trackRef,
} from "../core/mod.ts";
import { encodeFrame, heapAllocator } from "../serialization/mod.ts";
import type { ActorCall, Frame, FromWorker, ToWorker } from "../protocol/mod.ts";
import { LINK_RESULT } from "../protocol/mod.ts";
import { Doorbell } from "../transport/mod.ts";
import { CallLink } from "./call_link.ts";
import type { Call, LeaseHooks, Link, Waiter } from "./_call_types.ts";
import { countDone, failedAtNode, fill, indexOf, newCall, PENDING } from "./_call_types.ts";
import { answerWait } from "./_call_answer.ts";
import { CallRecords, type CallRecordSink } from "./_call_records.ts";

const LINK_BYTES = config("linkBytes");
/** Frames bigger than this go through the node's store, so that any one call or result fits a link. */
const LINK_FRAME_MAX = LINK_BYTES / 8;
const CALL_BATCH = config("actorCallBatch");
const SPIN_MAX = config("getSpinMicros");
/** A task whose wait here lasts this long gives its CPU back (tells the node it is blocked). */
const BLOCKED_AFTER_MS = config("blockedAfterMs");
/** A caller with at most this many calls out spins for their results before sleeping. */
const SPIN_CALLS = 2;
/** Dead actors whose deaths a thread keeps, to fail calls to them without asking the node. */
const DEAD_KEPT = 256;
const NO_FRAMES: Frame[] = [];

/** How the caller side reaches the rest of its thread and the node. */
export interface CallLinksHost {
  /** Sends a message to the node. */
  post(msg: FromWorker): void;
  /** Waits at the node (for ids the actor sealed there). */
  nodeWait(ids: readonly ObjectId[], n: number, req: WaitRequest): Promise<WaitResult>;
  /** The thread's ids (a new object id for arguments too big for a link). */
  readonly ids: IdFactory;
  /** Stores an object at the node (as the thread's `put`). */
  put(id: ObjectId, frame: Frame, contained: readonly ObjectId[]): void;
  /** Where the records of this thread's actor calls go (none: not recorded). */
  records?: CallRecordSink;
}

/** A caller thread's links to actors and the results it owns. */
export class CallLinks {
  readonly #host: CallLinksHost;
  readonly #records?: CallRecords;
  /** Rung by the actors this thread calls, after they write results. */
  readonly #bell = new Doorbell();
  readonly #links = new Map<ActorId, Link>();
  readonly #byId = new Map<number, Link>();
  /** Error frames of actors that are dead for good. */
  readonly #dead = new RecentMap<ActorId, Uint8Array>(DEAD_KEPT);
  /** Actors on other nodes: their calls go through the node. */
  readonly #viaNode = new Set<ActorId>();
  readonly #waiters = new Set<Waiter>();
  #nextLink = 1;
  #outstanding = 0;
  #pumpQueued = false;
  #retryQueued = false;
  #sleeping = false;
  #promises: ObjectId[] = [];
  #seals: [ObjectId, Uint8Array, boolean][] = [];
  #toNodeQueued = false;

  /** @param host how to reach the node */
  constructor(host: CallLinksHost) {
    this.#host = host;
    if (host.records) this.#records = new CallRecords(host.records, () => this.#byId.values());
    ownedRefs.escapes = (ref, owner) => this.#escape(ref, owner as Call);
    ownedRefs.disposed = (_ref, owner) => this.#disposed(owner as Call);
  }

  /** Makes a call (never waits): written to the actor's link at the end of this turn; returns its refs. */
  call(call: ActorCall): ObjectRef[] {
    const c = this.make(call);
    const refs = c.refs!;
    const death = this.#dead.get(call.actorId);
    if (death) {
      this.#settle(c, LINK_RESULT.failed, fill(c, death));
      return refs;
    }
    if (this.#viaNode.size > 0 && this.#viaNode.has(call.actorId)) {
      this.#sendViaNode(c);
      return refs;
    }
    this.queueOn(this.#links.get(call.actorId) ?? this.#open(call.actorId), c);
    return refs;
  }

  /** A call's record and refs (`c.refs`), not queued on any link yet. */
  make(call: ActorCall): Call {
    let { args, deps, argRefs } = call;
    if (args instanceof Uint8Array && args.byteLength > LINK_FRAME_MAX) {
      // Too big for the link: an object of its own that the actor fetches.
      const argsId = this.#host.ids.nextPutId();
      this.#host.put(argsId, args, argRefs);
      args = argsId;
      deps = [...deps, argsId];
      argRefs = [argsId];
    }
    const parent = call.parentTaskId ?? (this.#records ? currentTask()?.taskId ?? "" : "");
    const c = newCall(call, args, deps, argRefs, parent);
    const refs: ObjectRef[] = [];
    for (let i = 0; i < c.numReturns; i++) refs.push(ownedRef(objectIdOf(c.taskId, i), c));
    c.refs = refs;
    // The actor fetches these from the node: they stay held while the call is.
    for (const id of argRefs) refTracker.track(c, id);
    return c;
  }

  /** Queues `c` on `link` (written at the end of this turn). */
  queueOn(link: Link, c: Call): void {
    this.#outstanding++;
    this.#queue(link, c);
  }

  /** Ends `c` here with `kind` and `returns` (a lease's owner failing a task). */
  settle(c: Call, kind: number, returns: readonly Frame[]): void {
    this.#settle(c, kind, returns);
    this.#wake();
  }

  /** Opens a lease's link: `request` is the message that asks the node for it. */
  openLease(
    key: string,
    hooks: LeaseHooks,
    request: (linkId: number, link: SharedArrayBuffer, bell: SharedArrayBuffer) => FromWorker,
  ): Link {
    const link = this.#open(key as ActorId, request);
    link.lease = hooks;
    return link;
  }

  /** Takes back the calls queued on `link` and not written to it yet (a lease that ends). */
  takeUnsent(link: Link): Call[] {
    const calls = link.unsent;
    link.unsent = [];
    for (const c of calls) link.pending.delete(c.slot);
    this.#outstanding -= calls.length;
    return calls;
  }

  /** Forgets a lease's link (it was returned). */
  closeLease(link: Link): void {
    this.#byId.delete(link.id);
    this.#links.delete(link.actorId);
  }

  /** Calls made and not answered yet. */
  get outstanding(): number {
    return this.#outstanding;
  }

  /** True when every ref is to a result this thread owns. */
  ownsAll(refs: readonly ObjectRef[]): boolean {
    for (const r of refs) if (ownerOf(r) === undefined) return false;
    return true;
  }

  /** These refs leave this thread: the results it owns are promised to the node. */
  escape(refs: readonly ObjectRef[]): void {
    for (const r of refs) {
      const owner = ownerOf(r);
      if (owner !== undefined) this.#escape(r, owner as Call);
    }
  }

  /** Waits for results this thread owns (`ownsAll(refs)`) until `n` exist, or the deadline. */
  async wait(refs: readonly ObjectRef[], n: number, req: WaitRequest): Promise<WaitResult> {
    const calls = refs.map((r) => ownerOf(r) as Call);
    const start = performance.now();
    if (this.#pumpQueued) this.pump(); // calls of this turn: the actor may start on them now
    this.#collect();
    if (!this.#enough(calls, n, req.timeoutMs) && this.#outstanding <= SPIN_CALLS) {
      this.#spin(calls, n);
    }
    if (!this.#enough(calls, n, req.timeoutMs)) await this.#sleepUntil(calls, n, req);
    // What is left of the deadline, for a wait at the node.
    const rest = req.timeoutMs === undefined
      ? req
      : { ...req, timeoutMs: Math.max(0, req.timeoutMs - (performance.now() - start)) };
    if (!req.fetch && calls.some((c) => c.kind === LINK_RESULT.atNode)) {
      // Results at the node (calls sent through it count as done once sent): it knows when.
      this.escape(refs);
      return await this.#host.nodeWait(refs.map((r) => r.id), n, rest);
    }
    return answerWait(refs, calls, rest, this.#host.nodeWait);
  }

  /** The node opened link `linkId`: ring the actor for what is already written. */
  linked(msg: Extract<ToWorker, { type: "actorLinked" }>): void {
    const link = this.#byId.get(msg.linkId);
    if (!link) return;
    link.actor = new Doorbell(msg.actorBell, msg.bellOffset);
    link.label = msg.label;
    link.maxTaskRetries = msg.maxTaskRetries;
    link.actor.ring();
    link.lease?.granted();
  }

  /**
   * The actor's worker is gone and link `linkId` with it. Results it wrote
   * are kept; calls it never took go to the next link as they are; calls it
   * took are retried within the budget or fail (all fail if it is dead).
   */
  unlinked(msg: Extract<ToWorker, { type: "actorUnlinked" }>): void {
    const link = this.#byId.get(msg.linkId);
    if (!link) return;
    this.#collectLink(link);
    this.#byId.delete(link.id);
    if (this.#links.get(link.actorId) === link) this.#links.delete(link.actorId);
    const untaken = new Set<number>(link.unsent.map((c) => c.slot));
    try {
      for (let b; (b = link.channel.takeWork());) for (const run of b.items) untaken.add(run[6]);
    } catch { /* garbage in our own ring: treat every call as taken */ }
    const lost = errorFrame(actorCallLost(msg.label, "its pending calls", msg.why));
    const atNode = link.atNode.map((id): [ObjectId, Uint8Array] => [id, lost]);
    if (atNode.length > 0) this.#host.post({ type: "sealIfMissing", objects: atNode });
    const calls = [...link.pending.entries()];
    if (link.lease) {
      this.#outstanding -= calls.length;
      link.lease.lost(calls.map(([slot, c]) => [c, !untaken.has(slot)]), msg);
      return this.#wake();
    }
    if (msg.remote) {
      this.#viaNode.add(link.actorId);
      this.#outstanding -= calls.length;
      for (const [, c] of calls) this.#sendViaNode(c);
      return this.#wake();
    }
    if (msg.death) {
      // A fast path only (the node refuses links to dead actors too), so it is kept small.
      this.#dead.set(link.actorId, msg.death);
    }
    const next = msg.death || calls.length === 0 ? undefined : this.#open(link.actorId);
    for (const [slot, c] of calls) {
      this.#outstanding--;
      if (msg.death) {
        this.#settle(c, LINK_RESULT.failed, fill(c, msg.death));
        continue;
      }
      const taken = !untaken.has(slot);
      if (taken) {
        const budget = msg.maxTaskRetries;
        if (budget !== -1 && c.attempt >= budget) {
          const err = errorFrame(actorCallLost(msg.label, c.method, msg.why));
          this.#settle(c, LINK_RESULT.failed, fill(c, err));
          continue;
        }
        c.attempt++;
      }
      this.#outstanding++;
      this.#queue(next!, c);
    }
    this.#wake();
  }

  /** Writes this turn's calls to their links. */
  pump(): void {
    this.#pumpQueued = false;
    for (const link of this.#byId.values()) if (link.unsent.length > 0) this.#write(link);
  }

  /** Gives the records of this thread's actor calls kept so far to their sink. */
  flushRecords(): void {
    this.#records?.flush();
  }

  /** Rejects what waits (the thread stops). */
  shutdown(): void {
    for (const w of [...this.#waiters]) w.done(runtimeShutDown());
  }

  #open(actorId: ActorId, request?: Parameters<CallLinks["openLease"]>[2]): Link {
    const link: Link = {
      id: this.#nextLink++,
      actorId,
      channel: CallLink.create(LINK_BYTES),
      label: actorId,
      maxTaskRetries: 0,
      seq: 0,
      nextSlot: 0,
      pending: new Map(),
      unsent: [],
      onResult: (slot, kind, returns, value) => this.#result(link, slot, kind, returns, value),
      atNode: [],
      lastEnd: 0,
    };
    this.#links.set(actorId, link);
    this.#byId.set(link.id, link);
    const { id: linkId, channel: { sab } } = link;
    this.#host.post(
      request?.(linkId, sab, this.#bell.sab) ??
        { type: "actorLink", actorId, linkId, link: sab, bell: this.#bell.sab },
    );
    return link;
  }

  #queue(link: Link, c: Call): void {
    const slot = c.slot = link.nextSlot++;
    c.link = link;
    link.pending.set(slot, c);
    link.unsent.push(c);
    if (link.unsent.length >= CALL_BATCH) return this.#write(link);
    if (this.#pumpQueued) return;
    this.#pumpQueued = true;
    queueMicrotask(() => this.pump());
  }

  /** Writes what of `link.unsent` fits, in order; the rest is tried again soon. */
  #write(link: Link): void {
    const runs = link.unsent;
    const written = this.#writeSome(link, runs, 0, runs.length);
    link.unsent = written === runs.length ? [] : runs.slice(written);
    if (written > 0) {
      link.actor?.ring();
      this.#records?.written(runs, written);
      this.#listen();
    }
    if (link.unsent.length > 0 && !this.#retryQueued) {
      this.#retryQueued = true;
      setTimeout(() => {
        this.#retryQueued = false;
        this.pump();
      }, 1);
    }
  }

  /** Writes runs[from..to) as one batch, or halves of it; returns how many were written. */
  #writeSome(link: Link, runs: Call[], from: number, to: number): number {
    const batch = from === 0 && to === runs.length ? runs : runs.slice(from, to);
    if (link.channel.sendCalls(link.seq, batch)) {
      link.seq++;
      return to - from;
    }
    if (to - from === 1) return 0;
    const mid = (from + to) >>> 1;
    const first = this.#writeSome(link, runs, from, mid);
    return first < mid - from ? first : first + this.#writeSome(link, runs, mid, to);
  }

  /** Reads every result that waits; true when any came. */
  #collect(): boolean {
    let any = false;
    for (const link of this.#byId.values()) any = this.#collectLink(link) || any;
    if (any) this.#wake();
    return any;
  }

  #collectLink(link: Link): boolean {
    let any = false;
    for (;;) {
      let batch;
      try {
        batch = link.channel.takeResultsInto(link.onResult);
      } catch (err) {
        // Not written by our code: fail what waits on this link.
        const death = errorFrame(linkGarbage(link.label, err));
        this.unlinked({
          type: "actorUnlinked",
          linkId: link.id,
          label: link.label,
          why: "",
          maxTaskRetries: 0,
          death,
        });
        this.#dead.delete(link.actorId);
        return true;
      }
      if (!batch) return any;
      any = true;
    }
  }

  /** One result read from `link`. */
  #result(link: Link, slot: number, kind: number, returns: Frame[], value: unknown): void {
    const c = link.pending.get(slot);
    if (!c) return;
    link.pending.delete(slot);
    this.#outstanding--;
    if (c.cancelled || kind === LINK_RESULT.unrun) {
      // Failed already (its returns are dropped), or to push again elsewhere.
      return link.lease?.ended(c, kind);
    }
    if (kind === LINK_RESULT.failedAtNode) [kind, returns, c.value] = failedAtNode(value);
    else if (c.released) returns = NO_FRAMES; // nothing holds it: dropped (at the node: unreferenced)
    if (kind === LINK_RESULT.atNode && !c.released) this.#arrivedAtNode(link, c);
    if (kind === LINK_RESULT.value && !c.released) c.value = value;
    this.#settle(c, kind, returns);
    link.lease?.ended(c, kind);
  }

  /** Sends `c` to an actor on another node through this thread's node, where its results come. */
  #sendViaNode(c: Call): void {
    const { taskId, actorId, method, args, deps, argRefs, numReturns } = c;
    const call = { taskId, actorId, method, args, deps, argRefs, numReturns };
    const parentTaskId = (c.parent || currentTask()?.taskId) as TaskId | undefined;
    this.#host.post({
      type: "actorCallViaNode",
      call: parentTaskId ? { ...call, parentTaskId } : call,
    });
    c.refs?.forEach(trackRef);
    c.recorded = 2; // it ends at another node, which this thread does not hear of
    this.#settle(c, LINK_RESULT.atNode, NO_FRAMES);
  }

  /** The actor sealed `c`'s returns at the node: the node counts this thread's refs from now on. */
  #arrivedAtNode(link: Link, c: Call): void {
    c.refs?.forEach((ref, i) => {
      if (c.promised?.has(i)) return;
      trackRef(ref);
      link.atNode.push(ref.id);
    });
    if (link.atNode.length > 1024) {
      link.atNode = link.atNode.filter((id) => refTracker.count(id) > 0);
    }
  }

  /** Owned ref `ref` leaves this thread: its result is promised to the node, and sealed there if here. */
  #escape(ref: ObjectRef, c: Call): void {
    const i = indexOf(c, ref.id);
    if (c.kind === LINK_RESULT.atNode || c.promised?.has(i)) return;
    (c.promised ??= new Set()).add(i);
    trackRef(ref);
    this.#promises.push(ref.id);
    if (c.kind !== PENDING) this.#sealAtNode(c, i);
    this.#toNodeSoon();
  }

  /** A handle of `c`'s results was released: once all are, the result is let go and waits fail. */
  #disposed(c: Call): void {
    if ((c.disposed = (c.disposed ?? 0) + 1) < c.numReturns || c.promised) return;
    c.released = true;
    c.returns = NO_FRAMES;
    c.value = undefined;
    this.#wake();
  }

  #settle(c: Call, kind: number, returns: readonly Frame[]): void {
    c.kind = kind;
    c.returns = returns;
    c.refs = undefined;
    this.#records?.ended(c, c.link);
    if (c.promised && kind !== LINK_RESULT.atNode) {
      for (const i of c.promised) this.#sealAtNode(c, i);
      this.#toNodeSoon();
    }
  }

  #sealAtNode(c: Call, i: number): void {
    const id = objectIdOf(c.taskId, i);
    const frame = c.kind === LINK_RESULT.value
      ? encodeFrame(c.value, "value", heapAllocator)
      : c.returns[i] as Uint8Array;
    this.#seals.push([id, frame, c.kind === LINK_RESULT.failed]);
  }

  /** Sends promises, then seals, at the end of this turn (before the frames that carry the refs). */
  #toNodeSoon(): void {
    if (this.#toNodeQueued) return;
    this.#toNodeQueued = true;
    queueMicrotask(() => {
      this.#toNodeQueued = false;
      if (this.#promises.length > 0) {
        this.#host.post({ type: "promise", ids: this.#promises });
        this.#promises = [];
      }
      if (this.#seals.length > 0) {
        this.#host.post({ type: "seal", objects: this.#seals });
        this.#seals = [];
      }
    });
  }

  #enough(calls: readonly Call[], n: number, timeoutMs: number | undefined): boolean {
    return timeoutMs === 0 || countDone(calls, n) >= n;
  }

  /** Spins on the links (blocking the thread) for up to SPIN_MAX us while few calls are out. */
  #spin(calls: readonly Call[], n: number): void {
    if (SPIN_MAX <= 0) return;
    const until = performance.now() + SPIN_MAX / 1000;
    do {
      if (this.#resultsReady() && this.#collect() && countDone(calls, n) >= n) return;
    } while (performance.now() < until);
  }

  /** Sleeps (without blocking the thread) until `n` calls are done, the deadline, or the abort. */
  #sleepUntil(calls: readonly Call[], n: number, req: WaitRequest): Promise<void> {
    const { promise, resolve, reject } = Promise.withResolvers<void>();
    const taskId = currentTask()?.taskId;
    let timer: LongTimer | undefined;
    let blocked = false;
    // An abort rejects with the signal's reason (an AbortError DOMException by default).
    const onAbort = () => finish(req.signal!.reason);
    const finish = (err?: unknown) => {
      if (!this.#waiters.delete(waiter)) return;
      timer?.clear();
      blockTimer?.clear();
      req.signal?.removeEventListener("abort", onAbort);
      if (blocked) this.#host.post({ type: "blocked", taskId: taskId!, on: false });
      if (err === undefined) resolve();
      else reject(err);
    };
    const waiter: Waiter = { calls, need: n, next: 0, done: finish };
    this.#waiters.add(waiter);
    // A task that waits long gives its CPU back meanwhile, as for waits at the
    // node (its calls may need that CPU); short waits never tell the node. One
    // waiting for leased tasks tells it at once: they need CPUs from the node.
    const block = () => {
      if (!this.#waiters.has(waiter)) return;
      blocked = true;
      this.#host.post({ type: "blocked", taskId: taskId!, on: true });
    };
    const leased = taskId !== undefined && calls.some((c) => c.spec !== undefined);
    if (leased) block();
    const blockTimer = taskId === undefined || leased
      ? undefined
      : longTimeout(block, BLOCKED_AFTER_MS);
    if (req.timeoutMs !== undefined) timer = longTimeout(() => finish(), req.timeoutMs);
    req.signal?.addEventListener("abort", onAbort, { once: true });
    this.#listen();
    return promise;
  }

  #resultsReady(): boolean {
    for (const link of this.#byId.values()) if (link.channel.resultsReady) return true;
    return false;
  }

  /** Wakes the waits whose calls are done. */
  #wake(): void {
    for (const w of this.#waiters) {
      if (w.need === w.calls.length) {
        while (w.next < w.calls.length && w.calls[w.next].kind !== PENDING) w.next++;
        if (w.next === w.calls.length) w.done();
      } else if (countDone(w.calls, w.need) >= w.need) {
        w.done();
      }
    }
  }

  /**
   * Reads results while calls are out, sleeping on the bell in between (the
   * results of promised calls must reach the node even when nothing here
   * waits for them).
   */
  #listen(): void {
    if (this.#sleeping) return;
    this.#collect();
    if (this.#outstanding === 0) return;
    const woken = this.#bell.sleep(() => this.#resultsReady());
    if (!woken) {
      queueMicrotask(() => this.#listen());
      return;
    }
    this.#sleeping = true;
    woken.then(() => {
      this.#sleeping = false;
      this.#listen();
    });
  }
}
