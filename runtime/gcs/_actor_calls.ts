/**
 * The actor method calls the in-memory control store keeps: each
 * `actorCalls` event's flat rows as they came (no object per call), the
 * latest `max` calls that ended, and the calls still running by id. Records
 * are made when read. Private to gcs/ (./_memory_tables.ts owns one).
 *
 * @module
 */
import type { ActorId, JobId, NodeId, ObjectId, TaskId } from "../common/mod.ts";
import { objectIdOf } from "../common/mod.ts";
import type { ActorCallsRecorded, TaskState } from "./events.ts";
import type { ActorCallValue } from "../protocol/mod.ts";
import {
  ACTOR_CALL as F,
  ACTOR_CALL_STRIDE as STRIDE,
  runIndexOf,
  runTaskId,
  runTimes,
} from "../protocol/mod.ts";
import type { ActorRecord, TaskRecord } from "./records.ts";

/** One event's calls, as kept. */
interface Batch {
  readonly jobId?: JobId;
  readonly calls: readonly ActorCallValue[];
}

/** A call's place: its batch's calls, its record's first value there, its place in the run. */
interface At {
  readonly jobId?: JobId;
  readonly calls: readonly ActorCallValue[];
  readonly i: number;
  readonly k: number;
}

/** How a call counts: by state, and by its display name. */
export interface CallCounts {
  /** `by` calls entered `state` (negative: left it), named `name`. */
  count(name: string, state: TaskState, by: number): void;
}

/** The actor calls of one in-memory store. */
export class ActorCallLog {
  readonly #max: number;
  readonly #actors: ReadonlyMap<ActorId, ActorRecord>;
  /** Batches of ended calls (running ones are left out), oldest first. */
  #batches: Batch[] = [];
  #head = 0;
  /** Ended calls in `#batches` from `#head` on. */
  #size = 0;
  /** Calls recorded as running whose end did not come yet. */
  readonly #running = new Map<TaskId, At>();
  /** Ended calls dropped beyond the cap. */
  evicted = 0;

  /**
   * @param max ended calls kept (the oldest batches go beyond it)
   * @param actors the store's actors (a call's name, node and worker come from its actor when read)
   */
  constructor(max: number, actors: ReadonlyMap<ActorId, ActorRecord>) {
    this.#max = max;
    this.#actors = actors;
  }

  /** Calls kept: ended within the cap, and running. */
  get size(): number {
    return this.#size + this.#running.size;
  }

  /** Keeps the calls of `e` and counts them. */
  add(e: ActorCallsRecorded, counts: CallCounts): void {
    const calls = e.calls;
    let ended = 0;
    // Calls in a row of one class, method and state count at once (no name made per call).
    let cls: string | undefined, method = "", state: TaskState = "finished", n = 0;
    let actorId: unknown, c: string | undefined;
    for (let i = 0; i + STRIDE <= calls.length; i += STRIDE) {
      const taskId = calls[i + F.taskId] as TaskId;
      const s = calls[i + F.state] as TaskState;
      if (calls[i + F.actorId] !== actorId) {
        actorId = calls[i + F.actorId];
        c = this.#actors.get(actorId as ActorId)?.className;
      }
      const m = calls[i + F.method] as string;
      const was = this.#running.size > 0 ? this.#running.get(taskId) : undefined;
      if (s === "running") {
        if (was || this.#ended(taskId, calls[i + F.startedAt] as number)) continue;
        this.#running.set(taskId, { jobId: e.jobId, calls, i, k: 0 });
      } else {
        ended += calls[i + F.count] as number;
        if (was) {
          this.#running.delete(taskId);
          counts.count(nameOf(c, m), "running", -1);
        }
      }
      const count = calls[i + F.count] as number;
      if (n > 0 && c === cls && m === method && s === state) {
        n += count;
        continue;
      }
      if (n > 0) counts.count(nameOf(cls, method), state, n);
      cls = c;
      method = m;
      state = s;
      n = count;
    }
    if (n > 0) counts.count(nameOf(cls, method), state, n);
    if (ended === 0) return;
    this.#batches.push({ jobId: e.jobId, calls });
    this.#size += ended;
    this.#evict();
  }

  /**
   * True when call `id`, started at `since`, already ended (a running record
   * that comes late, as a replay: looks only at batches that ended since).
   */
  #ended(id: TaskId, since: number): boolean {
    for (let b = this.#batches.length - 1; b >= this.#head; b--) {
      const calls = this.#batches[b].calls;
      let first = Infinity;
      for (let i = calls.length - STRIDE; i >= 0; i -= STRIDE) {
        if (calls[i + F.state] === "running") continue;
        if (runIndexOf(calls, i, id) >= 0) return true;
        first = calls[i + F.endedAt] as number;
      }
      if (first < since) return false;
    }
    return false;
  }

  /** The record of call `id`, if kept. */
  get(id: TaskId): TaskRecord | undefined {
    const running = this.#running.get(id);
    if (running) return this.#record(running);
    for (let b = this.#batches.length - 1; b >= this.#head; b--) {
      const { jobId, calls } = this.#batches[b];
      for (let i = calls.length - STRIDE; i >= 0; i -= STRIDE) {
        if (calls[i + F.state] === "running") continue;
        const k = runIndexOf(calls, i, id);
        if (k >= 0) return this.#record({ jobId, calls, i, k });
      }
    }
    return undefined;
  }

