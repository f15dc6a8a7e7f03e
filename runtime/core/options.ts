/**
 * Remote function options: defaults and validation.
 *
 * @module
 */
import type { NodeId } from "../common/mod.ts";
import type { SchedulingStrategy, TaskOptions } from "../protocol/mod.ts";

/** Options of `ray.remote(fn, options)` and `.options()` (docs/API.md, "Remote functions"). */
export interface RemoteOptions {
  /** Refs returned per call (default 1). */
  numReturns?: number;
  /** CPUs the task holds (default 1, fractional allowed). */
  numCpus?: number;
  /** Custom resources the task holds. */
  resources?: Record<string, number>;
  /** Retries on worker or node death (default 3, -1 = forever). */
  maxRetries?: number;
  /** Retry when the task throws too. */
  retryExceptions?: boolean;
  /** Name shown in graph, timeline and dashboard. */
  name?: string;
  /** Where to place the task. */
  schedulingStrategy?: "DEFAULT" | "SPREAD" | { nodeId: string; soft?: boolean };
}

const DEFAULTS: TaskOptions = {
  numReturns: 1,
  numCpus: 1,
  resources: {},
  maxRetries: 3,
  retryExceptions: false,
  schedulingStrategy: "DEFAULT",
};

const KNOWN = new Set([
  "numReturns",
  "numCpus",
  "resources",
  "maxRetries",
  "retryExceptions",
  "name",
  "schedulingStrategy",
]);

function checkCount(name: string, v: unknown, min: number): number {
  if (typeof v !== "number" || !Number.isInteger(v) || v < min) {
    throw new RangeError(`Invalid option ${name}: expected an integer >= ${min}, got ${String(v)}`);
  }
  return v;
}

/** Merges `partial` over `base`, checking every field. */
export function mergeOptions(
  base: TaskOptions | undefined,
  partial: RemoteOptions = {},
): TaskOptions {
  if (typeof partial !== "object" || partial === null) {
    throw new TypeError(`Invalid options: expected an object, got ${String(partial)}`);
  }
  for (const key of Object.keys(partial)) {
    if (!KNOWN.has(key)) throw new TypeError(`Invalid options: unknown option "${key}"`);
  }
  const out = { ...(base ?? DEFAULTS) } as { -readonly [K in keyof TaskOptions]: TaskOptions[K] };
  if (partial.numReturns !== undefined) {
    out.numReturns = checkCount("numReturns", partial.numReturns, 1);
  }
  if (partial.numCpus !== undefined) {
    if (typeof partial.numCpus !== "number" || !(partial.numCpus >= 0)) {
      throw new RangeError(
        `Invalid option numCpus: expected a number >= 0, got ${String(partial.numCpus)}`,
      );
    }
    out.numCpus = partial.numCpus;
  }
  if (partial.maxRetries !== undefined) {
    out.maxRetries = partial.maxRetries === -1
      ? -1
      : checkCount("maxRetries", partial.maxRetries, 0);
  }
  if (partial.resources !== undefined) out.resources = checkResources(partial.resources);
  if (partial.retryExceptions !== undefined) out.retryExceptions = Boolean(partial.retryExceptions);
  if (partial.name !== undefined) out.name = String(partial.name);
  if (partial.schedulingStrategy !== undefined) {
    out.schedulingStrategy = checkStrategy(partial.schedulingStrategy);
  }
  return out;
}

function checkResources(r: Record<string, number>): Record<string, number> {
  if (typeof r !== "object" || r === null) {
    throw new TypeError("Invalid option resources: expected an object of name -> amount");
  }
  for (const [k, v] of Object.entries(r)) {
    if (typeof v !== "number" || !(v >= 0)) {
      throw new RangeError(
        `Invalid option resources.${k}: expected a number >= 0, got ${String(v)}`,
      );
    }
  }
  return { ...r };
}

/** Checks a `schedulingStrategy` option (of a task or an actor). */
export function checkStrategy(s: RemoteOptions["schedulingStrategy"]): SchedulingStrategy {
  if (s === "DEFAULT" || s === "SPREAD") return s;
  if (typeof s === "object" && s !== null && typeof s.nodeId === "string") {
    return { nodeId: s.nodeId as NodeId, soft: Boolean(s.soft) };
  }
  throw new TypeError(
    `Invalid option schedulingStrategy: expected "DEFAULT", "SPREAD" or { nodeId }, got ${
      String(s)
    }`,
  );
}
