/**
 * What a task is: the function to run, its arguments, what it asks for.
 *
 * @module
 */
import type { JobId, NodeId, ObjectId, TaskId } from "../common/mod.ts";

/** Where an object's bytes are: inline, or a range of the node's shared store. */
export type Frame = Uint8Array | { readonly offset: number; readonly size: number };

/** Names a remote function: the module that declares it and its key there. */
export interface FunctionDescriptor {
  /** URL of the declaring module, imported by workers ("" when shipped as source). */
  readonly moduleUrl: string;
  /** Unique within the module: `name#n` for the n-th function of that name. */
  readonly key: string;
  /** Display name (function name or `options.name`). */
  readonly name: string;
  /** Source text, only for functions that no module declares (eval, REPL). */
  readonly source?: string;
}

/** Scheduling strategy of a task (see docs/API.md, "Remote functions"). */
export type SchedulingStrategy = "DEFAULT" | "SPREAD" | { nodeId: NodeId; soft?: boolean };

/** Per-call options that reach the scheduler. */
export interface TaskOptions {
  readonly numReturns: number;
  readonly numCpus: number;
  readonly resources: Readonly<Record<string, number>>;
  readonly maxRetries: number;
  readonly retryExceptions: boolean;
  readonly name?: string;
  readonly schedulingStrategy: SchedulingStrategy;
}

/** A task as the scheduler sees it. */
export interface TaskSpec {
  readonly taskId: TaskId;
  readonly fn: FunctionDescriptor;
  /**
   * Frame of the argument array (top-level refs in it are still refs), or,
   * when it is big, the id of the object holding that frame (also in `deps`).
   */
  readonly args: Frame | ObjectId;
  /** Ids of the top-level ref arguments, which must exist before the task runs. */
  readonly deps: readonly ObjectId[];
  /** Every object the arguments refer to, at any depth: held until the task is done. */
  readonly argRefs: readonly ObjectId[];
  readonly options: TaskOptions;
  /** The task that submitted this one (absent for the driver). */
  readonly parentTaskId?: TaskId;
  /**
   * The submitting driver's job, when it is not the running node's (a
   * cluster: set where a driver's task leaves it, kept by nested tasks).
   */
  readonly jobId?: JobId;
  /** Retry number, 0 for the first run. */
  attempt: number;
}

/** What a thread tells the node about an object: 0 hold, 1 release, 2 unpin a fetched frame. */
export type RefOp = readonly [kind: 0 | 1 | 2, id: ObjectId];

/**
 * The keys `fnKeyOf` made, by function key: one string per function, not
 * one per task (a queued task's records and scheduler entry keep theirs).
 * Descriptors that came by message are copies, so the cache is not keyed by
 * the descriptor object.
 */
const fnKeys = new Map<string, { readonly moduleUrl: string; readonly fnKey: string }>();
/** Functions remembered by `fnKeys` before it starts over. */
const FN_KEYS_MAX = 4096;

/** A string naming a function uniquely in a job: its module and key, or its shipped source. */
export function fnKeyOf(fn: FunctionDescriptor): string {
  if (fn.source !== undefined) return `source:${fn.source}`;
  const known = fnKeys.get(fn.key);
  if (known !== undefined && known.moduleUrl === fn.moduleUrl) return known.fnKey;
  const fnKey = `${fn.moduleUrl}#${fn.key}`;
  if (fnKeys.size >= FN_KEYS_MAX) fnKeys.clear();
  fnKeys.set(fn.key, { moduleUrl: fn.moduleUrl, fnKey });
  return fnKey;
}

/** Display name of a task. */
export function taskName(spec: TaskSpec): string {
  return spec.options.name ?? spec.fn.name;
}
