/**
 * Typed ids. A task id is a per-thread prefix plus a counter; an object id
 * is its task id plus a return index, so re-running a task re-creates the
 * same object ids. In a cluster the first 8 hex of the prefix are the owner
 * tag of the process that made the id (every thread of a process shares it),
 * so any process can tell an object's owner from its id (`ownerTagOf`).
 *
 * @module
 */

/** Hex id of a task: 16 hex chars of prefix + 8 of counter. */
export type TaskId = string & { readonly __brand: "TaskId" };
/** Hex id of an object: its task id + 4 hex chars of index. */
export type ObjectId = string & { readonly __brand: "ObjectId" };
/** Hex id of a node. */
export type NodeId = string & { readonly __brand: "NodeId" };
/** Id of a worker within its node ("w1", "w2", ...). */
export type WorkerId = string & { readonly __brand: "WorkerId" };
/** Hex id of a job (one driver session). */
export type JobId = string & { readonly __brand: "JobId" };
/** Hex id of an actor (the id of the call that created it). */
export type ActorId = string & { readonly __brand: "ActorId" };

const TASK_ID_HEX = 24;
/** Hex chars of the owner tag at the start of every id. */
const OWNER_TAG_HEX = 8;
const INDEX_HEX = 4;
/** Return indexes at or above this mark `put` objects. */
const PUT_INDEX = 0xffff;

/** Random hex string of `bytes` bytes. */
export function randomHex(bytes: number): string {
  const buf = crypto.getRandomValues(new Uint8Array(bytes));
  let out = "";
  for (const b of buf) out += b.toString(16).padStart(2, "0");
  return out;
}

/** True when `tag` is an owner tag (8 lowercase hex chars). */
export function isOwnerTag(tag: unknown): tag is string {
  return typeof tag === "string" && tag.length === OWNER_TAG_HEX && /^[0-9a-f]+$/.test(tag);
}

/** The owner tag of a cluster-wide owner number (0 to 2^32 - 1). */
export function ownerTag(n: number): string {
  if (!Number.isInteger(n) || n < 0 || n > 0xffffffff) {
    throw new RangeError(`Invalid owner number: expected an integer in [0, 2^32), got ${n}`);
  }
  return n.toString(16).padStart(OWNER_TAG_HEX, "0");
}

/** The owner tag an object or task id carries (see IdFactory). */
export function ownerTagOf(id: ObjectId | TaskId): string {
  return id.slice(0, OWNER_TAG_HEX);
}

/**
 * Makes task ids unique to this thread: a prefix (the process's owner tag,
 * random when it has none, then 8 random hex) and a counter.
 */
export class IdFactory {
  /** The owner tag every id made here starts with. */
  readonly ownerTag: string;
  #prefix: string;
  #counter = 0;

  /** @throws TypeError when `ownerTag` is not 8 hex chars */
  constructor(ownerTag?: string) {
    if (ownerTag !== undefined && !isOwnerTag(ownerTag)) {
      throw new TypeError(
        `Invalid owner tag: expected 8 hex chars, got ${JSON.stringify(ownerTag)}`,
      );
    }
    this.ownerTag = ownerTag ?? randomHex(4);
    this.#prefix = this.ownerTag + randomHex(4);
  }

  /** A fresh task id. */
  nextTaskId(): TaskId {
    this.#counter = (this.#counter + 1) >>> 0;
    if (this.#counter === 0) this.#prefix = this.ownerTag + randomHex(4); // the tag stays
    return (this.#prefix + this.#counter.toString(16).padStart(8, "0")) as TaskId;
  }

  /** A fresh object id for `put`. */
  nextPutId(): ObjectId {
    return objectIdOf(this.nextTaskId(), PUT_INDEX);
  }
}

/** The id of return `index` of `taskId`. */
export function objectIdOf(taskId: TaskId, index: number): ObjectId {
  return (taskId + index.toString(16).padStart(INDEX_HEX, "0")) as ObjectId;
}

/** The task that creates `objectId`. */
export function taskIdOf(objectId: ObjectId): TaskId {
  return objectId.slice(0, TASK_ID_HEX) as TaskId;
}

/** True when `objectId` was made by `put` rather than by a task. */
export function isPutId(objectId: ObjectId): boolean {
  return parseInt(objectId.slice(TASK_ID_HEX), 16) === PUT_INDEX;
}

/** True when `s` has the shape of an object id. */
export function isObjectIdHex(s: string): s is ObjectId {
  return s.length === TASK_ID_HEX + INDEX_HEX && /^[0-9a-f]+$/.test(s);
}
