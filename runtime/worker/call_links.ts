/**
 * A worker's method calls to actors, through call links
 * (transport/call_link.ts): calls go from this thread straight to the
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
import type { ObjectId, TaskId } from "../common/mod.ts";
import {
  actorCallLost,
  config,
  getAborted,
  objectIdOf,
  RayActorError,
  runtimeShutDown,
} from "../common/mod.ts";
import type { WaitRequest, WaitResult } from "../core/mod.ts";
import { errorFrame, REF_OP, refTracker, taskContext, UNDEFINED_FRAME } from "../core/mod.ts";
import type {
  ActorCall,
  ActorId,
  Frame,
  FromWorker,
  RefOp,
  RunActorCall,
  ToWorker,
} from "../protocol/mod.ts";
import { LINK_RESULT } from "../protocol/mod.ts";
import { ActorChannel, CallerBell, CallLink } from "../transport/mod.ts";

const LINK_BYTES = config("channelBytes");
const CALL_BATCH = config("actorCallBatch");
const SPIN_MAX = config("getSpinMicros");
/** A caller with at most this many calls out spins for their results before sleeping. */
const SPIN_CALLS = 2;
/** `Call.kind` while no result came. */
const PENDING = -1;
const NO_FRAMES: Frame[] = [];

/** One call made through a link, and its result once it came. */
interface Call {
  readonly taskId: TaskId;
  readonly method: string;
  readonly args: Frame | ObjectId;
  readonly deps: readonly ObjectId[];
  readonly numReturns: number;
  readonly actorId: ActorId;
  attempt: number;
  /** PENDING, or how it ended (LINK_RESULT). */
  kind: number;
  returns: readonly Frame[];
  /** Returns that left this thread: sealed at the node when they come. */
  promised?: Set<ObjectId>;
  /** The link it was last written to. */
  link?: Link;
}

/** This thread's link to one actor (a new one after each restart of the actor's worker). */
interface Link {
  readonly id: number;
  readonly actorId: ActorId;
  readonly channel: CallLink;
  /** The actor's channel, to ring its doorbell (once the node opened the link). */
  actor?: ActorChannel;
  label: string;
  maxTaskRetries: number;
  seq: number;
  nextSlot: number;
  /** Calls written or to write, by slot, in order. */
  readonly pending: Map<number, Call>;
  /** Calls of this turn not written yet, then calls that did not fit (in order). */
  unsent: RunActorCall[];
  /** Returns the actor sealed at the node, while this thread holds them. */
  readonly atNode: Set<ObjectId>;
}

interface Waiter {
  readonly ids: readonly ObjectId[];
  readonly calls: readonly Call[];
  readonly need: number;
  /** Index of the first call not known to be done (for gets). */
  next: number;
  done(err?: unknown): void;
}

/** How this module reaches the rest of the worker. */
export interface CallLinksHost {
  /** Sends a message to the node. */
  post(msg: FromWorker): void;
  /** A hold or release for the node, in order with the thread's other ref ops. */
  nodeRefOp(kind: RefOp[0], id: ObjectId): void;
  /** Waits at the node (for ids the actor sealed there). */
  nodeWait(ids: readonly ObjectId[], n: number, req: WaitRequest): Promise<WaitResult>;
}

/** A worker's links to actors and the results it owns. */
export class CallLinks {
  readonly #host: CallLinksHost;
  readonly #bell = new CallerBell();
  readonly #links = new Map<ActorId, Link>();
  readonly #byId = new Map<number, Link>();
  /** Results this thread owns and holds refs to, by object id. */
  readonly #owned = new Map<ObjectId, Call>();
  /** Error frames of actors that are dead for good. */
  readonly #dead = new Map<ActorId, Uint8Array>();
  readonly #waiters = new Set<Waiter>();
  #nextLink = 1;
  #outstanding = 0;
  #flushQueued = false;
  #retryQueued = false;
  #sleeping = false;
  #seals: [ObjectId, Uint8Array, boolean][] = [];

  /** @param host how to reach the node */
  constructor(host: CallLinksHost) {
    this.#host = host;
  }

