/**
 * `ray.remote(fn)`: a function whose calls become tasks.
 *
 * @module
 */
import type { JobId, ObjectId } from "../common/mod.ts";
import { objectIdOf } from "../common/mod.ts";
import type { Frame, FunctionDescriptor, TaskOptions, TaskSpec } from "../protocol/mod.ts";
import { encodeFrame, heapAllocator } from "../serialization/mod.ts";
import { backend, currentTask } from "./backend.ts";
import { toFrame } from "./frames.ts";
import { freshRef, ObjectRef } from "./object_ref.ts";
import { mergeOptions, type RemoteOptions } from "./options.ts";

/** Refs for a call with `N` returns: one ref, or a tuple of refs. */
export type RefsFor<R, N extends number> = number extends N ? ObjectRef<Awaited<R>> | ObjectRef[]
  : N extends 1 ? ObjectRef<Awaited<R>>
  : Awaited<R> extends readonly unknown[] ? RefsOf<Awaited<R>>
  : ObjectRef<unknown>[];

/** One ref per element of the tuple or array `T`. */
export type RefsOf<T extends readonly unknown[]> = { -readonly [K in keyof T]: ObjectRef<T[K]> };

/** An argument: the value itself or a ref to it. */
export type Arg<T> = T | ObjectRef<T>;
/** Arguments of `F`, each by value or by ref. */
export type Args<P extends unknown[]> = { [K in keyof P]: Arg<P[K]> };

/** Shared by every task without refs in its arguments (never written). */
const NO_IDS: ObjectId[] = Object.freeze([]) as unknown as ObjectId[];

const EMPTY_ARGS = encodeFrame([], "args", heapAllocator);

/** A remote function: `.remote(...args)` submits a task and returns refs at once. */
export class RemoteFunction<F extends (...args: any[]) => unknown, N extends number = 1> {
  readonly #desc: FunctionDescriptor;
  readonly #options: TaskOptions;

  /** Use `ray.remote(fn)` rather than this. */
  constructor(desc: FunctionDescriptor, options: TaskOptions) {
    this.#desc = desc;
    this.#options = options;
  }

  /** Submits a call; returns its ref(s) without waiting. */
  remote(...args: Args<Parameters<F>> & unknown[]): RefsFor<ReturnType<F>, N> {
    const be = backend("call .remote()");
    const taskId = be.ids.nextTaskId();
    let deps: ObjectId[] = NO_IDS;
    for (const a of args) {
      if (a instanceof ObjectRef) (deps === NO_IDS ? deps = [] : deps).push(a.id);
    }
    let argRefs: ObjectId[] = [];
    let frame: Frame | ObjectId = args.length === 0
      ? EMPTY_ARGS
      : toFrame(args, "args", be.arena, 0, argRefs);
    if (!(frame instanceof Uint8Array)) {
      // Big arguments become an object of their own, which the task holds.
      const argsId = be.ids.nextPutId();
      be.put(argsId, frame, argRefs);
      frame = argsId;
      deps = [...deps, argsId];
      argRefs = [argsId];
    }
    const parent = currentTask();
    const spec: TaskSpec = {
      taskId,
      fn: this.#desc,
      args: frame,
      deps,
      argRefs: argRefs.length === 0 ? NO_IDS : argRefs,
      options: this.#options,
      parentTaskId: parent?.taskId,
      attempt: 0,
    };
    // A task of a cluster's node runs for its driver's job: its nested tasks do too.
    if (parent?.jobId !== undefined) (spec as { jobId?: JobId }).jobId = parent.jobId;
    const owned = be.submit(spec); // its owned refs when it went to a lease
    const n = this.#options.numReturns;
    if (owned) return (n === 1 ? owned[0] : owned) as RefsFor<ReturnType<F>, N>;
    // The task is new: nobody held its results before (freshRef).
    if (n === 1) return freshRef(objectIdOf(taskId, 0)) as RefsFor<ReturnType<F>, N>;
    const refs = [];
    for (let i = 0; i < n; i++) refs.push(freshRef(objectIdOf(taskId, i)));
    return refs as RefsFor<ReturnType<F>, N>;
  }

  /** A copy with some options changed. */
  options<M extends number = N>(
    options: RemoteOptions & { numReturns?: M },
  ): RemoteFunction<F, M> {
    return new RemoteFunction(this.#desc, mergeOptions(this.#options, options));
  }

  /** The function's display name. */
  get name(): string {
    return this.#options.name ?? this.#desc.name;
  }
}

/** Builds a RemoteFunction from a descriptor and user options. */
export function makeRemoteFunction<F extends (...args: any[]) => unknown, N extends number>(
  desc: FunctionDescriptor,
  options?: RemoteOptions & { numReturns?: N },
): RemoteFunction<F, N> {
  return new RemoteFunction(desc, mergeOptions(undefined, options));
}
