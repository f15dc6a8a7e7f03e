/**
 * Values to bytes and back: msgpack (msgpackr) with extensions for refs,
 * typed arrays out of band, Map, Set, Date, RegExp, BigInt, Error, undefined
 * and -0.
 *
 * @module
 */
export { decodeFrame, encodeFrame, FRAME_ERROR, frameFlags, heapAllocator } from "./frame.ts";
export type { FrameAllocator } from "./frame.ts";
export { ScratchFrames } from "./scratch.ts";
export { MAX_NESTING_DEPTH } from "./_prepare.ts";
export { salvage, type Salvaged } from "./_salvage.ts";
export { registerClass } from "./_extensions.ts";
export type { ClassCodec } from "./_extensions.ts";
