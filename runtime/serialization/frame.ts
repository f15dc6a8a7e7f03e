/**
 * Values to frames and back. A frame is one byte range laid out as:
 *
 * ```
 * 0   u32 magic "RAY1"   4  u32 flags   8  u32 header length   12 u32 buffer count (n)
 * 16  n x (f64 offset, f64 length)  of each out-of-band buffer, from frame start
 * ..  msgpack header
 * ..  each out-of-band buffer, 8-byte aligned
 * ```
 *
 * Frames travel inline in messages when small and live in the shared object
 * store when big; decoding a frame in the store gives typed arrays that are
 * views of it (zero-copy).
 */
import { Packr } from "./_msgpackr.ts";
import { config } from "../common/mod.ts";
import { frameState } from "./_extensions.ts";
import { prepare } from "./_prepare.ts";

const MAGIC = 0x31594152; // "RAY1" little-endian
const FIXED = 16;
const PER_BUFFER = 16;

/** Frame flag: the value is an error to throw on `get`. */
export const FRAME_ERROR = 1;

const outOfBandMin = config("outOfBandMinBytes");

const packr = new Packr(
  {
    moreTypes: true,
    useRecords: false,
    int64AsType: "bigint",
    useBigIntExtension: true,
  } as ConstructorParameters<typeof Packr>[0],
);

function align8(n: number): number {
  return Math.ceil(n / 8) * 8;
}

/** Provides a byte range of exactly `size` bytes for a frame. */
export type FrameAllocator = (size: number) => Uint8Array;

/** Allocates a fresh, 8-aligned Uint8Array (for inline frames). */
export const heapAllocator: FrameAllocator = (size) => new Uint8Array(size);

/**
 * Serializes `value` into a frame placed where `alloc` says.
 *
 * @param value what to store
 * @param path names the value in errors, e.g. `args` or `value`
 * @param alloc gives the bytes to write the frame into
 * @param flags frame flags (FRAME_ERROR)
 * @returns the frame
 * @throws SerializationError naming the path of what cannot be stored
 * @example
 * ```ts
 * import { decodeFrame, encodeFrame, heapAllocator } from "./frame.ts";
 * const frame = encodeFrame({ a: [1, 2n] }, "value", heapAllocator);
 * decodeFrame(frame); // { a: [1, 2n] }
 * ```
 */
export function encodeFrame(
  value: unknown,
  path: string,
  alloc: FrameAllocator,
  flags = 0,
): Uint8Array {
  const prepared = prepare(value, path, new Set());
  frameState.outBuffers = [];
  frameState.outOfBandMin = outOfBandMin;
  let header: Uint8Array;
  let buffers: Uint8Array[];
  try {
    header = packr.pack(prepared);
    buffers = frameState.outBuffers;
  } finally {
    frameState.outBuffers = [];
  }
  let size = align8(FIXED + PER_BUFFER * buffers.length + header.byteLength);
  const offsets: number[] = [];
  for (const b of buffers) {
    offsets.push(size);
    size += align8(b.byteLength);
  }
  const frame = alloc(size);
  const dv = new DataView(frame.buffer, frame.byteOffset, FIXED + PER_BUFFER * buffers.length);
  dv.setUint32(0, MAGIC, true);
  dv.setUint32(4, flags, true);
  dv.setUint32(8, header.byteLength, true);
  dv.setUint32(12, buffers.length, true);
  buffers.forEach((b, i) => {
    dv.setFloat64(FIXED + PER_BUFFER * i, offsets[i], true);
    dv.setFloat64(FIXED + PER_BUFFER * i + 8, b.byteLength, true);
    frame.set(b, offsets[i]);
  });
  frame.set(header, FIXED + PER_BUFFER * buffers.length);
  return frame;
}

function checkedView(frame: Uint8Array): DataView {
  if (frame.byteLength < FIXED) {
    throw new TypeError(`Cannot decode frame: ${frame.byteLength} bytes is shorter than a header`);
  }
  const dv = new DataView(frame.buffer, frame.byteOffset, frame.byteLength);
  if (dv.getUint32(0, true) !== MAGIC) {
    throw new TypeError("Cannot decode frame: bad magic number (not a rayd frame)");
  }
  return dv;
}

/** The little-endian u32 at `at` (no DataView: this runs for every frame read). */
function u32(b: Uint8Array, at: number): number {
  return (b[at] | (b[at + 1] << 8) | (b[at + 2] << 16) | (b[at + 3] << 24)) >>> 0;
}

/** The flags a frame was written with. */
export function frameFlags(frame: Uint8Array): number {
  if (frame.byteLength < FIXED || u32(frame, 0) !== MAGIC) checkedView(frame);
  return u32(frame, 4);
}

/**
 * Rebuilds the value in `frame`. Out-of-band typed arrays come back as views
 * of the frame's memory, so keep the frame's bytes alive and unchanged;
 * `onView` is told of each such view.
 */
export function decodeFrame(
  frame: Uint8Array,
  onView?: (view: ArrayBufferView) => void,
): unknown {
  if (frame.byteLength < FIXED || u32(frame, 0) !== MAGIC) checkedView(frame);
  const headerLen = u32(frame, 8);
  const n = u32(frame, 12);
  const start = FIXED + PER_BUFFER * n;
  if (start + headerLen > frame.byteLength) {
    throw new TypeError("Cannot decode frame: header runs past the end of the frame");
  }
  const views: Uint8Array[] = [];
  const dv = n > 0 ? new DataView(frame.buffer, frame.byteOffset, start) : undefined;
  for (let i = 0; i < n; i++) {
    const off = dv!.getFloat64(FIXED + PER_BUFFER * i, true);
    const len = dv!.getFloat64(FIXED + PER_BUFFER * i + 8, true);
    if (!Number.isSafeInteger(off) || !Number.isSafeInteger(len) || off < start || len < 0) {
      throw new TypeError(`Cannot decode frame: buffer ${i} has a bad offset or length`);
    }
    if (off + len > frame.byteLength) {
      throw new TypeError(`Cannot decode frame: buffer ${i} runs past the end of the frame`);
    }
    views.push(frame.subarray(off, off + len));
  }
  const saved = frameState.inBuffers;
  const savedOnView = frameState.onView;
  frameState.inBuffers = views;
  frameState.onView = onView;
  let value: unknown;
  try {
    value = packr.unpack(frame.subarray(start, start + headerLen));
  } catch (err) {
    if (err instanceof TypeError && err.message.startsWith("Cannot decode")) throw err;
    throw new TypeError(`Cannot decode frame: bad msgpack header: ${(err as Error).message}`, {
      cause: err,
    });
  } finally {
    frameState.inBuffers = saved;
    frameState.onView = savedOnView;
  }
  // msgpackr decodes the reserved byte 0xc1 to a marker object instead of failing.
  if ((value as object | null)?.constructor?.name === "C1Type") {
    throw new TypeError("Cannot decode frame: reserved msgpack byte 0xc1");
  }
  return value;
}
