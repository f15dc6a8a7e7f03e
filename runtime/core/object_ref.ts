/**
 * ObjectRef: the future that names an immutable object.
 *
 * @module
 */
import type { ObjectId } from "../common/mod.ts";
import { registerClass } from "../serialization/mod.ts";
import { refTracker } from "./ref_tracker.ts";

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
};

/** Set only while `ownedRef` builds a ref. */
let building: object | undefined;
let ownerField: (ref: ObjectRef) => object | undefined;

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

  static {
    ownerField = (ref) => ref.#owner;
  }

  /** Wraps an object id in a ref. @param id the object's hex id */
  constructor(id: string) {
    this.id = id as ObjectId;
    this.#owner = building;
    if (building === undefined) refTracker.track(this, this.id);
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

/** What this thread knows of `ref`'s result if it owns it (see `ownedRef`). */
export function ownerOf(ref: ObjectRef): object | undefined {
  return ownerField(ref);
}

registerClass<ObjectRef>({
  Class: ObjectRef,
  encode: (ref) => {
    nestedRefs.ids?.push(ref.id);
    const owner = ownerField(ref);
    if (owner !== undefined) ownedRefs.escapes?.(ref, owner);
    return ref.id;
  },
  decode: (id: string) => new ObjectRef(id),
});
