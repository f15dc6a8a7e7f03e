/**
 * The arguments frame of a call without arguments, shared by the code that
 * encodes calls (runtime/core) and the call links that carry them as one
 * flag byte (runtime/links).
 *
 * @module
 */
import { encodeFrame, heapAllocator } from "../serialization/mod.ts";

/** The arguments frame of a call without arguments: it travels as one flag byte. */
export const NO_ARGS: Uint8Array = encodeFrame([], "args", heapAllocator);
