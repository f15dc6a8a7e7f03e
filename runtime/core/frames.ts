/**
 * Values to frames placed inline or in the shared store, and back.
 *
 * @module
 */
import { config } from "../common/mod.ts";
import type { SharedArena } from "../object_store/mod.ts";
import type { Frame } from "../protocol/mod.ts";
import { decodeFrame, encodeFrame, FRAME_ERROR, frameFlags } from "../serialization/mod.ts";

const inlineMax = config("inlineObjectMaxBytes");

/**
 * Serializes `value`: small frames stay on the heap, big ones go into the
 * store. Throws SerializationError naming `path`.
 */
export function toFrame(value: unknown, path: string, arena: SharedArena, flags = 0): Frame {
  const frame = encodeFrame(
    value,
    path,
    (size) => size < inlineMax ? new Uint8Array(size) : arena.alloc(size),
    flags,
  );
  return arena.locate(frame) ?? frame;
}

/** An error frame (always inline). */
export function errorFrame(error: unknown): Uint8Array {
  return encodeFrame(error, "error", (size) => new Uint8Array(size), FRAME_ERROR);
}

/** The bytes of a frame, wherever it is. */
export function frameBytes(frame: Frame, arena: SharedArena): Uint8Array {
  return frame instanceof Uint8Array ? frame : arena.view(frame);
}

/** True when the frame holds an error. */
export function isErrorFrame(frame: Frame, arena: SharedArena): boolean {
  return (frameFlags(frameBytes(frame, arena)) & FRAME_ERROR) !== 0;
}

/** The value of a frame; throws the stored error if it holds one. */
export function fromFrame(frame: Frame, arena: SharedArena): unknown {
  const bytes = frameBytes(frame, arena);
  const value = decodeFrame(bytes);
  if (frameFlags(bytes) & FRAME_ERROR) throw value;
  return value;
}
