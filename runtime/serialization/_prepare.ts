/**
 * One pass over a value before packing: rejects what cannot be stored (with
 * the path where it was found) and swaps the few things msgpackr would not
 * round-trip (Map, Error, -0) for boxes that our extensions encode.
 */
import { notSerializable } from "../common/mod.ts";

/** A Map, as its entries flattened [k0, v0, k1, v1, ...]. */
export class MapBox {
  constructor(readonly flat: unknown[]) {}
}

/** An Error's parts. */
export class ErrorBox {
  constructor(
    readonly name: unknown,
    readonly message: unknown,
    readonly stack: unknown,
    readonly hasCause: boolean,
    readonly cause: unknown,
    readonly props: Record<string, unknown> | undefined,
  ) {}
}

/** An object with keys msgpack cannot carry as map keys (`__proto__`, lone surrogates). */
export class ObjectBox {
  constructor(readonly flat: unknown[]) {}
}

/** Stands for -0, which msgpack would write as 0. */
export class NegZero {}
/** The one NegZero. */
const NEG_ZERO = new NegZero();

/** A string with lone surrogates, which UTF-8 cannot carry: kept as UTF-16 code units. */
export class Utf16Box {
  constructor(readonly text: string) {}
}

/** A SharedArrayBuffer to be stored as an ArrayBuffer. */
export class SharedBox {
  constructor(readonly bytes: Uint8Array) {}
}

/**
 * How deep containers may nest in one value. Packing and unpacking walk a value
 * recursively on the thread's stack; past this a value is refused with a
 * SerializationError instead of overflowing the stack.
 */
export const MAX_NESTING_DEPTH = 1000;

/** A path cut to its start and end, for values nested too deep to print whole. */
function shortPath(path: string): string {
  return path.length <= 80 ? path : `${path.slice(0, 40)}...${path.slice(-30)}`;
}

const leafClasses = new Set<unknown>([Date, RegExp, ArrayBuffer, DataView]);
const extraLeaves = new Set<unknown>();

/** Lets instances of `cls` through unchanged (an extension encodes them). */
export function allowClass(cls: unknown): void {
  extraLeaves.add(cls);
}

function childPath(path: string, key: string): string {
  return /^[A-Za-z_$][\w$]*$/.test(key) ? `${path}.${key}` : `${path}[${JSON.stringify(key)}]`;
}

/**
 * Returns `value` itself, or a copy with boxes where needed.
 * Throws SerializationError naming `path` for what cannot be stored.
 */
export function prepare(value: unknown, path: string, ancestors: Set<object>): unknown {
  switch (typeof value) {
    case "number":
      return value === 0 && 1 / value < 0 ? NEG_ZERO : value;
    case "string":
      return (value as string).isWellFormed() ? value : new Utf16Box(value as string);
    case "boolean":
    case "undefined":
    case "bigint":
      return value;
    case "function":
      throw notSerializable(`functions are not serializable (${describeFn(value)})`, path);
    case "symbol":
      throw notSerializable("symbols are not serializable", path);
  }
  if (value === null) return value;
  const obj = value as object;
  if (ancestors.has(obj)) throw notSerializable("cycles are not supported", path);
  if (ArrayBuffer.isView(obj) || leafClasses.has(obj.constructor)) return obj;
  if (obj instanceof SharedArrayBuffer) return new SharedBox(new Uint8Array(obj));
  if (extraLeaves.has(obj.constructor)) return obj;
  if (ancestors.size >= MAX_NESTING_DEPTH) {
    throw notSerializable(
      `values nested more than ${MAX_NESTING_DEPTH} levels deep are not supported`,
      shortPath(path),
    );
  }
  ancestors.add(obj);
  try {
    return prepareContainer(obj, path, ancestors);
  } finally {
    ancestors.delete(obj);
  }
}

function prepareContainer(obj: object, path: string, ancestors: Set<object>): unknown {
  if (Array.isArray(obj)) return prepareArray(obj, path, ancestors);
  if (obj instanceof Map) {
    const flat: unknown[] = [];
    let i = 0;
    for (const [k, v] of obj) {
      flat.push(prepare(k, `${path}<Map key ${i}>`, ancestors));
      flat.push(prepare(v, `${path}<Map value ${i}>`, ancestors));
      i++;
    }
    return new MapBox(flat);
  }
  if (obj instanceof Set) {
    const items: unknown[] = [];
    let changed = false;
    for (const v of obj) {
      const p = prepare(v, `${path}<Set item ${items.length}>`, ancestors);
      changed ||= p !== v;
      items.push(p);
    }
    return changed ? new Set(items) : obj;
  }
  if (obj instanceof Error) return prepareError(obj, path, ancestors);
  const proto = Object.getPrototypeOf(obj);
  if (proto !== Object.prototype && proto !== null) {
    const name = obj.constructor?.name ?? "unknown class";
    throw notSerializable(
      `class instances are not serializable (${name}; pass a plain object instead)`,
      path,
    );
  }
  return prepareObject(obj as Record<string, unknown>, path, ancestors);
}

function prepareArray(arr: unknown[], path: string, ancestors: Set<object>): unknown[] {
  let copy: unknown[] | undefined;
  for (let i = 0; i < arr.length; i++) {
    const v = arr[i];
    const p = prepare(v, `${path}[${i}]`, ancestors);
    if (p !== v && !copy) copy = arr.slice(0, i);
    if (copy) copy.push(p);
  }
  return copy ?? arr;
}

function prepareObject(
  obj: Record<string, unknown>,
  path: string,
  ancestors: Set<object>,
): Record<string, unknown> | ObjectBox {
  let copy: Record<string, unknown> | undefined;
  for (const key in obj) {
    if (!Object.hasOwn(obj, key)) continue;
    if (key === "__proto__" || !key.isWellFormed()) return boxObject(obj, path, ancestors);
    const v = obj[key];
    const p = prepare(v, childPath(path, key), ancestors);
    if (p !== v && !copy) copy = { ...obj };
    if (copy) copy[key] = p;
  }
  if (Object.hasOwn(obj, "__proto__")) return boxObject(obj, path, ancestors);
  return copy ?? obj;
}

function boxObject(obj: Record<string, unknown>, path: string, ancestors: Set<object>): ObjectBox {
  const flat: unknown[] = [];
  for (const key of Object.keys(obj)) {
    flat.push(prepare(key, path, ancestors), prepare(obj[key], childPath(path, key), ancestors));
  }
  return new ObjectBox(flat);
}

function prepareError(err: Error, path: string, ancestors: Set<object>): ErrorBox {
  let props: Record<string, unknown> | undefined;
  for (const key of Object.keys(err)) {
    if (key === "cause" || key === "stack" || key === "message") continue;
    props = props ?? {};
    props[key] = prepare(
      (err as unknown as Record<string, unknown>)[key],
      childPath(path, key),
      ancestors,
    );
  }
  const hasCause = Object.hasOwn(err, "cause");
  return new ErrorBox(
    prepare(err.name, `${path}.name`, ancestors),
    prepare(err.message, `${path}.message`, ancestors),
    prepare(err.stack, `${path}.stack`, ancestors),
    hasCause,
    hasCause ? prepare(err.cause, `${path}.cause`, ancestors) : undefined,
    props,
  );
}

function describeFn(fn: unknown): string {
  const name = (fn as { name?: string }).name;
  return name ? `function ${name}` : "anonymous function";
}