  /** Makes a call (never waits): written to the actor's link at the end of this turn. */
  call(call: ActorCall): void {
    const c: Call = {
      taskId: call.taskId,
      method: call.method,
      args: call.args,
      deps: call.deps,
      numReturns: call.numReturns,
      actorId: call.actorId,
      attempt: 0,
      kind: PENDING,
      returns: NO_FRAMES,
    };
    for (let i = 0; i < c.numReturns; i++) this.#owned.set(objectIdOf(c.taskId, i), c);
    if (call.argRefs.length > 0) {
      // The actor fetches these from the node: they leave this thread, and
      // stay held (by the call record) until the call is gone.
      this.escape(call.argRefs);
      for (const id of call.argRefs) refTracker.track(c, id);
    }
    const death = this.#dead.get(call.actorId);
    if (death) return this.#settle(c, LINK_RESULT.failed, fill(c, death));
    const link = this.#links.get(call.actorId) ?? this.#open(call.actorId);
    this.#outstanding++;
    this.#queue(link, c);
  }

  /** True when `id` is a result this thread owns (not one an actor sealed at the node). */
  owns(id: ObjectId): boolean {
    const c = this.#owned.get(id);
    return c !== undefined && c.kind !== LINK_RESULT.atNode;
  }

  /** True when this thread owns any result. */
  get owning(): boolean {
    return this.#owned.size > 0;
  }

  /**
   * A hold or release of one of this thread's refs. Returns false when the
   * node keeps count of `id` (pass the op on), true when it was handled here.
   */
  refOp(kind: RefOp[0], id: ObjectId): boolean {
    const c = this.#owned.get(id);
    if (!c) return false;
    const atNode = c.kind === LINK_RESULT.atNode || c.promised?.has(id) === true;
    if (kind === REF_OP.release) {
      this.#owned.delete(id);
      if (c.kind === LINK_RESULT.atNode) c.link?.atNode.delete(id);
    }
    return !atNode;
  }

