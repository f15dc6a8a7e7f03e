/**
 * Actors on the wire: what creates an actor, what calls its methods, and the
 * messages between the node's main thread and workers that carry them.
 *
 * @module
 */
import type { ActorId, JobId, ObjectId, TaskId } from "../common/mod.ts";
import type { Frame, FunctionDescriptor, SchedulingStrategy, TaskOptions } from "./task_spec.ts";

/** An actor's options after defaults and checks (see `ActorOptions` in runtime/core). */
export interface ActorSettings {
  readonly name?: string;
  readonly namespace?: string;
  readonly detached: boolean;
  readonly getIfExists: boolean;
  /** Restarts after its worker dies (-1 = forever). */
  readonly maxRestarts: number;
  /** Retries of a call in flight when the worker died (-1 = forever). */
  readonly maxTaskRetries: number;
  /** Calls running at once (async methods interleave). */
  readonly maxConcurrency: number;
  /** CPUs held while the actor lives. */
  readonly numCpus: number;
  readonly resources: Readonly<Record<string, number>>;
  /** Where a cluster places it (absent: `"DEFAULT"`). */
  readonly schedulingStrategy?: SchedulingStrategy;
  /** Runs in a worker shared with other actors that share (absent: a worker of its own). */
  readonly shareWorker?: boolean;
}

/** What a handle needs to call an actor: its id, its class and the class's method names. */
export interface ActorEntry {
  readonly actorId: ActorId;
  readonly cls: FunctionDescriptor;
  readonly methods: readonly string[];
}

/** Creates an actor: its class, constructor arguments and options. */
export interface ActorCreateSpec extends ActorEntry {
  /** Frame of the constructor's argument array, or the id of the object holding it (in `deps`). */
  readonly args: Frame | ObjectId;
  /** Ids of the top-level ref arguments. */
  readonly deps: readonly ObjectId[];
  /** Every object the arguments refer to, at any depth. */
  readonly argRefs: readonly ObjectId[];
  readonly settings: ActorSettings;
  /** The creating driver's job, when it is not the hosting node's (see TaskSpec.jobId). */
  readonly jobId?: JobId;
  /** Restarts it had on other nodes (a cluster restarts it after its node died): it starts RESTARTING. */
  readonly restarts?: number;
}

/** One method call; its returns are `objectIdOf(taskId, i)`, as for tasks. */
export interface ActorCall {
  readonly taskId: TaskId;
  readonly actorId: ActorId;
  readonly method: string;
  /** Frame of the argument array, or the id of the object holding it (in `deps`). */
  readonly args: Frame | ObjectId;
  readonly deps: readonly ObjectId[];
  readonly argRefs: readonly ObjectId[];
  readonly numReturns: number;
  /** The task that made it, when it travels to its actor through nodes (for its record). */
  readonly parentTaskId?: TaskId;
}

/**
 * A call as the actor's worker runs it (read from a call link), with one
 * frame per `deps` entry once they were fetched.
 */
export type RunActorCall = readonly [
  taskId: TaskId,
  method: string,
  args: Frame | ObjectId,
  numReturns: number,
  deps: readonly ObjectId[],
  depFrames: readonly Frame[],
  /** The call's number on its link, which its result names (cheaper to look up than an id). */
  slot: number,
];

/** What the actor's worker reports for a call. */
export type ActorResult = readonly [
  /** The call's `slot`. */
  slot: number,
  /** One frame per return; all error frames when the method threw. */
  returns: readonly Frame[],
  failed: boolean,
  /** Per return, the ids of refs inside it (absent when none has any). */
  contained?: readonly (readonly ObjectId[])[],
  /** The single return when `returns` is VALUE_RETURNS. */
  value?: unknown,
];

/**
 * How a call made through a call link ended (see runtime/links/call_link.ts):
 * its return frames, an error frame per return, sealed at the node by the
 * actor (big or ref-holding returns: the caller gets them from the node),
 * or one primitive value that travels as it is (no frame is encoded or
 * decoded: undefined, null, a boolean, a number or a short string); `unrun`:
 * a leased worker hands back a task it did not start (the task before it
 * blocked in get), for the caller to push elsewhere; `failedAtNode`: an
 * error too big for the link, sealed at the node like `atNode`, the value
 * being its text for the control store's record.
 */
export const LINK_RESULT = {
  ok: 0,
  failed: 1,
  atNode: 2,
  value: 3,
  unrun: 4,
  failedAtNode: 5,
} as const;

/** The result of a linked call: its slot, how it ended (LINK_RESULT), its return frames or value. */
export type LinkResult = readonly [
  slot: number,
  kind: number,
  returns: readonly Frame[],
  value?: unknown,
];

/** Longest string a linked call returns as a value rather than a frame. */
export const LINK_VALUE_MAX_CHARS = 1024;

/** True when `v` travels back from a linked call as a value (LINK_RESULT.value). */
export function isLinkValue(v: unknown): boolean {
  const t = typeof v;
  return v === undefined || v === null || t === "number" || t === "boolean" ||
    (t === "string" && (v as string).length <= LINK_VALUE_MAX_CHARS);
}

/** The `returns` of an ActorResult whose single return is its `value`. */
export const VALUE_RETURNS: readonly Frame[] = Object.freeze([]);

