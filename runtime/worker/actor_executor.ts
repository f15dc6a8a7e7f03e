/**
 * Runs one actor in its dedicated worker: builds the instance, then runs
 * method calls, each caller's in the order it made them, at most
 * `maxConcurrency` at a time (async methods interleave up to that many).
 * Calls come through the callers' call links (runtime/links/actor_links.ts)
 * and their results go back the same way; synchronous methods of a batch
 * run in one turn and their results leave in one batch per link.
 *
 * Between calls the actor spins on its links for a few microseconds while
 * calls come that often, then sleeps on its doorbell, which callers ring
 * (./_idle.ts).
 *
 * @module
 */
import type { ActorId, JobId, ObjectId } from "../common/mod.ts";
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
import { NO_ARGS } from "../protocol/mod.ts";
import { Doorbell } from "../transport/mod.ts";
import { ActorLinks, type LinkState } from "../links/mod.ts";
import { Idler } from "./_idle.ts";

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
  /** Sends the worker backend's batched puts and submissions. */
  flushBackend(): void;
  /** Fetches objects from the node (ref arguments of calls from links). */
  fetch(ids: readonly ObjectId[]): Promise<WaitResult>;
  /** Seals an object at the node (batched with the backend's puts). */
  put(id: ObjectId, frame: Frame, contained: readonly ObjectId[]): void;
  /** The actor's doorbell (from "actorStart"). */
  bell: SharedArrayBuffer;
  /**
   * The worker hosts other actors too (ActorSettings.shareWorker): the actor
   * never spins for calls (that would hold the thread from the others) and
   * is named in each call's context, not as the thread's actor.
   */
  shared?: boolean;
}

/** The actor this worker runs. */
export class ActorExecutor {
  readonly #arena: SharedArena;
  readonly #link: ActorLink;
  #instance: Record<string, unknown> | undefined;
  #actorId: ActorId | undefined;
  #className = "Actor";
  /** The creating driver's job, when not the node's (ActorCreateSpec.jobId). */
  #jobId: JobId | undefined;
  #maxConcurrency = 1;
  #queue: RunActorCall[] = [];
  /** Per queued call, the link it came from. */
  #routes: LinkState[] = [];
  #head = 0;
  #running = 0;
  #flushQueued = false;
  readonly #links: ActorLinks;
  /** The node asked to hear when nothing waits or runs ("actorRetire"); not answered yet. */
  #retiring = false;
  readonly #idler: Idler;
  readonly #bell: Doorbell;
  /** Small return frames until they are sent (copied into their links). */
  readonly #scratch = new ScratchFrames();

  /**
   * @param arena the node's store
   * @param link how to reach the node
   */
  constructor(arena: SharedArena, link: ActorLink) {
    this.#arena = arena;
    this.#link = link;
    this.#links = new ActorLinks({
      arena,
      fetch: link.fetch,
      put: link.put,
      enqueue: (run, from) => this.#enqueue(run, from),
      wake: () => this.#listen(),
      broken: (linkId, why) =>
        link.post({ type: "actorLinkBroken", actorId: this.#actorId!, linkId, why }),
    });
    const bell = this.#bell = new Doorbell(link.bell);
    const waiting = () => this.#links.waiting();
    this.#idler = new Idler({
      spinForWork: (micros) => link.shared ? waiting() : bell.spinForWork(micros, waiting),
      sleep: () => this.#instance ? bell.sleep(waiting) : new Promise(() => {}),
    }, () => this.#runQueued());
  }

  /**
   * The actor is over (a worker it shares goes on): drops its links and
   * its instance; calls still running finish, their results go nowhere.
   */
  stop(): void {
    this.#instance = undefined;
    this.#queue = [];
    this.#routes = [];
    this.#head = 0;
    this.#links.dropAll();
    this.#bell.ring(); // its idler wakes, finds no instance, and stops listening
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
  retire(): void {
    this.#retiring = true;
    this.#listen();
  }

  #enqueue(run: RunActorCall, from: LinkState): void {
    this.#queue.push(run);
    this.#routes.push(from);
  }

  /** Builds the instance; replies "actorCreated" (with an error frame if the constructor threw). */
  async start(spec: ActorCreateSpec, depFrames: readonly Frame[]): Promise<void> {
    if (!this.#link.shared) setCurrentActor(spec.actorId);
    this.#actorId = spec.actorId;
    this.#className = spec.cls.name;
    this.#jobId = spec.jobId;
    this.#maxConcurrency = spec.settings.maxConcurrency;
    let error: Frame | undefined;
    try {
      const Class = await resolveFunction(spec.cls) as new (...args: unknown[]) => object;
      const args = decodeArgs(spec.args, spec.deps, depFrames, this.#arena);
      this.#instance = runTask(
        {
          taskId: spec.actorId as string as never,
          signal: NEVER,
          jobId: spec.jobId,
          actorId: spec.actorId,
        },
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

  /** Runs what waits in the links and reports the results; then the Idler spins for more or sleeps. */
  #listen(): void {
    if (this.#instance) this.#idler.listen();
  }

  /** Runs what may run; how many calls came, -1 while calls still run or wait for a slot. */
  #runQueued(): number {
    const came = this.#instance ? this.#links.collect() : 0;
    this.#startCalls();
    this.#flushResults();
    const busy = this.#running > 0 || this.#head < this.#queue.length;
    if (this.#retiring && !busy && this.#links.idle()) {
      this.#retiring = false;
      this.#link.post({ type: "actorIdle", actorId: this.#actorId! });
    }
    return busy ? -1 : came;
  }

  #startCalls(): void {
    if (!this.#instance) return;
    while (this.#running < this.#maxConcurrency && this.#head < this.#queue.length) {
      const run = this.#queue[this.#head];
      const route = this.#routes[this.#head++];
      const result = this.#invoke(run);
      if (result instanceof Promise) {
        this.#running++;
        result.then((r) => {
          this.#running--;
          this.#report(r, run, route);
          this.#startCalls();
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

  #invoke(run: RunActorCall): ActorResult | Promise<ActorResult> {
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
        this.#links.decoded(run);
      }
      const context = {
        taskId,
        signal: NEVER,
        name: `${this.#className}.${name}`,
        jobId: this.#jobId,
        actorId: this.#actorId,
      };
      value = runTask(context, () => method.apply(this.#instance, args), method);
    } catch (err) {
      return this.#failed(run, err);
    }
    if (value instanceof Promise) {
      // Not from the scratch: this result is reported some microtasks later.
      return value.then((v) => this.#succeeded(run, v, false), (err) => this.#failed(run, err));
    }
    return this.#succeeded(run, value, true);
  }

  /** The result of a call that returned `value`; small frames from the scratch when `scratch`. */
  #succeeded(run: RunActorCall, value: unknown, scratch: boolean): ActorResult {
    const n = run[3];
    // A primitive goes back as it is, without a frame.
    if (n === 1 && isLinkValue(value)) return [run[6], VALUE_RETURNS, false, undefined, value];
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
  #report(result: ActorResult, run: RunActorCall, route: LinkState): void {
    this.#links.report(route, run, result);
    if (this.#flushQueued) return;
    this.#flushQueued = true;
    queueMicrotask(() => {
      if (!this.#flushQueued) return;
      this.#flushResults();
      if (this.#running === 0) this.#listen();
    });
  }

  /** Sends the results so far to their links, after the backend's batched messages (puts). */
  #flushResults(): void {
    this.#flushQueued = false;
    this.#link.flushBackend();
    this.#links.pump();
    this.#scratch.reset();
  }
}
