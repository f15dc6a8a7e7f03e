/**
 * Runs one actor in its dedicated worker: builds the instance, then runs
 * method calls in the order they were sent, at most `maxConcurrency` at a
 * time (async methods interleave up to that many). Calls come through the
 * actor's shared-memory channel (runtime/transport), or by message when a
 * batch did not fit it; synchronous methods of a batch run in one turn and
 * their results go back through the channel in one batch.
 *
 * Calls from workers come through their call links (./_actor_links.ts) and
 * their results go back the same way; the links ring the channel's doorbell.
 *
 * Between calls the actor spins on the channel for a few microseconds while
 * calls come that often, then sleeps on the channel's doorbell (./_idle.ts).
 *
 * @module
 */
import type { ObjectId } from "../common/mod.ts";
import type { WaitResult } from "../core/mod.ts";
import { RayTaskError } from "../common/mod.ts";
import {
  errorFrame,
  fromFrame,
  ObjectRef,
  resolveFunction,
  runTask,
  setCurrentActor,
  toFrame,
  UNDEFINED_FRAME,
} from "../core/mod.ts";
import type { SharedArena } from "../object_store/mod.ts";
import type {
  ActorCreateSpec,
  ActorResult,
  Frame,
  FromWorker,
  RunActorCall,
} from "../protocol/mod.ts";
import { isLinkValue, VALUE_RETURNS } from "../protocol/mod.ts";
import { ScratchFrames } from "../serialization/mod.ts";
import { ActorChannel, NO_ARGS } from "../transport/mod.ts";
import { ActorLinks, type LinkState } from "./_actor_links.ts";
import { Idler } from "./_idle.ts";
import { InOrder } from "./_in_order.ts";

/** Actor calls cannot be cancelled: their context's signal never aborts. */
const NEVER = new AbortController().signal;

/** The decoded argument array of a call or creation (top-level refs replaced by values). */
function decodeArgs(
  args: Frame | ObjectId,
  deps: readonly ObjectId[],
  depFrames: readonly Frame[],
  arena: SharedArena,
): unknown[] {
  if (args === NO_ARGS) return [];
  const argsId = typeof args === "string" ? args : undefined;
  const frame = argsId !== undefined ? depFrames[deps.indexOf(argsId)] : args as Frame;
  const values = fromFrame(frame, arena, argsId) as unknown[];
  if (deps.length === 0) return values;
  const byId = new Map<string, unknown>();
  deps.forEach((id, i) => {
    if (id !== argsId && !byId.has(id)) byId.set(id, fromFrame(depFrames[i], arena, id));
  });
  return values.map((a) => a instanceof ObjectRef && byId.has(a.id) ? byId.get(a.id) : a);
}

/** How an actor's worker talks to the node. */
export interface ActorLink {
  /** Sends a message to the node. */
  post(msg: FromWorker): void;
  /** Messages this worker has posted so far. */
  posted(): number;
  /** Sends the worker backend's batched puts and submissions. */
  flushBackend(): void;
  /** Fetches objects from the node (ref arguments of calls from links). */
  fetch(ids: readonly ObjectId[]): Promise<WaitResult>;
  /** Seals an object at the node (batched with the backend's puts). */
  put(id: ObjectId, frame: Frame, contained: readonly ObjectId[]): void;
  /** The actor's channel (from "actorStart"). */
  channel: SharedArrayBuffer;
}

