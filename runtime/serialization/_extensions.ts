/**
 * msgpackr extension types: boxes from _prepare.ts, typed arrays (inline or
 * out of band), and the classes that other folders register (ObjectRef, ...).
 */
import { addExtension } from "./_msgpackr.ts";
import { rayErrorClasses, RayTaskError } from "../common/mod.ts";
import {
  allowClass,
  ErrorBox,
  MapBox,
  NegZero,
  ObjectBox,
  SharedBox,
  Utf16Box,
} from "./_prepare.ts";

/** Extension type codes used by rayd (msgpackr's own use other codes). */
const EXT = { map: 1, error: 2, negZero: 3, binary: 4, utf16: 5, object: 6 } as const;
/** First code free for registered classes. */
const FIRST_REGISTERED_EXT = 16;

type ViewClass = new (
  buffer: ArrayBufferLike,
  byteOffset: number,
  length: number,
) => ArrayBufferView;

/** Binary kinds, in payload code order. Index 0 is ArrayBuffer. */
const viewClasses: (ViewClass | null)[] = [
  null,
  Int8Array,
  Uint8Array,
  Uint8ClampedArray,
  Int16Array,
  Uint16Array,
  Int32Array,
  Uint32Array,
  Float32Array,
  Float64Array,
  BigInt64Array,
  BigUint64Array,
  DataView as unknown as ViewClass,
];
const F16 = (globalThis as Record<string, unknown>).Float16Array as ViewClass | undefined;
if (F16) viewClasses.push(F16);

/** State of the encode or decode in progress (neither is re-entrant). */
export const frameState = {
  /** Out-of-band buffers collected by the encode in progress. */
  outBuffers: [] as Uint8Array[],
  /** Minimum byte length for a binary value to go out of band. */
  outOfBandMin: Infinity,
  /** Views of the frame being decoded, one per out-of-band buffer. */
  inBuffers: [] as Uint8Array[],
  /** Told of every value the decode in progress made as a view of the frame (no copy). */
  onView: undefined as ((view: ArrayBufferView) => void) | undefined,
};

function bytesOf(value: ArrayBufferView | ArrayBuffer): Uint8Array {
  return value instanceof ArrayBuffer
    ? new Uint8Array(value)
    : new Uint8Array(value.buffer, value.byteOffset, value.byteLength);
}

function packBinary(kind: number, bytes: Uint8Array): Uint8Array {
  if (bytes.byteLength >= frameState.outOfBandMin) {
    const out = new Uint8Array(8);
    const dv = new DataView(out.buffer);
    out[0] = kind;
    out[1] = 1;
    dv.setUint32(4, frameState.outBuffers.length, true);
    frameState.outBuffers.push(bytes);
    return out;
  }
  const out = new Uint8Array(8 + bytes.byteLength);
  out[0] = kind;
  out.set(bytes, 8);
  return out;
}

function unpackBinary(payload: Uint8Array): unknown {
  const kind = payload[0];
  let bytes: Uint8Array;
  if (payload.byteLength < 8) throw new TypeError("Cannot decode binary value: payload too short");
  if (payload[1] === 1) {
    const index = new DataView(payload.buffer, payload.byteOffset, 8).getUint32(4, true);
    bytes = frameState.inBuffers[index];
    if (!bytes) throw new TypeError(`Cannot decode binary value: no out-of-band buffer ${index}`);
  } else {
    bytes = payload.subarray(8);
  }
  const cls = viewClasses[kind];
  if (cls === null) return bytes.slice().buffer;
  if (cls === undefined) throw new TypeError(`Cannot decode binary value: unknown kind ${kind}`);
  const width = (cls as unknown as { BYTES_PER_ELEMENT?: number }).BYTES_PER_ELEMENT ?? 1;
  const aligned = bytes.byteOffset % width === 0 && payload[1] === 1;
  const src = aligned ? bytes : bytes.slice();
  const view = new cls(src.buffer, src.byteOffset, src.byteLength / width);
  if (aligned) frameState.onView?.(view);
  return view;
}