  /**
   * These ids leave this thread (in a message to the node): each result it
   * owns is promised to the node and sealed there when it comes (at once
   * if it is here already).
   */
  escape(ids: readonly ObjectId[]): void {
    if (this.#owned.size === 0) return;
    let promised: ObjectId[] | undefined;
    for (const id of ids) {
      const c = this.#owned.get(id);
      if (!c || c.kind === LINK_RESULT.atNode || c.promised?.has(id)) continue;
      (c.promised ??= new Set()).add(id);
      (promised ??= []).push(id);
    }
    if (!promised) return;
    this.#host.post({ type: "promise", ids: promised });
    for (const id of promised) {
      this.#host.nodeRefOp(REF_OP.hold, id);
      const c = this.#owned.get(id)!;
      if (c.kind !== PENDING) this.#sealAtNode(c, id);
    }
    this.#flushSeals();
  }

  /**
   * Waits here for results this thread owns (every id must be `owns`):
   * resolves once `n` exist, or at the deadline.
   */
  async wait(ids: readonly ObjectId[], n: number, req: WaitRequest): Promise<WaitResult> {
    const calls = ids.map((id) => this.#owned.get(id)!);
    this.#drain();
    if (!this.#enough(calls, n, req.timeoutMs) && this.#outstanding <= SPIN_CALLS) {
      this.#spin(calls, n);
    }
    if (!this.#enough(calls, n, req.timeoutMs)) await this.#sleepUntil(ids, calls, n, req);
    return this.#answer(ids, calls, req);
  }

  /** The node opened link `linkId`: ring the actor for what is already written. */
  linked(msg: Extract<ToWorker, { type: "actorLinked" }>): void {
    const link = this.#byId.get(msg.linkId);
    if (!link) return;
    link.actor = new ActorChannel(msg.actorChannel);
    link.label = msg.label;
    link.maxTaskRetries = msg.maxTaskRetries;
    link.actor.ring();
  }

  /**
   * The actor's worker is gone and link `linkId` with it. Results it wrote
   * are kept; calls it never took go to the next link as they are; calls it
   * took are retried within the budget or fail (all fail if it is dead).
   */
  unlinked(msg: Extract<ToWorker, { type: "actorUnlinked" }>): void {
    const link = this.#byId.get(msg.linkId);
    if (!link) return;
    this.#drainLink(link);
    this.#byId.delete(link.id);
    if (this.#links.get(link.actorId) === link) this.#links.delete(link.actorId);
    const untaken = new Set<number>(link.unsent.map((run) => run[6]));
    try {
      for (let b; (b = link.channel.takeWork());) for (const run of b.items) untaken.add(run[6]);
    } catch { /* garbage in our own ring: treat every call as taken */ }
    const lost = errorFrame(actorCallLost(msg.label, "its pending calls", msg.why));
    const atNode = [...link.atNode].map((id): [ObjectId, Uint8Array] => [id, lost]);
    if (atNode.length > 0) this.#host.post({ type: "sealIfMissing", objects: atNode });
    const calls = [...link.pending.entries()];
    if (msg.death) this.#dead.set(link.actorId, msg.death);
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
  flush(): void {
    this.#flushQueued = false;
    for (const link of this.#byId.values()) if (link.unsent.length > 0) this.#write(link);
  }

  /** Rejects what waits (the worker stops). */
  shutdown(): void {
    for (const w of [...this.#waiters]) w.done(runtimeShutDown());
  }

  #open(actorId: ActorId): Link {
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
      atNode: new Set(),
    };
    this.#links.set(actorId, link);
    this.#byId.set(link.id, link);
    this.#host.post({
      type: "actorLink",
      actorId,
      linkId: link.id,
      link: link.channel.sab,
      bell: this.#bell.sab,
    });
    return link;
  }

  #queue(link: Link, c: Call): void {
    const slot = link.nextSlot++;
    c.link = link;
    link.pending.set(slot, c);
    link.unsent.push([c.taskId, c.method, c.args, c.numReturns, c.deps, NO_FRAMES, slot]);
    if (link.unsent.length >= CALL_BATCH) return this.#write(link);
    if (this.#flushQueued) return;
    this.#flushQueued = true;
    queueMicrotask(() => this.flush());
  }

  /** Writes what of `link.unsent` fits, in order; the rest is tried again soon. */
  #write(link: Link): void {
    const runs = link.unsent;
    const written = this.#writeSome(link, runs, 0, runs.length);
    link.unsent = written === runs.length ? [] : runs.slice(written);
    if (written > 0) {
      link.actor?.ring();
      this.#listen();
    }
    if (link.unsent.length > 0 && !this.#retryQueued) {
      this.#retryQueued = true;
      setTimeout(() => {
        this.#retryQueued = false;
        this.flush();
      }, 1);
    }
  }

  /** Writes runs[from..to) as one batch, or halves of it; returns how many were written. */
  #writeSome(link: Link, runs: RunActorCall[], from: number, to: number): number {
    const batch = from === 0 && to === runs.length ? runs : runs.slice(from, to);
    if (link.channel.sendWork(link.seq, batch)) {
      link.seq++;
      return to - from;
    }
    if (to - from === 1) return 0;
    const mid = (from + to) >>> 1;
    const first = this.#writeSome(link, runs, from, mid);
    return first < mid - from ? first : first + this.#writeSome(link, runs, mid, to);
  }

  /** Reads every result that waits; true when any came. */
  #drain(): boolean {
    let any = false;
    for (const link of this.#byId.values()) any = this.#drainLink(link) || any;
    if (any) this.#wake();
    return any;
  }

  #drainLink(link: Link): boolean {
    let any = false;
    for (;;) {
      let batch;
      try {
        batch = link.channel.takeResults();
      } catch (err) {
        // Not written by our code: fail what waits on this link.
        const death = errorFrame(
          new RayActorError(
            `Actor ${link.label}: its link held garbage (${(err as Error).message})`,
          ),
        );
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
      for (const [slot, kind, returns] of batch.results) {
        const c = link.pending.get(slot);
        if (!c) continue;
        link.pending.delete(slot);
        this.#outstanding--;
        if (kind === LINK_RESULT.atNode) this.#arrivedAtNode(link, c);
        this.#settle(c, kind, returns);
      }
    }
  }

  /** The actor sealed `c`'s returns at the node: the node counts this thread's holds from now on. */
  #arrivedAtNode(link: Link, c: Call): void {
    for (let i = 0; i < c.numReturns; i++) {
      const id = objectIdOf(c.taskId, i);
      if (c.promised?.has(id)) continue;
      this.#host.nodeRefOp(REF_OP.hold, id);
      if (this.#owned.get(id) === c) link.atNode.add(id);
      // Nothing here holds it any more: the node frees it once sealed.
      else this.#host.nodeRefOp(REF_OP.release, id);
    }
  }

  #settle(c: Call, kind: number, returns: readonly Frame[]): void {
    c.kind = kind;
    c.returns = kind === LINK_RESULT.undefined ? [UNDEFINED_FRAME] : returns;
    if (c.promised && kind !== LINK_RESULT.atNode) {
      for (const id of c.promised) this.#sealAtNode(c, id);
      this.#flushSeals();
    }
  }

  #sealAtNode(c: Call, id: ObjectId): void {
    const frame = c.returns[indexOf(c, id)];
    this.#seals.push([id, frame as Uint8Array, c.kind === LINK_RESULT.failed]);
  }

