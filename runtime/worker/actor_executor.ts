/**
 * Runs one actor in its dedicated worker: builds the instance, then runs
 * method calls in the order they arrive, at most `maxConcurrency` at a time
 * (async methods interleave up to that many). Synchronous methods of a batch
 * run in one turn and report in one "actorDone" message.
 *
 * @module
 */
import type { ObjectId } from "../common/mod.ts";
import { RayTaskError } from "../common/mod.ts";
import {
  errorFrame,
  fromFrame,
  ObjectRef,
  resolveFunction,
  setCurrentActor,
  taskContext,
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

/** Actor calls cannot be cancelled: their context's signal never aborts. */
const NEVER = new AbortController().signal;

/** The decoded argument array of a call or creation (top-level refs replaced by values). */
export function decodeArgs(
  args: Frame | ObjectId,
  deps: readonly ObjectId[],
  depFrames: readonly Frame[],
  arena: SharedArena,
): unknown[] {
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

/** The actor this worker runs. */
export class ActorExecutor {
  readonly #arena: SharedArena;
  readonly #post: (msg: FromWorker) => void;
  readonly #flushBackend: () => void;
  #instance: Record<string, unknown> | undefined;
  #className = "Actor";
  #maxConcurrency = 1;
  #queue: RunActorCall[] = [];
  #head = 0;
  #running = 0;
  #results: ActorResult[] = [];
  #flushQueued = false;

  /**
   * @param arena the node's store
   * @param post sends a message to the node
   * @param flushBackend sends the worker backend's batched puts and submissions
   */
  constructor(arena: SharedArena, post: (msg: FromWorker) => void, flushBackend: () => void) {
    this.#arena = arena;
    this.#post = post;
    this.#flushBackend = flushBackend;
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
      this.#instance = taskContext.run(
        { taskId: spec.actorId as string as never, signal: NEVER },
        () => new Class(...args),
      ) as Record<string, unknown>;
    } catch (err) {
      error = errorFrame(err);
    }
    this.#flushBackend();
    this.#post({ type: "actorCreated", actorId: spec.actorId, error });
    this.#pump();
  }

  /** Queues calls (in arrival order) and runs what may run. */
  run(calls: readonly RunActorCall[]): void {
    for (const c of calls) this.#queue.push(c);
    this.#pump();
  }

  #pump(): void {
    if (!this.#instance) return;
    while (this.#running < this.#maxConcurrency && this.#head < this.#queue.length) {
      const result = this.#invoke(this.#queue[this.#head++]);
      if (result instanceof Promise) {
        this.#running++;
        result.then((r) => {
          this.#running--;
          this.#report(r);
          this.#pump();
        });
      } else {
        this.#report(result);
      }
    }
    if (this.#head === this.#queue.length) {
      this.#queue = [];
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
      const args = decodeArgs(argsFrame, deps, depFrames, this.#arena);
      const context = { taskId, signal: NEVER, name: `${this.#className}.${name}` };
      value = taskContext.run(context, () => method.apply(this.#instance, args));
    } catch (err) {
      return this.#failed(run, err);
    }
    if (value instanceof Promise) {
      return value.then((v) => this.#succeeded(run, v), (err) => this.#failed(run, err));
    }
    return this.#succeeded(run, value);
  }

  #succeeded(run: RunActorCall, value: unknown): ActorResult {
    const n = run[3];
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
        returns.push(toFrame(values[i], path, this.#arena, 0, refs));
        contained.push(refs);
      }
    } catch (err) {
      for (const f of returns) if (!(f instanceof Uint8Array)) this.#arena.free(f);
      return this.#failed(run, err);
    }
    return contained.some((c) => c.length > 0)
      ? [run[0], returns, false, contained]
      : [run[0], returns, false];
  }

  #failed(run: RunActorCall, err: unknown): ActorResult {
    const frame = errorFrame(new RayTaskError(`${this.#className}.${run[1]}`, err));
    return [run[0], new Array<Frame>(run[3]).fill(frame), true];
  }

  #report(result: ActorResult): void {
    this.#results.push(result);
    if (this.#flushQueued) return;
    this.#flushQueued = true;
    queueMicrotask(() => {
      this.#flushQueued = false;
      this.#flushBackend();
      this.#post({ type: "actorDone", results: this.#results.splice(0) });
    });
  }
}
