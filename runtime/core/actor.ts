/**
 * `ray.remote(SomeClass)`: actor classes, actor handles and method calls.
 * A handle is serializable (it names the actor, its class and the class's
 * method names), so it can be passed to tasks and other actors; wherever it
 * is decoded, its calls go through that thread's backend to the node.
 *
 * @module
 */
import type { ActorId, ObjectId } from "../common/mod.ts";
import type { ActorEntry, ActorSettings, Frame, FunctionDescriptor } from "../protocol/mod.ts";
import { NO_ARGS } from "../protocol/mod.ts";
import { registerClass } from "../serialization/mod.ts";
import { type ActorOptions, mergeActorOptions } from "./actor_options.ts";
import { type Backend, backend, currentTask } from "./backend.ts";
import { toFrame } from "./frames.ts";
import { nestedRefs, ObjectRef } from "./object_ref.ts";
import { refTracker } from "./ref_tracker.ts";
import type { Args, RefsFor } from "./remote_function.ts";

/** Any function, as the type of an actor method. */
// deno-lint-ignore no-explicit-any
export type AnyMethod = (...args: any[]) => unknown;
/** Any class, as the type of an actor class. */
// deno-lint-ignore no-explicit-any
export type AnyClass = abstract new (...args: any[]) => any;

/** Names of the methods of `T`. */
export type MethodNames<T> =
  & { [K in keyof T]-?: T[K] extends AnyMethod ? K : never }[keyof T]
  & string;

/** One method of an actor, as seen through its handle. */
export interface ActorMethod<F extends AnyMethod, N extends number = 1> {
  /** Queues a call; returns its ref(s) at once. */
  remote(...args: Args<Parameters<F>> & unknown[]): RefsFor<ReturnType<F>, N>;
  /** The same method with `numReturns` refs per call. */
  options<M extends number = N>(options: { numReturns?: M }): ActorMethod<F, M>;
}

/** A handle to an actor of class instance type `T`: one `ActorMethod` per method. */
export type ActorHandle<T> = {
  readonly [K in MethodNames<T>]: T[K] extends AnyMethod ? ActorMethod<T[K]> : never;
};

const NO_IDS: readonly ObjectId[] = Object.freeze([]);

/** The argument fields of a call or creation: the frame, its deps and what it refers to. */
interface EncodedArgs {
  args: Frame | ObjectId;
  deps: readonly ObjectId[];
  argRefs: readonly ObjectId[];
}

/** The arguments of a call without arguments (shared: never written to). */
const NO_ARGS_ENCODED: EncodedArgs = Object.freeze({
  args: NO_ARGS,
  deps: NO_IDS,
  argRefs: NO_IDS,
});

function encodeArgs(be: Backend, args: readonly unknown[]): EncodedArgs {
  if (args.length === 0) return NO_ARGS_ENCODED;
  const deps: ObjectId[] = [];
  for (const a of args) if (a instanceof ObjectRef) deps.push(a.id);
  let argRefs: ObjectId[] = [];
  let frame: Frame | ObjectId = toFrame(args, "args", be.arena, 0, argRefs);
  if (!(frame instanceof Uint8Array)) {
    // Big arguments become an object of their own, which the call holds.
    const argsId = be.ids.nextPutId();
    be.put(argsId, frame, argRefs);
    frame = argsId;
    deps.push(argsId);
    argRefs = [argsId];
  }
  return { args: frame, deps, argRefs };
}

class Method {
  readonly #entry: ActorEntry;
  readonly #method: string;
  readonly #numReturns: number;

  constructor(entry: ActorEntry, method: string, numReturns: number) {
    this.#entry = entry;
    this.#method = method;
    this.#numReturns = numReturns;
  }

  remote(...args: unknown[]): ObjectRef | ObjectRef[] {
    const be = backend("call an actor method");
    const encoded = encodeArgs(be, args);
    const refs = be.actors.call({
      taskId: be.ids.nextTaskId(),
      actorId: this.#entry.actorId,
      method: this.#method,
      args: encoded.args,
      deps: encoded.deps,
      argRefs: encoded.argRefs,
      numReturns: this.#numReturns,
    });
    return this.#numReturns === 1 ? refs[0] : refs;
  }

  options(options: { numReturns?: number }): Method {
    const n = options?.numReturns ?? this.#numReturns;
    if (!Number.isInteger(n) || n < 1) {
      throw new RangeError(`Invalid option numReturns: expected an integer >= 1, got ${n}`);
    }
    return new Method(this.#entry, this.#method, n);
  }
}

/** The runtime class of every actor handle; its methods are own properties. */
class Handle {
  readonly #entry: ActorEntry;