  #flushSeals(): void {
    if (this.#seals.length === 0) return;
    this.#host.post({ type: "seal", objects: this.#seals });
    this.#seals = [];
  }

  #enough(calls: readonly Call[], n: number, timeoutMs: number | undefined): boolean {
    return timeoutMs === 0 || countDone(calls, n) >= n;
  }

  /** Spins on the links (blocking the thread) for up to SPIN_MAX us while few calls are out. */
  #spin(calls: readonly Call[], n: number): void {
    if (SPIN_MAX <= 0) return;
    const until = performance.now() + SPIN_MAX / 1000;
    do {
      if (this.#resultsReady() && this.#drain() && countDone(calls, n) >= n) return;
    } while (performance.now() < until);
  }

  /** Sleeps (without blocking the thread) until `n` calls are done, the deadline, or the abort. */
  #sleepUntil(
    ids: readonly ObjectId[],
    calls: readonly Call[],
    n: number,
    req: WaitRequest,
  ): Promise<void> {
    const { promise, resolve, reject } = Promise.withResolvers<void>();
    const taskId = taskContext.getStore()?.taskId;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const onAbort = () => finish(getAborted(req.signal?.reason));
    const finish = (err?: unknown) => {
      if (!this.#waiters.delete(waiter)) return;
      if (timer !== undefined) clearTimeout(timer);
      req.signal?.removeEventListener("abort", onAbort);
      if (taskId !== undefined) this.#host.post({ type: "blocked", taskId, on: false });
      if (err === undefined) resolve();
      else reject(err);
    };
    const waiter: Waiter = { ids, calls, need: n, next: 0, done: finish };
    this.#waiters.add(waiter);
    if (taskId !== undefined) this.#host.post({ type: "blocked", taskId, on: true });
    if (req.timeoutMs !== undefined) timer = setTimeout(() => finish(), req.timeoutMs);
    req.signal?.addEventListener("abort", onAbort, { once: true });
    this.#listen();
    return promise;
  }

  /** What a wait answers: per id, done or not, and the frames (from the node for results sealed there). */
  async #answer(
    ids: readonly ObjectId[],
    calls: readonly Call[],
    req: WaitRequest,
  ): Promise<WaitResult> {
    const ready = calls.map((c) => c.kind !== PENDING);
    if (!req.fetch) return { ready };
    const frames: (Frame | undefined)[] = calls.map((c, i) =>
      ready[i] && c.kind !== LINK_RESULT.atNode ? c.returns[indexOf(c, ids[i])] : undefined
    );
    const there = ids.filter((_, i) => ready[i] && calls[i].kind === LINK_RESULT.atNode);
    if (there.length === 0) return { ready, frames };
    const fetched = await this.#host.nodeWait(there, there.length, { fetch: true });
    let k = 0;
    calls.forEach((c, i) => {
      if (ready[i] && c.kind === LINK_RESULT.atNode) frames[i] = fetched.frames![k++];
    });
    return { ready, frames, pinned: fetched.pinned };
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
    this.#drain();
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

/** Which return of its call `id` is. */
function indexOf(c: Call, id: ObjectId): number {
  return c.numReturns === 1 ? 0 : parseInt(id.slice(id.length - 4), 16);
}

/** The same frame for every return of `c`. */
function fill(c: Call, frame: Uint8Array): Frame[] {
  return new Array<Frame>(c.numReturns).fill(frame);
}

function countDone(calls: readonly Call[], atLeast: number): number {
  let n = 0;
  for (const c of calls) if (c.kind !== PENDING && ++n >= atLeast) break;
  return n;
}
