/**
 * The records of a caller's side of call links: one call, one link, one
 * waiter, and small helpers over them. Private to links/
 * (runtime/links/call_links.ts and ./owner_leases.ts use them).
 *
 * @module
 */
import type { ActorId, ObjectId, TaskId } from "../common/mod.ts";
import type { ObjectRef } from "../core/mod.ts";
import type { ActorCall, Frame, TaskSpec, ToWorker } from "../protocol/mod.ts";
import { LINK_RESULT } from "../protocol/mod.ts";
import type { Doorbell } from "../transport/mod.ts";
import type { CallLink, ResultVisitor } from "./call_link.ts";

/**
 * One call made through a link, and its result once it came. Its refs
 * point here (`ownedRef`), so a result lives as long as its refs do.
 */
export interface Call {
  readonly taskId: TaskId;
  readonly method: string;
  readonly args: Frame | ObjectId;
  readonly deps: readonly ObjectId[];
  readonly numReturns: number;
  readonly actorId: ActorId;
  attempt: number;
  /** PENDING, or how it ended (LINK_RESULT). */
  kind: number;
  returns: readonly Frame[];
  /** The single return when `kind` is LINK_RESULT.value. */
  value?: unknown;
  /** The call's refs, held until the result came (then they hold this, not the other way). */
  refs?: ObjectRef[];
  /** Returns (by index) that left this thread: sealed at the node when they come. */
  promised?: Set<number>;
  /** The link it was last written to, and its number there. */
  link?: Link;
  slot: number;
  /** Every object its arguments refer to (for a call sent through the node). */
  readonly argRefs: readonly ObjectId[];
  /** A task pushed to a leased worker (./owner_leases.ts): its spec. */
  spec?: TaskSpec;
  /** A leased task: the milliseconds its lease counted it for when pushed. */
  estimateMs?: number;
  /** Cancelled (failed already) while its worker may still run it: its result is dropped. */
  cancelled?: boolean;
  /** Handles released (`Symbol.dispose`) so far; at `numReturns`, its result is lost. */
  disposed?: number;
  /** Every handle was released: its result is dropped, and waits for it fail. */
  released?: boolean;
  /** When it was last written to a link (ms since the epoch; 0: not yet). */
  writtenAt: number;
  /** The task that made it (`""`: none), for its record. */
  readonly parent: string;
  /** What its record says so far: 0 nothing, 1 running, 2 how it ended (./_call_records.ts). */
  recorded: number;
}

/** What the owner of a lease (./owner_leases.ts) hears of the lease's link. */
export interface LeaseHooks {
  /** The node granted the lease: the link is read by a worker now. */
  granted(): void;
  /** A call of the lease has its result (`c.kind`), or came back unrun (LINK_RESULT.unrun). */
  ended(c: Call, kind: number): void;
  /** The worker is gone: the calls it had, each with whether it had taken it. */
  lost(calls: readonly (readonly [Call, boolean])[], msg: Unlinked): void;
}

/** The node's word that a link is gone. */
export type Unlinked = Extract<ToWorker, { type: "actorUnlinked" }>;

/** This thread's link to one actor (a new one after each restart of the actor's worker). */
export interface Link {
  readonly id: number;
  readonly actorId: ActorId;
  readonly channel: CallLink;
  /** The actor's channel, to ring its doorbell (once the node opened the link). */
  actor?: Doorbell;
  label: string;
  maxTaskRetries: number;
  seq: number;
  nextSlot: number;
  /** Calls written or to write, by slot, in order. */
  readonly pending: Map<number, Call>;
  /** Calls of this turn not written yet, then calls that did not fit (in order). */
  unsent: Call[];
  /** Handles one result read from the link. */
  readonly onResult: ResultVisitor;
  /** Returns the actor sealed at the node (pruned of those no ref here holds). */
  atNode: ObjectId[];
  /** A lease's link: its owner's hooks. */
  lease?: LeaseHooks;
  /** When the last result read from it came (calls on a link run in order). */
  lastEnd: number;
}

export interface Waiter {
  readonly calls: readonly Call[];
  readonly need: number;
  /** Index of the first call not known to be done (for gets). */
  next: number;
  done(err?: unknown): void;
}

/** `Call.kind` while no result came. */
export const PENDING = -1;
const NO_FRAMES: Frame[] = [];

/**
 * `Call.returns` of a call whose error was sealed at the node (too big for
 * the link): its kind is `atNode`, as for any result there, and its record
 * says failed, with the error's text (kept in `Call.value`).
 */
export const FAILED_AT_NODE: readonly Frame[] = Object.freeze([]);

/** What a `failedAtNode` result with this error text sets: kind, returns, value. */
export function failedAtNode(text: unknown): [number, Frame[], unknown] {
  return [LINK_RESULT.atNode, FAILED_AT_NODE as Frame[], text];
}

/** True when `c` failed, its error here (kind `failed`) or sealed at the node. */
export function callFailed(c: Call): boolean {
  return c.kind === LINK_RESULT.failed || c.returns === FAILED_AT_NODE;
}

/** The text of `c`'s error for the control store (see `callFailed`). */
export function callErrorText(c: Call, textOf: (f: Frame | undefined) => string | undefined) {
  return (c.returns === FAILED_AT_NODE ? String(c.value) : textOf(c.returns[0])) ?? "";
}

/** The record of `call` with these arguments, made by `parent` (`""`: none); no refs yet. */
export function newCall(
  call: ActorCall,
  args: Frame | ObjectId,
  deps: readonly ObjectId[],
  argRefs: readonly ObjectId[],
  parent: string,
): Call {
  return {
    taskId: call.taskId,
    method: call.method,
    args,
    deps,
    numReturns: call.numReturns,
    actorId: call.actorId,
    attempt: 0,
    kind: PENDING,
    returns: NO_FRAMES,
    slot: -1,
    argRefs,
    writtenAt: 0,
    parent,
    recorded: 0,
  };
}

/** Which return of its call `id` is. */
export function indexOf(c: Call, id: ObjectId): number {
  return c.numReturns === 1 ? 0 : parseInt(id.slice(id.length - 4), 16);
}

/** The same frame for every return of `c`. */
export function fill(c: Call, frame: Uint8Array): Frame[] {
  return new Array<Frame>(c.numReturns).fill(frame);
}

/** How many of `calls` are done, counting up to `atLeast`. */
export function countDone(calls: readonly Call[], atLeast: number): number {
  let n = 0;
  for (const c of calls) if (c.kind !== PENDING && ++n >= atLeast) break;
  return n;
}
