/**
 * ObjectRef: the future that names an immutable object.
 *
 * @module
 */
import type { ObjectId } from "../common/mod.ts";
import { RayError } from "../common/mod.ts";
import { registerClass } from "../serialization/mod.ts";
import { refTracker, type Token } from "./ref_tracker.ts";

/** Collects the ids of refs written by the encode in progress (see `toFrame`). */
export const nestedRefs = { ids: undefined as ObjectId[] | undefined };

/**
 * What this thread knows of a result it owns (runtime/links/call_links.ts):
 * opaque here. An owned ref is not counted by the ref tracker while it stays
 * in its thread; `escapes` hears when one is written into a frame (it is
 * leaving the thread), before the frame is sent.
 */
export const ownedRefs = {
  escapes: undefined as ((ref: ObjectRef, owner: object) => void) | undefined,
  /** Hears when an owned ref is released (`Symbol.dispose`). */
  disposed: undefined as ((ref: ObjectRef, owner: object) => void) | undefined,
};

/** The token of a disposed ref (never a tracker's: it is not tracked again). */
const RELEASED = Object.freeze({}) as Token;

/** Set only while `ownedRef` builds a ref. */
let building: object | undefined;
/** How the ref being built is tracked: not "plain" only while `watchedRef` or `freshRef` builds one. */
let tracking: "plain" | "watched" | "fresh" = "plain";
let ownerField: (ref: ObjectRef) => object | undefined;
let trackField: (ref: ObjectRef) => void;
let releasedField: (ref: ObjectRef) => boolean;

/**
 * An opaque, immutable reference to an object in the cluster. Not a thenable:
 * use `await ray.get(ref)` for its value.
 *
 * @example
 * ```ts
 * import { ObjectRef } from "./object_ref.ts";
 * const ref = new ObjectRef("0123456789abcdef000000010000");
 * ref.toString(); // "ObjectRef(0123456789abcdef000000010000)"
 * ```
 */
export class ObjectRef<T = unknown> {
  /** The object's id. */
  readonly id: ObjectId;
  /** Carries the value type `T` for the type checker; never set at run time. */
  declare readonly __type?: T;
  #owner: object | undefined;
  /**
   * Its token while the ref tracker counts it (undefined: an owned ref not
   * counted yet; RELEASED once disposed, which needs no field of its own). A
   * watched ref's token is the only strong hold on it (see
   * `RefTracker.trackWatched`).
   */
  #token: Token | undefined;

  static {
    ownerField = (ref) => ref.#owner;
    releasedField = (ref) => ref.#token === RELEASED;
    trackField = (ref) => {
      if (ref.#token === undefined) ref.#token = refTracker.track(ref, ref.id);
    };
  }

  /** Wraps an object id in a ref. @param id the object's hex id */
  constructor(id: string) {
    this.id = id as ObjectId;
    this.#owner = building;
    if (building !== undefined) return;
    this.#token = tracking === "watched"
      ? refTracker.trackWatched(this, this.id)
      : tracking === "fresh"
      ? refTracker.trackFresh(this, this.id)
      : refTracker.track(this, this.id);
  }

  /**
   * Releases this handle now instead of when it is garbage collected:
   * `using ref = ray.put(x)` calls it at the end of the scope. The object is
   * freed at once when nothing else holds it (another handle, a task's
   * arguments, an object that contains the ref, a zero-copy view of its
   * value). Using the handle afterwards throws a RayError that says it was
   * released; disposing it again does nothing.
   */
  [Symbol.dispose](): void {
    const token = this.#token;
    if (token === RELEASED) return;
    this.#token = RELEASED;
    if (this.#owner !== undefined) ownedRefs.disposed?.(this, this.#owner);
    this.#owner = undefined;
    if (token) refTracker.untrack(this.id, token);
  }

  /** The object's id as a hex string. */
  hex(): string {
    return this.id;
  }

  /** `ObjectRef(<hex>)`. */
  toString(): string {
    return `ObjectRef(${this.id})`;
  }

  /** Shown by `console.log`. */
  [Symbol.for("Deno.customInspect")](): string {
    return this.toString();
  }
}

/** A ref to a result this thread owns, described by `owner` (not counted by the ref tracker). */
export function ownedRef(id: string, owner: object): ObjectRef {
  building = owner;
  try {
    return new ObjectRef(id);
  } finally {
    building = undefined;
  }
}

/**
 * A ref to an object in the store, watched by the tracker (see
 * `RefTracker.trackWatched`): a full store can free it without waiting for
 * its finalizer once a collection found it dropped.
 */
export function watchedRef(id: string): ObjectRef {
  return trackedAs("watched", id);
}

/** The ref tracker counts owned ref `ref` from now on (it left its thread, or its result is at the node). */
export function trackRef(ref: ObjectRef): void {
  trackField(ref);
}

/**
 * The first ref of an object nobody held before: a result of a task this
 * thread just submitted (see `RefTracker.trackFresh`).
 */
export function freshRef(id: string): ObjectRef {
  return trackedAs("fresh", id);
}

/** A ref to `id` tracked `how` (see `tracking`). */
function trackedAs(how: "watched" | "fresh", id: string): ObjectRef {
  tracking = how;
  try {
    return new ObjectRef(id);
  } finally {
    tracking = "plain";
  }
}

/** True once `ref` was disposed. */
export function isReleased(ref: ObjectRef): boolean {
  return releasedField(ref);
}

/**
 * Throws when `ref` was disposed; `call` says what it was used for ("get",
 * "pass it as a task argument").
 */
export function checkLive(ref: ObjectRef, call: string): void {
  if (!releasedField(ref)) return;
  throw new RayError(
    `Cannot ${call}: ${ref} was released (by \`using\` or [Symbol.dispose]()), ` +
      "so its object may be freed already; keep the ref undisposed while you still use it",
  );
}

/** What this thread knows of `ref`'s result if it owns it (see `ownedRef`). */
export function ownerOf(ref: ObjectRef): object | undefined {
  return ownerField(ref);
}

registerClass<ObjectRef>({
  Class: ObjectRef,
  encode: (ref) => {
    checkLive(ref, "pass it to a task or put it in a value");
    nestedRefs.ids?.push(ref.id);
    const owner = ownerField(ref);
    if (owner !== undefined) ownedRefs.escapes?.(ref, owner);
    return ref.id;
  },
  decode: (id: string) => new ObjectRef(id),
});
