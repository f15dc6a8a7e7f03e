/**
 * Actor options: defaults and validation.
 *
 * @module
 */
import type { ActorSettings } from "../protocol/mod.ts";
import { checkStrategy } from "./options.ts";

/** Options of `ray.remote(SomeClass, options)` and `.options()` (docs/API.md, "Actors"). */
export interface ActorOptions {
  /** Name to find the actor by with `ray.getActor`; unique per namespace. */
  name?: string;
  /** Namespace of the name (default: the one given to `init`, else "default"). */
  namespace?: string;
  /** `"detached"`: the actor outlives its creator's handles (until `ray.kill` or shutdown). */
  lifetime?: "detached";
  /** With a name already taken: return a handle to that actor instead of failing. */
  getIfExists?: boolean;
  /** Restarts after its worker dies (default 0, -1 = forever). */
  maxRestarts?: number;
  /** Retries of a call that was running when the worker died (default 0, -1 = forever). */
  maxTaskRetries?: number;
  /** Async calls running at once (default 1). */
  maxConcurrency?: number;
  /** CPUs the actor holds while alive (default 0). */
  numCpus?: number;
  /** Custom resources the actor holds while alive. */
  resources?: Record<string, number>;
  /** Where to place it in a cluster (and again after its node dies); one node: no effect. */
  schedulingStrategy?: "DEFAULT" | "SPREAD" | { nodeId: string; soft?: boolean };
  /**
   * Run in a worker thread shared with other actors that set it (default
   * false: a thread of its own). Cheap to create by the thousand; but a
   * method that blocks the thread (a busy loop, a sync wait) holds up the
   * other actors on it, they share the thread's globals, and if it dies
   * they all restart or die.
   */
  shareWorker?: boolean;
}

const DEFAULTS: ActorSettings = {
  detached: false,
  getIfExists: false,
  maxRestarts: 0,
  maxTaskRetries: 0,
  maxConcurrency: 1,
  numCpus: 0,
  resources: {},
};

const KNOWN = new Set([
  "name",
  "namespace",
  "lifetime",
  "getIfExists",
  "maxRestarts",
  "maxTaskRetries",
  "maxConcurrency",
  "numCpus",
  "resources",
  "schedulingStrategy",
  "shareWorker",
]);

function checkCount(name: string, v: unknown, min: number, forever = false): number {
  if (forever && v === -1) return -1;
  if (typeof v !== "number" || !Number.isInteger(v) || v < min) {
    const also = forever ? " (or -1 for forever)" : "";
    throw new RangeError(
      `Invalid option ${name}: expected an integer >= ${min}${also}, got ${String(v)}`,
    );
  }
  return v;
}

function checkName(name: string, v: unknown): string {
  if (typeof v !== "string" || v === "") {
    throw new TypeError(`Invalid option ${name}: expected a non-empty string, got ${String(v)}`);
  }
  return v;
}

function checkAmount(name: string, v: unknown): number {
  if (typeof v !== "number" || !(v >= 0)) {
    throw new RangeError(`Invalid option ${name}: expected a number >= 0, got ${String(v)}`);
  }
  return v;
}

/** Merges `partial` over `base` (or the defaults), checking every field. */
export function mergeActorOptions(
  base: ActorSettings | undefined,
  partial: ActorOptions = {},
): ActorSettings {
  if (typeof partial !== "object" || partial === null) {
    throw new TypeError(`Invalid options: expected an object, got ${String(partial)}`);
  }
  for (const key of Object.keys(partial)) {
    if (!KNOWN.has(key)) throw new TypeError(`Invalid options: unknown actor option "${key}"`);
  }
  const out = { ...(base ?? DEFAULTS) } as {
    -readonly [K in keyof ActorSettings]: ActorSettings[K];
  };
  const p = partial;
  if (p.name !== undefined) out.name = checkName("name", p.name);
  if (p.namespace !== undefined) out.namespace = checkName("namespace", p.namespace);
  if (p.lifetime !== undefined) {
    if (p.lifetime !== "detached") {
      throw new TypeError(
        `Invalid option lifetime: expected "detached", got ${String(p.lifetime)}`,
      );
    }
    out.detached = true;
  }
  if (p.getIfExists !== undefined) out.getIfExists = Boolean(p.getIfExists);
  if (p.maxRestarts !== undefined) {
    out.maxRestarts = checkCount("maxRestarts", p.maxRestarts, 0, true);
  }
  if (p.maxTaskRetries !== undefined) {
    out.maxTaskRetries = checkCount("maxTaskRetries", p.maxTaskRetries, 0, true);
  }
  if (p.maxConcurrency !== undefined) {
    out.maxConcurrency = checkCount("maxConcurrency", p.maxConcurrency, 1);
  }
  if (p.numCpus !== undefined) out.numCpus = checkAmount("numCpus", p.numCpus);
  if (p.resources !== undefined) {
    if (typeof p.resources !== "object" || p.resources === null) {
      throw new TypeError("Invalid option resources: expected an object of name -> amount");
    }
    for (const [k, v] of Object.entries(p.resources)) checkAmount(`resources.${k}`, v);
    out.resources = { ...p.resources };
  }
  if (p.shareWorker !== undefined) {
    if (typeof p.shareWorker !== "boolean") {
      throw new TypeError(`Invalid option shareWorker: expected a boolean, got ${p.shareWorker}`);
    }
    out.shareWorker = p.shareWorker;
  }
  if (p.schedulingStrategy !== undefined) {
    out.schedulingStrategy = checkStrategy(p.schedulingStrategy);
  }
  if (out.getIfExists && out.name === undefined) {
    throw new TypeError("Invalid options: getIfExists needs a name");
  }
  return out;
}
