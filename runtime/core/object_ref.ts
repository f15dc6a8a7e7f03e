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

  /** Wraps an object id in a ref. @param id the object's hex id */
  constructor(id: string) {
    this.id = id as ObjectId;
    refTracker.track(this, this.id);
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

registerClass<ObjectRef>({
  Class: ObjectRef,
  encode: (ref) => {
    nestedRefs.ids?.push(ref.id);
    return ref.id;
  },
  decode: (id: string) => new ObjectRef(id),
});
