/**
 * Typed ids. A task id is a per-process random prefix plus a counter; an
 * object id is its task id plus a return index, so re-running a task
 * re-creates the same object ids.
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

/** Makes task ids unique to this thread: a random prefix and a counter. */
export class IdFactory {
  #prefix = randomHex(8);
  #counter = 0;

  /** A fresh task id. */
  nextTaskId(): TaskId {
    this.#counter = (this.#counter + 1) >>> 0;
    if (this.#counter === 0) this.#prefix = randomHex(8);
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
