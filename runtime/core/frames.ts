/**
 * Values to frames placed inline or in the shared store, and back.
 *
 * @module
 */
import type { ObjectId } from "../common/mod.ts";
import { config, ObjectStoreFullError, SerializationError } from "../common/mod.ts";
import type { SharedArena } from "../object_store/mod.ts";
import type { Frame } from "../protocol/mod.ts";
import {
  decodeFrame,
  encodeFrame,
  FRAME_ERROR,
  type FrameAllocator,
  frameFlags,
  heapAllocator,
  salvage,
} from "../serialization/mod.ts";
import { nestedRefs } from "./object_ref.ts";
import { refTracker } from "./ref_tracker.ts";

const inlineMax = config("inlineObjectMaxBytes");

/**
 * Serializes `value`: small frames stay on the heap (where `small` puts
 * them), big ones go into the store. The ids of refs inside the value are
 * pushed onto `nested` when given. With `overflow`, a big frame the full
 * store cannot take goes on the heap instead (the node then writes it
 * straight to disk). Throws SerializationError naming `path`, and
 * ObjectStoreFullError when the store is full and `overflow` is off.
 */
export function toFrame(
  value: unknown,
  path: string,
  arena: SharedArena,
  flags = 0,
  nested?: ObjectId[],
  small: FrameAllocator = heapAllocator,
  overflow = false,
): Frame {
  const saved = nestedRefs.ids;
  nestedRefs.ids = nested;
  try {
    const frame = encodeFrame(
      value,
      path,
      (size) => size < inlineMax ? small(size) : storeOrHeap(arena, size, overflow),
      flags,
    );
    return arena.locate(frame) ?? frame;
  } finally {
    nestedRefs.ids = saved;
  }
}

function storeOrHeap(arena: SharedArena, size: number, overflow: boolean): Uint8Array {
  try {
    return arena.alloc(size);
  } catch (err) {
    if (overflow && err instanceof ObjectStoreFullError && !arena.closed) {
      return new Uint8Array(size);
    }
    throw err;
  }
}

/** Most replaced parts an error that could not be serialized whole lists in its message. */
const LISTED_REPLACED = 3;

/**
 * An error frame (always inline). Never throws: an error that cannot be
 * serialized whole (a thrown cycle, symbol, function, a cause nested too
 * deep, a getter that throws) is sent as what can be kept of it, each part
 * that cannot replaced by a SerializationError, and its message says so.
 */
export function errorFrame(error: unknown): Uint8Array {
  const encode = (value: unknown) =>
    encodeFrame(value, "error", (size) => new Uint8Array(size), FRAME_ERROR);
  try {
    return encode(error);
  } catch (failure) {
    const { value, replaced } = salvage(error, "error");
    if (value instanceof Error && replaced.length > 0) {
      const more = replaced.length - LISTED_REPLACED;
      value.message += `\n\n(Not all of it could be serialized; replaced by SerializationErrors: ${
        replaced.slice(0, LISTED_REPLACED).join("; ")
      }${more > 0 ? `; and ${more} more` : ""})`;
    }
    try {
      return encode(value);
    } catch {
      const why = failure instanceof Error ? failure.message : "it could not be serialized";
      return encode(new SerializationError(`An error could not be sent: ${why}`));
    }
  }
}

/** The bytes of a frame, wherever it is. */
export function frameBytes(frame: Frame, arena: SharedArena): Uint8Array {
  return frame instanceof Uint8Array ? frame : arena.view(frame);
}

/** True when the frame holds an error. */
export function isErrorFrame(frame: Frame, arena: SharedArena): boolean {
  return (frameFlags(frameBytes(frame, arena)) & FRAME_ERROR) !== 0;
}

/**
 * Start of the ref key that zero-copy views of an object hold (the object's
 * id follows): the node keeps the object alive, and in memory (not spilled),
 * while any thread holds one.
 */
export const VIEW_REF_PREFIX = "view:";

/**
 * The value of a frame; throws the stored error if it holds one. When the
 * frame is object `id` in the store, zero-copy views of it keep it alive.
 */
export function fromFrame(frame: Frame, arena: SharedArena, id?: ObjectId): unknown {
  const bytes = frameBytes(frame, arena);
  const viewKey = id === undefined ? undefined : (VIEW_REF_PREFIX + id) as ObjectId;
  const pin = viewKey !== undefined && !(frame instanceof Uint8Array)
    ? (view: ArrayBufferView) => refTracker.track(view, viewKey)
    : undefined;
  const value = decodeFrame(bytes, pin);
  if (frameFlags(bytes) & FRAME_ERROR) throw value;
  return value;
}
