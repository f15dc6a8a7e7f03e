/**
 * What can be kept of a value that cannot be serialized whole (a thrown
 * value with a cycle, a symbol, a function, a cause nested too deep, a
 * getter that throws): a copy in which each part that cannot be stored is
 * replaced by a SerializationError saying what it was and where. Errors keep
 * their name, message, stack and the properties that can be kept.
 *
 * @module
 */
import { notSerializable, SerializationError } from "../common/mod.ts";
import { MAX_NESTING_DEPTH, prepare } from "./_prepare.ts";

/** Nesting kept in a salvaged copy (a cause chain, say): what is deeper is replaced. */
export const KEEP_DEPTH = Math.min(100, MAX_NESTING_DEPTH);

/** A salvaged copy and what was replaced in it (one line each). */
export interface Salvaged {
  readonly value: unknown;
  readonly replaced: string[];
}

/**
 * A copy of `value` that serializes: each part that cannot is replaced by a
 * SerializationError naming it (`path` is where `value` sits). Never throws.
 */
export function salvage(value: unknown, path: string): Salvaged {
  const replaced: string[] = [];
  return { value: keep(value, path, new Set(), replaced), replaced };
}

function keep(value: unknown, path: string, ancestors: Set<object>, replaced: string[]): unknown {
  const bad = (what: string) => {
    const err = notSerializable(what, shortPath(path));
    replaced.push(err.message);
    return err;
  };
  switch (typeof value) {
    case "function":
      return bad(`functions are not serializable (${safeText(() => describeFn(value))})`);
    case "symbol":
      return bad(`symbols are not serializable (${safeText(() => String(value))})`);
    case "object":
      break;
    default:
      return value;
  }
  if (value === null) return value;
  const obj = value as object;
  if (ancestors.has(obj)) return bad("cycles are not supported");
  if (ancestors.size >= KEEP_DEPTH) {
    return bad(`values nested more than ${KEEP_DEPTH} levels deep are not kept`);
  }
  ancestors.add(obj);
  try {
    return keepObject(obj, path, ancestors, replaced);
  } catch (err) {
    return bad(`it could not be read (${safeText(() => String(err))})`);
  } finally {
    ancestors.delete(obj);
  }
}

function keepObject(
  obj: object,
  path: string,
  ancestors: Set<object>,
  replaced: string[],
): unknown {
  if (obj instanceof Error) return keepError(obj, path, ancestors, replaced);
  if (Array.isArray(obj)) {
    return Array.from(obj, (v, i) => keep(v, `${path}[${i}]`, ancestors, replaced));
  }
  if (obj instanceof Map) {
    const map = new Map();
    let i = 0;
    for (const [k, v] of obj) {
      map.set(
        keep(k, `${path}<Map key ${i}>`, ancestors, replaced),
        keep(v, `${path}<Map value ${i}>`, ancestors, replaced),
      );
      i++;
    }
    return map;
  }
  if (obj instanceof Set) {
    const set = new Set();
    for (const v of obj) set.add(keep(v, `${path}<Set item ${set.size}>`, ancestors, replaced));
    return set;
  }
  const proto = Object.getPrototypeOf(obj);
  if (proto !== Object.prototype && proto !== null) {
    // A leaf the codec knows (typed array, Date, ObjectRef, ...) is kept as is.
    try {
      prepare(obj, path, new Set());
      return obj;
    } catch (err) {
      const what = err instanceof SerializationError
        ? err.message.replace(/^Cannot serialize value: /, "").replace(/ \(at [^]*\)$/, "")
        : safeText(() => String(err));
      const bad = notSerializable(what, shortPath(path));
      replaced.push(bad.message);
      return bad;
    }
  }
  const copy: Record<string, unknown> = {};
  for (const key of Object.keys(obj)) {
    const v = keepProperty(obj, key, path, ancestors, replaced);
    Object.defineProperty(copy, key, { value: v, enumerable: true, writable: true });
  }
  return copy;
}

function keepError(err: Error, path: string, ancestors: Set<object>, replaced: string[]): Error {
  const copy = new Error(safeText(() => String(err.message)));
  const name = safeText(() => String(err.name));
  Object.defineProperty(copy, "name", { value: name, writable: true, configurable: true });
  const stack = safeText(() => err.stack === undefined ? "" : String(err.stack));
  Object.defineProperty(copy, "stack", {
    value: stack === "" ? undefined : stack,
    writable: true,
    configurable: true,
  });
  if (Object.hasOwn(err, "cause")) {
    copy.cause = keepProperty(err, "cause", path, ancestors, replaced);
  }
  for (const key of Object.keys(err)) {
    if (key === "cause" || key === "stack" || key === "message" || key === "name") continue;
    (copy as unknown as Record<string, unknown>)[key] = keepProperty(
      err,
      key,
      path,
      ancestors,
      replaced,
    );
  }
  return copy;
}

function keepProperty(
  obj: object,
  key: string,
  path: string,
  ancestors: Set<object>,
  replaced: string[],
): unknown {
  const at = /^[A-Za-z_$][\w$]*$/.test(key) ? `${path}.${key}` : `${path}[${JSON.stringify(key)}]`;
  let v: unknown;
  try {
    v = (obj as Record<string, unknown>)[key];
  } catch (err) {
    const bad = notSerializable(`reading it threw ${safeText(() => String(err))}`, shortPath(at));
    replaced.push(bad.message);
    return bad;
  }
  return keep(v, at, ancestors, replaced);
}

/** A path cut to its start and end. */
function shortPath(path: string): string {
  return path.length <= 80 ? path : `${path.slice(0, 40)}...${path.slice(-30)}`;
}

/** `text()`, or a note that it threw. */
function safeText(text: () => string): string {
  try {
    return text();
  } catch {
    return "(cannot be printed)";
  }
}

function describeFn(fn: unknown): string {
  const name = (fn as { name?: string }).name;
  return name ? `function ${name}` : "anonymous function";
}