  /**
   * The records of the calls that pass `keep`, newest first (by when they
   * entered their state), at most `limit`.
   */
  list(
    keep: (state: TaskState, jobId: JobId | undefined, nodeId: NodeId | undefined) => boolean,
    limit: number,
  ): TaskRecord[] {
    const found: At[] = [];
    const pass = (jobId: JobId | undefined, calls: readonly ActorCallValue[], i: number) => {
      const state = calls[i + F.state] as TaskState;
      const actor = this.#actors.get(calls[i + F.actorId] as ActorId);
      return keep(state, actor?.jobId ?? jobId, actor?.nodeId);
    };
    for (const at of this.#running.values()) if (pass(at.jobId, at.calls, at.i)) found.push(at);
    let ended = 0;
    for (let b = this.#batches.length - 1; b >= this.#head && ended < limit; b--) {
      const { jobId, calls } = this.#batches[b];
      for (let i = calls.length - STRIDE; i >= 0 && ended < limit; i -= STRIDE) {
        if (calls[i + F.state] === "running" || !pass(jobId, calls, i)) continue;
        for (let k = (calls[i + F.count] as number) - 1; k >= 0 && ended < limit; k--) {
          found.push({ jobId, calls, i, k });
          ended++;
        }
      }
    }
    const time = (at: At) => {
      const [start, end] = runTimes(at.calls, at.i, at.k);
      return at.calls[at.i + F.state] === "running" ? start : end;
    };
    found.sort((a, b) => time(b) - time(a));
    return found.slice(0, limit).map((at) => this.#record(at));
  }

  #evict(): void {
    while (this.#size > this.#max && this.#head < this.#batches.length) {
      const { calls } = this.#batches[this.#head];
      this.#batches[this.#head++] = undefined as never;
      let n = 0;
      for (let i = 0; i < calls.length; i += STRIDE) {
        if (calls[i + F.state] !== "running") n += calls[i + F.count] as number;
      }
      this.#size -= n;
      this.evicted += n;
    }
    if (this.#head > 1024 && this.#head * 2 > this.#batches.length) {
      this.#batches = this.#batches.slice(this.#head);
      this.#head = 0;
    }
  }

  /** The record of the call at `at`, as every store reads it. */
  #record(at: At): TaskRecord {
    const actor = this.#actors.get(at.calls[at.i + F.actorId] as ActorId);
    return actorCallRecord(at.calls, at.i, at.k, at.jobId, actor);
  }
}

/** A call's display name: `Class.method`. */
function nameOf(className: string | undefined, method: unknown): string {
  return `${className ?? "Actor"}.${method}`;
}

/**
 * The task record of call `k` of the record at `i` of an `actorCalls`
 * event's `calls`: named `Class.method`, on its actor's node and worker.
 *
 * @param calls the event's flat records
 * @param i the record's first value
 * @param k the call's place in the record's run (0 for a record of one call)
 * @param jobId the event's job (the call's, unless its actor has one: calls belong to their
 *   actor's job, so a driver sees its actors' calls when another node records them)
 * @param actor the call's actor, when known (its class, job, node and worker)
 */
export function actorCallRecord(
  calls: readonly ActorCallValue[],
  i: number,
  k: number,
  jobId: JobId | undefined,
  actor: Pick<ActorRecord, "className" | "jobId" | "nodeId" | "workerId"> | undefined,
): TaskRecord {
  const taskId = runTaskId(calls, i, k);
  const state = calls[i + F.state] as TaskState;
  const submittedAt = calls[i + F.submittedAt] as number;
  const [startedAt, end] = runTimes(calls, i, k);
  const numReturns = calls[i + F.numReturns] as number;
  const history = [{ state: "submitted" as TaskState, ts: submittedAt }, {
    state: "running" as TaskState,
    ts: startedAt,
  }];
  if (state !== "running") history.push({ state, ts: end });
  const record: TaskRecord = {
    taskId,
    jobId: actor?.jobId ?? jobId,
    name: nameOf(actor?.className, calls[i + F.method]),
    actorId: calls[i + F.actorId] as ActorId,
    state,
    history,
    submittedAt,
    updatedAt: state === "running" ? startedAt : end,
    nodeId: actor?.nodeId,
    workerId: actor?.workerId,
    attempt: calls[i + F.attempt] as number,
    deps: [...calls[i + F.deps] as readonly ObjectId[]],
    returns: Array.from({ length: numReturns }, (_, r) => objectIdOf(taskId, r)),
    pinned: false,
  };
  if (state !== "running") record.endedAt = end;
  if (calls[i + F.parentTaskId] !== "") record.parentTaskId = calls[i + F.parentTaskId] as TaskId;
  if (calls[i + F.error] !== "") record.error = calls[i + F.error] as string;
  for (const f of ["jobId", "nodeId", "workerId"] as const) {
    if (record[f] === undefined) delete record[f];
  }
  return record;
}