viewClasses.forEach((cls, kind) => {
  if (cls === null) return;
  addExtension({
    Class: cls,
    type: EXT.binary,
    pack: (value: ArrayBufferView) => packBinary(kind, bytesOf(value)),
    unpack: unpackBinary,
  });
});
addExtension({
  Class: ArrayBuffer,
  type: EXT.binary,
  pack: (value: ArrayBuffer) => packBinary(0, bytesOf(value)),
  unpack: unpackBinary,
});
addExtension({
  Class: SharedBox,
  type: EXT.binary,
  pack: (value: SharedBox) => packBinary(0, value.bytes),
  unpack: unpackBinary,
});
addExtension({
  Class: MapBox,
  type: EXT.map,
  write: (value: MapBox) => value.flat,
  read: (flat: unknown[]) => {
    const map = new Map();
    for (let i = 0; i < flat.length; i += 2) map.set(flat[i], flat[i + 1]);
    return map;
  },
});
addExtension({
  Class: ObjectBox,
  type: EXT.object,
  write: (value: ObjectBox) => value.flat,
  read: (flat: unknown[]) => {
    const obj: Record<string, unknown> = {};
    for (let i = 0; i < flat.length; i += 2) {
      Object.defineProperty(obj, String(flat[i]), {
        value: flat[i + 1],
        enumerable: true,
        writable: true,
        configurable: true,
      });
    }
    return obj;
  },
});
addExtension({
  Class: NegZero,
  type: EXT.negZero,
  write: () => 0,
  read: () => -0,
});
addExtension({
  Class: ErrorBox,
  type: EXT.error,
  write: (e: ErrorBox) => [e.name, e.message, e.stack, e.hasCause, e.cause, e.props],
  read: rebuildError,
});
addExtension({
  Class: Utf16Box,
  type: EXT.utf16,
  pack: (value: Utf16Box) => {
    const units = new Uint16Array(value.text.length);
    for (let i = 0; i < units.length; i++) units[i] = value.text.charCodeAt(i);
    return new Uint8Array(units.buffer);
  },
  unpack: (bytes: Uint8Array) => {
    const units = new Uint16Array(bytes.slice().buffer);
    let text = "";
    for (let i = 0; i < units.length; i += 4096) {
      text += String.fromCharCode(...units.subarray(i, i + 4096));
    }
    return text;
  },
});

const builtinErrors: Record<string, ErrorConstructor> = {
  Error,
  TypeError,
  RangeError,
  SyntaxError,
  ReferenceError,
  EvalError,
  URIError,
};

function rebuildError(
  [name, message, stack, hasCause, cause, props]: [
    string,
    string,
    string | undefined,
    boolean,
    unknown,
    Record<string, unknown> | undefined,
  ],
): Error {
  const options = hasCause ? { cause } : undefined;
  let err: Error;
  if (name === "RayTaskError") {
    const taskName = String(props?.taskName ?? "unknown");
    err = new RayTaskError(taskName, cause, message);
  } else if (rayErrorClasses[name]) {
    err = new rayErrorClasses[name](message);
    if (hasCause) {
      Object.defineProperty(err, "cause", { value: cause, writable: true, configurable: true });
    }
  } else {
    err = new (builtinErrors[name] ?? Error)(message, options);
    if (err.name !== name) err.name = name;
  }
  if (props) {
    for (const [k, v] of Object.entries(props)) {
      if (!(name === "RayTaskError" && k === "taskName")) {
        (err as unknown as Record<string, unknown>)[k] = v;
      }
    }
  }
  if (stack !== undefined) {
    Object.defineProperty(err, "stack", { value: stack, writable: true, configurable: true });
  }
  return err;
}

let nextRegistered = FIRST_REGISTERED_EXT;

/** How a class registered by another folder is written and read. */
export interface ClassCodec<T> {
  /** The class; instances of it (exactly) use this codec. */
  readonly Class: abstract new (...args: any[]) => T;
  /** Turns an instance into packable data (strings, numbers, arrays, plain objects). */
  encode(value: T): unknown;
  /** Rebuilds an instance from what `encode` returned. */
  decode(data: any): T;
}

/**
 * Registers a class that values may contain (ObjectRef, actor handles).
 * Call once per class at module load, in the same order in every thread.
 */
export function registerClass<T>(codec: ClassCodec<T>): void {
  allowClass(codec.Class);
  addExtension({
    Class: codec.Class as unknown as new () => T,
    type: nextRegistered++,
    write: (value: T) => codec.encode(value),
    read: (data: unknown) => codec.decode(data),
  });
}