/** Main thread to worker, about actors. */
export type ActorToWorker =
  /**
   * Become this actor: construct it (reply "actorCreated"), then run the
   * calls of its callers' links; callers ring `bell` (a Doorbell).
   */
  | {
    readonly type: "actorStart";
    readonly spec: ActorCreateSpec;
    readonly depFrames: readonly Frame[];
    readonly bell: SharedArrayBuffer;
  }
  /**
   * To an actor: a caller's link (`linkId` unique on the node), to read calls from once opened.
   * `actorId` names the actor in a worker shared by several (see ActorSettings.shareWorker).
   */
  | {
    readonly type: "callerLink";
    readonly actorId: ActorId;
    readonly linkId: string;
    readonly link: SharedArrayBuffer;
    readonly bell: SharedArrayBuffer;
  }
  /** To an actor: that caller is gone; drop its link. */
  | { readonly type: "callerGone"; readonly actorId: ActorId; readonly linkId: string }
  /** To an actor: no handle remains; answer "actorIdle" once every link is empty and nothing runs. */
  | { readonly type: "actorRetire"; readonly actorId: ActorId }
  /**
   * To a worker shared by several actors: this one is over (dead, or to
   * restart elsewhere): drop it and its links; the others go on.
   */
  | { readonly type: "actorStop"; readonly actorId: ActorId }
  /** To a caller: its link is open; the actor's doorbell (to ring) and its retry budget. */
  | {
    readonly type: "actorLinked";
    readonly linkId: number;
    readonly actorBell: SharedArrayBuffer;
    /** Where the doorbell's two words are in `actorBell` (a leased worker's: in its task channel). */
    readonly bellOffset?: number;
    readonly maxTaskRetries: number;
    readonly label: string;
  }
  /**
   * To a caller: the actor's worker is gone, so is the link. `death` (an
   * error frame) when the actor is dead for good, else it restarts.
   */
  | {
    readonly type: "actorUnlinked";
    readonly linkId: number;
    readonly label: string;
    readonly why: string;
    readonly maxTaskRetries: number;
    readonly death?: Uint8Array;
    /** The actor lives on another node: send its calls through the node (actorCallViaNode). */
    readonly remote?: boolean;
  }
  /** Reply to "actorKill" or "actorLookup". */
  | { readonly type: "actorAnswer"; readonly reqId: number; readonly entry?: ActorEntry }
  /**
   * To a pool worker: a caller leased it (runtime/links/owner_leases.ts);
   * run the tasks it writes to `link` as the lease `leaseTaskId`, one at a
   * time, until "leaseClose".
   */
  | {
    readonly type: "leaseOpen";
    readonly linkId: string;
    readonly leaseTaskId: TaskId;
    readonly link: SharedArrayBuffer;
    readonly bell: SharedArrayBuffer;
  }
  /** To a caller: give lease `linkId` back soon (others wait for what it holds). */
  | { readonly type: "leaseRevoke"; readonly linkId: number }
  /** To a pool worker: the lease ended (returned, or its caller is gone). */
  | { readonly type: "leaseClose"; readonly linkId: string };

/** Worker to main thread, about actors. */
export type ActorFromWorker =
  /** Create an actor (from `.remote()` on an actor class in a task). */
  | { readonly type: "actorCreate"; readonly spec: ActorCreateSpec }
  /** Method calls made by this worker, in submission order. */
  | {
    readonly type: "actorKill";
    readonly reqId: number;
    readonly actorId: ActorId;
    readonly noRestart: boolean;
  }
  | {
    readonly type: "actorLookup";
    readonly reqId: number;
    readonly name: string;
    readonly namespace?: string;
  }
  /** The actor's constructor finished; `error` is its error frame when it threw. */
  | { readonly type: "actorCreated"; readonly actorId: ActorId; readonly error?: Frame }
  /** From a caller: it writes its calls to `actorId` into `link` from now on (results come back through it). */
  | {
    readonly type: "actorLink";
    readonly actorId: ActorId;
    readonly linkId: number;
    readonly link: SharedArrayBuffer;
    readonly bell: SharedArrayBuffer;
  }
  /** A call of an actor on another node, sent through this node (its results come to the node). */
  | { readonly type: "actorCallViaNode"; readonly call: ActorCall }
  /**
   * From a caller: lease a pool worker for tasks of this shape (`options`'
   * CPUs and resources); once granted, the caller writes tasks to `link`
   * (answered by "actorLinked", or "actorUnlinked" with a death when no
   * worker can ever fit the shape).
   */
  | {
    readonly type: "leaseRequest";
    readonly linkId: number;
    readonly options: TaskOptions;
    /** The task it is asked for first (named by the error of a shape no node fits). */
    readonly name: string;
    readonly link: SharedArrayBuffer;
    readonly bell: SharedArrayBuffer;
  }
  /**
   * From a caller: it gives lease `linkId` back. `draining`: tasks of it may
   * still run on the worker (the caller hears if the worker dies, until it
   * says "leaseDrained").
   */
  | { readonly type: "leaseReturn"; readonly linkId: number; readonly draining?: boolean }
  /** From a caller: every task of returned lease `linkId` came back. */
  | { readonly type: "leaseDrained"; readonly linkId: number }
  /** From a caller: cancel task `taskId` it pushed to lease `linkId` (`force`: end the worker). */
  | {
    readonly type: "leaseCancel";
    readonly linkId: number;
    readonly taskId: TaskId;
    readonly force: boolean;
    /** The task's name (for the warning if its worker is replaced). */
    readonly name: string;
    /** Cancel the leased tasks it submitted too. */
    readonly recursive: boolean;
  }
  /** From an actor: it was asked to retire and nothing waits in its links or runs. */
  | { readonly type: "actorIdle"; readonly actorId: ActorId }
  /**
   * From an actor (`actorId`) or a leased worker (none): a caller's link held
   * garbage; it dropped the link (the caller re-sends on a new one).
   */
  | {
    readonly type: "actorLinkBroken";
    readonly actorId?: ActorId;
    readonly linkId: string;
    readonly why: string;
  };