/** The actor this worker runs. */
export class ActorExecutor {
  readonly #arena: SharedArena;
  readonly #link: ActorLink;
  readonly #channel: ActorChannel;
  #instance: Record<string, unknown> | undefined;
  #className = "Actor";
  #maxConcurrency = 1;
  #queue: RunActorCall[] = [];
  /** Per queued call, the link it came from (undefined: from the node). */
  #routes: (LinkState | undefined)[] = [];
  #head = 0;
  #running = 0;
  #results: ActorResult[] = [];
  #flushQueued = false;
  /** Batches of calls in number order; each is queued when its turn comes. */
  readonly #batches = new InOrder<readonly RunActorCall[]>((calls) => {
    for (const c of calls) this.#enqueue(c, undefined);
  });
  readonly #links: ActorLinks;
  /** The node asked to hear when nothing waits or runs ("actorDrain"); not answered yet. */
  #draining = false;
  readonly #idler: Idler;
  /** Small return frames until they are sent (copied into the channel or a message). */
  readonly #scratch = new ScratchFrames();

  /**
   * @param arena the node's store
   * @param link how to reach the node
   */
  constructor(arena: SharedArena, link: ActorLink) {
    this.#arena = arena;
    this.#link = link;
    this.#channel = new ActorChannel(link.channel);
    this.#links = new ActorLinks({
      arena,
      fetch: link.fetch,
      put: link.put,
      enqueue: (run, from) => this.#enqueue(run, from),
      wake: () => this.#listen(),
    });
    this.#idler = new Idler(this.#channel, () => this.#drain(), () => this.#links.waiting());
  }

  /** A caller's link (from the node). */
  addLink(key: string, link: SharedArrayBuffer, bell: SharedArrayBuffer): void {
    this.#links.add(key, link, bell);
    this.#listen();
  }

  /** That caller is gone. */
  dropLink(key: string): void {
    this.#links.drop(key);
  }

  /** No handle remains: says "actorIdle" once nothing waits in the links or runs. */
  drain(): void {
    this.#draining = true;
    this.#listen();
  }

  #enqueue(run: RunActorCall, from: LinkState | undefined): void {
    this.#queue.push(run);
    this.#routes.push(from);
  }

  /** Builds the instance; replies "actorCreated" (with an error frame if the constructor threw). */
  async start(spec: ActorCreateSpec, depFrames: readonly Frame[]): Promise<void> {
    setCurrentActor(spec.actorId);
    this.#className = spec.cls.name;
    this.#maxConcurrency = spec.settings.maxConcurrency;
    let error: Frame | undefined;
    try {
      const Class = await resolveFunction(spec.cls) as new (...args: unknown[]) => object;
      const args = decodeArgs(spec.args, spec.deps, depFrames, this.#arena);
      this.#instance = runTask(
        { taskId: spec.actorId as string as never, signal: NEVER },
        () => new Class(...args),
        Class,
      ) as Record<string, unknown>;
    } catch (err) {
      error = errorFrame(err);
    }
    this.#link.flushBackend();
    this.#link.post({ type: "actorCreated", actorId: spec.actorId, error });
    this.#listen();
  }

  /** Takes batch `seq` sent by message (it did not fit the channel) and runs what may run. */
  run(seq: number, calls: readonly RunActorCall[]): void {
    this.#batches.accept(seq, calls);
    this.#listen();
  }

  /**
   * Runs what waits in the channel and what came by message, and reports
   * the results; then the Idler spins for more or sleeps.
   */
  #listen(): void {
    if (this.#instance) this.#idler.listen();
  }

  /** Runs what may run; how many calls came, -1 while calls still run or wait for a slot. */
  #drain(): number {
    let came = 0;
    for (let batch; (batch = this.#channel.takeWork());) {
      came += batch.items.length;
      this.#batches.accept(batch.seq, batch.items);
    }
    if (this.#instance) came += this.#links.take();
    this.#pump();
    this.#flushResults();
    const busy = this.#running > 0 || this.#head < this.#queue.length;
    if (this.#draining && !busy && this.#links.idle()) {
      this.#draining = false;
      this.#link.post({ type: "actorIdle" });
    }
    return busy ? -1 : came;
  }

  #pump(): void {
    if (!this.#instance) return;
    while (this.#running < this.#maxConcurrency && this.#head < this.#queue.length) {
      const run = this.#queue[this.#head];
      const route = this.#routes[this.#head++];
      const result = this.#invoke(run, route);
      if (result instanceof Promise) {
        this.#running++;
        result.then((r) => {
          this.#running--;
          this.#report(r, run, route);
          this.#pump();
        });
      } else {
        this.#report(result, run, route);
      }
    }
    if (this.#head === this.#queue.length) {
      this.#queue = [];
      this.#routes = [];
      this.#head = 0;
    }
  }

  #invoke(run: RunActorCall, route: LinkState | undefined): ActorResult | Promise<ActorResult> {
    const [taskId, name, argsFrame, , deps, depFrames] = run;
    let value: unknown;
    try {
      const method = this.#instance![name];
      if (typeof method !== "function") {
        throw new TypeError(`${this.#className}.${name} is not a method`);
      }
      let args;
      try {
        args = decodeArgs(argsFrame, deps, depFrames, this.#arena);
      } finally {
        if (route) this.#links.decoded(run);
      }
      const context = { taskId, signal: NEVER, name: `${this.#className}.${name}` };
      value = runTask(context, () => method.apply(this.#instance, args), method);
    } catch (err) {
      return this.#failed(run, err);
    }
    if (value instanceof Promise) {
      // Not from the scratch: this result is reported some microtasks later.
      return value.then(
        (v) => this.#succeeded(run, v, false, route),
        (err) => this.#failed(run, err),
      );
    }
    return this.#succeeded(run, value, true, route);
  }

  /** The result of a call that returned `value`; small frames from the scratch when `scratch`. */
  #succeeded(
    run: RunActorCall,
    value: unknown,
    scratch: boolean,
    route: LinkState | undefined,
  ): ActorResult {
    const n = run[3];
    // A primitive goes back to a linked caller as it is, without a frame.
    if (n === 1 && route && isLinkValue(value)) {
      return [run[6], VALUE_RETURNS, false, undefined, value];
    }
    if (n === 1 && value === undefined) return [run[6], [UNDEFINED_FRAME], false];
    const values = n === 1 ? [value] : value;
    const returns: Frame[] = [];
    const contained: ObjectId[][] = [];
    try {
      if (!Array.isArray(values) || values.length !== n) {
        const got = Array.isArray(values) ? `${values.length} values` : "a non-array value";
        throw new TypeError(`Method returned ${got} but numReturns is ${n}`);
      }
      for (let i = 0; i < n; i++) {
        const refs: ObjectId[] = [];
        const path = n === 1 ? "return value" : `return value[${i}]`;
        const small = scratch ? this.#scratch.alloc : undefined;
        returns.push(toFrame(values[i], path, this.#arena, 0, refs, small));
        contained.push(refs);
      }
    } catch (err) {
      for (const f of returns) if (!(f instanceof Uint8Array)) this.#arena.free(f);
      return this.#failed(run, err);
    }
    return contained.some((c) => c.length > 0)
      ? [run[6], returns, false, contained]
      : [run[6], returns, false];
  }

  #failed(run: RunActorCall, err: unknown): ActorResult {
    const frame = errorFrame(new RayTaskError(`${this.#className}.${run[1]}`, err));
    return [run[6], new Array<Frame>(run[3]).fill(frame), true];
  }

  /** Keeps a result for the next flush (at the end of this turn at the latest). */
  #report(result: ActorResult, run: RunActorCall, route: LinkState | undefined): void {
    if (route) this.#links.report(route, run, result);
    else this.#results.push(result);
    if (this.#flushQueued) return;
    this.#flushQueued = true;
    queueMicrotask(() => {
      if (!this.#flushQueued) return;
      this.#flushResults();
      if (this.#running === 0) this.#listen();
    });
  }

  /**
   * Sends the results so far: after the backend's batched messages, through
   * the channel stamped with the count of messages posted before them (or by
   * message when they do not fit), with one nudge if the node is not spinning.
   */
  #flushResults(): void {
    this.#flushQueued = false;
    this.#link.flushBackend();
    this.#links.flush();
    if (this.#results.length > 0) {
      const results = this.#results;
      this.#results = [];
      if (!this.#channel.sendResults(this.#link.posted(), results)) {
        this.#link.post({ type: "actorDone", results });
      } else if (this.#channel.shouldNudge()) {
        this.#link.post({ type: "actorRing" });
      }
    }
    this.#scratch.reset();
  }
}