  constructor(entry: ActorEntry) {
    this.#entry = entry;
    refTracker.track(this, actorRefKey(entry.actorId));
    for (const m of entry.methods) {
      Object.defineProperty(this, m, { value: new Method(entry, m, 1), enumerable: true });
    }
  }

  static entryOf(value: unknown): ActorEntry | undefined {
    return value instanceof Handle ? value.#entry : undefined;
  }

  toString(): string {
    return `ActorHandle(${this.#entry.cls.name}, ${this.#entry.actorId})`;
  }

  [Symbol.for("Deno.customInspect")](): string {
    return this.toString();
  }
}

registerClass<Handle>({
  Class: Handle,
  encode: (h) => {
    const { actorId, cls, methods } = Handle.entryOf(h)!;
    nestedRefs.ids?.push(actorRefKey(actorId));
    return { actorId, cls, methods };
  },
  decode: (entry: ActorEntry) => new Handle(entry),
});

/**
 * The key under which handles to an actor are counted like object refs: the
 * node learns when the last handle anywhere is gone.
 */
function actorRefKey(actorId: string): ObjectId {
  return `${ACTOR_REF_PREFIX}${actorId}` as ObjectId;
}

/** Prefix of `actorRefKey`s. */
export const ACTOR_REF_PREFIX = "actor:";

/** A handle for the actor `entry` describes (from `ray.getActor`). */
export function handleOf<T = unknown>(entry: ActorEntry): ActorHandle<T> {
  return new Handle(entry) as unknown as ActorHandle<T>;
}

/** The id and class of the actor behind a handle; TypeError for anything else. */
export function actorEntryOf(handle: unknown, call: string): ActorEntry {
  const entry = Handle.entryOf(handle);
  if (!entry) {
    const got = handle === null
      ? "null"
      : typeof handle === "object"
      ? (handle.constructor?.name ?? "object")
      : typeof handle;
    throw new TypeError(`Cannot ${call}: expected an actor handle, got ${got}`);
  }
  return entry;
}

/** An actor class: `.remote(...ctorArgs)` starts an actor and returns its handle at once. */
export class ActorClass<C extends AnyClass> {
  readonly #cls: FunctionDescriptor;
  readonly #methods: readonly string[];
  readonly #settings: ActorSettings;

  /** Use `ray.remote(SomeClass)` rather than this. */
  constructor(cls: FunctionDescriptor, methods: readonly string[], settings: ActorSettings) {
    this.#cls = cls;
    this.#methods = methods;
    this.#settings = settings;
  }

  /** Creates an actor (its constructor runs in a worker of its own); returns its handle at once. */
  remote(...args: Args<ConstructorParameters<C>> & unknown[]): ActorHandle<InstanceType<C>> {
    const be = backend("create an actor");
    const actorId = be.ids.nextTaskId() as string as ActorId;
    const entry: ActorEntry = { actorId, cls: this.#cls, methods: this.#methods };
    const jobId = currentTask()?.jobId;
    const existing = be.actors.create({
      ...entry,
      ...encodeArgs(be, args),
      settings: this.#settings,
      ...(jobId === undefined ? {} : { jobId }),
    });
    return new Handle(existing ?? entry) as unknown as ActorHandle<InstanceType<C>>;
  }

  /** A copy with some options changed. */
  options(options: ActorOptions): ActorClass<C> {
    return new ActorClass(this.#cls, this.#methods, mergeActorOptions(this.#settings, options));
  }

  /** The class's name. */
  get name(): string {
    return this.#cls.name;
  }
}

/** The names of the methods of `cls`'s instances, from its prototype chain. */
function methodNames(cls: AnyClass): string[] {
  const names = new Set<string>();
  for (
    let proto = cls.prototype;
    proto && proto !== Object.prototype;
    proto = Object.getPrototypeOf(proto)
  ) {
    for (const key of Object.getOwnPropertyNames(proto)) {
      if (key === "constructor") continue;
      const d = Object.getOwnPropertyDescriptor(proto, key)!;
      if (typeof d.value === "function") names.add(key);
    }
  }
  return [...names];
}

/** Builds an ActorClass from the class's descriptor and user options. */
export function makeActorClass<C extends AnyClass>(
  desc: FunctionDescriptor,
  cls: C,
  options?: ActorOptions,
): ActorClass<C> {
  return new ActorClass<C>(desc, methodNames(cls), mergeActorOptions(undefined, options));
}

let runningActor: ActorId | undefined;

/** The actor this thread runs, if any (for `getRuntimeContext().actorId`). */
export function currentActorId(): ActorId | undefined {
  return runningActor;
}

/** Records that this thread runs actor `id` (set once by the actor's worker). */
export function setCurrentActor(id: ActorId | undefined): void {
  runningActor = id;
}
