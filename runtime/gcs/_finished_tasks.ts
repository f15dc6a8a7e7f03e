/**
 * The capped history of the in-memory store: its final, unpinned tasks,
 * oldest first, kept in columns (one array per field, every history in one
 * flat array) instead of a record object each. A task's record object
 * (about 180 bytes, and its history array) lived as long as the last
 * `maxFinishedTasks` tasks, long enough for V8 to promote it to its old
 * generation and collect it there; a column entry allocates nothing of its
 * own. The store's task map holds an entry's sequence number; `row` makes
 * the task's row again (to read it, or when it changes: a retry, a late
 * submission, a pin). Private to gcs/ (./_memory_tables.ts owns one).
 *
 * @module
 */
import type { JobId, NodeId, ObjectId, TaskId, WorkerId } from "../common/mod.ts";
import type { TaskOptions } from "../protocol/mod.ts";
import type { TaskState } from "./events.ts";
import type { TaskRow } from "./_memory_tables.ts";

/** Entries dropped from the front before the columns are sliced. */
const COMPACT_AFTER = 1024;

/** Final, unpinned tasks in columns, oldest first. */
export class FinishedTasks {
  /** The sequence number of column index 0. */
  #seq0 = 0;
  /** The column index of the oldest entry. */
  #head = 0;
  #live = 0;
  #taskId: (TaskId | undefined)[] = [];
  #jobId: (JobId | undefined)[] = [];
  #name: string[] = [];
  #moduleUrl: (string | undefined)[] = [];
  #fnKey: (string | undefined)[] = [];
  #state: TaskState[] = [];
  /** submittedAt (NaN: none), updatedAt and endedAt (NaN: none), three per entry. */
  #times: number[] = [];
  #nodeId: (NodeId | undefined)[] = [];
  #workerId: (WorkerId | undefined)[] = [];
  #parentTaskId: (TaskId | undefined)[] = [];
  #attempt: number[] = [];
  #deps: ObjectId[][] = [];
  #options: (TaskOptions | undefined)[] = [];
  #error: (string | undefined)[] = [];
  /** Every entry's flat history, one after the other; `#histAt[i]` is where entry i's starts. */
  #hist: (TaskState | number)[] = [];
  #histAt: number[] = [];

  /** Tasks kept. */
  get live(): number {
    return this.#live;
  }

  /** Keeps `row` (final, unpinned, its `args` dropped) as the newest; returns its sequence number. */
  add(row: TaskRow): number {
    const seq = this.#seq0 + this.#taskId.length;
    this.#taskId.push(row.taskId);
    this.#jobId.push(row.jobId);
    this.#name.push(row.name);
    this.#moduleUrl.push(row.moduleUrl);
    this.#fnKey.push(row.fnKey);
    this.#state.push(row.state);
    this.#times.push(row.submittedAt ?? NaN, row.updatedAt, row.endedAt ?? NaN);
    this.#nodeId.push(row.nodeId);
    this.#workerId.push(row.workerId);
    this.#parentTaskId.push(row.parentTaskId);
    this.#attempt.push(row.attempt);
    this.#deps.push(row.deps);
    this.#options.push(row.options);
    this.#error.push(row.error);
    this.#histAt.push(this.#hist.length);
    for (const x of row.history) this.#hist.push(x);
    this.#live++;
    return seq;
  }

  /** The state of entry `seq`. */
  state(seq: number): TaskState {
    return this.#state[seq - this.#seq0];
  }

  /** When entry `seq` entered its state. */
  updatedAt(seq: number): number {
    return this.#times[3 * (seq - this.#seq0) + 1];
  }

  /** The job of entry `seq`. */
  jobId(seq: number): JobId | undefined {
    return this.#jobId[seq - this.#seq0];
  }

  /** The node of entry `seq`. */
  nodeId(seq: number): NodeId | undefined {
    return this.#nodeId[seq - this.#seq0];
  }

  /** The row of entry `seq`, made for a reader (the entry stays). */
  row(seq: number): TaskRow {
    const i = seq - this.#seq0;
    const t = 3 * i;
    const end = i + 1 < this.#histAt.length ? this.#histAt[i + 1] : this.#hist.length;
    const submittedAt = this.#times[t];
    const endedAt = this.#times[t + 2];
    // Every field, in the order of newTask's (./_memory_tables.ts): rows share one shape.
    return {
      taskId: this.#taskId[i]!,
      jobId: this.#jobId[i],
      name: this.#name[i],
      moduleUrl: this.#moduleUrl[i],
      fnKey: this.#fnKey[i],
      state: this.#state[i],
      history: this.#hist.slice(this.#histAt[i], end),
      submittedAt: Number.isNaN(submittedAt) ? undefined : submittedAt,
      updatedAt: this.#times[t + 1],
      endedAt: Number.isNaN(endedAt) ? undefined : endedAt,
      nodeId: this.#nodeId[i],
      workerId: this.#workerId[i],
      parentTaskId: this.#parentTaskId[i],
      attempt: this.#attempt[i],
      deps: this.#deps[i],
      returns: NO_RETURNS,
      options: this.#options[i],
      args: undefined,
      error: this.#error[i],
      pinned: false,
    };
  }

  /** The row of entry `seq`, which leaves the history (the task changes). */
  take(seq: number): TaskRow {
    const row = this.row(seq);
    this.#taskId[seq - this.#seq0] = undefined;
    this.#live--;
    return row;
  }

  /** Drops the oldest entry; returns its task id (undefined when none is left). */
  shift(): TaskId | undefined {
    while (this.#head < this.#taskId.length) {
      const i = this.#head++;
      const id = this.#taskId[i];
      if (id === undefined) continue;
      this.#taskId[i] = undefined;
      this.#live--;
      if (this.#head > COMPACT_AFTER && this.#head * 2 > this.#taskId.length) this.#compact();
      return id;
    }
    return undefined;
  }

  /** Slices the dropped entries off every column. */
  #compact(): void {
    const h = this.#head;
    const from = this.#histAt[h] ?? this.#hist.length;
    this.#taskId = this.#taskId.slice(h);
    this.#jobId = this.#jobId.slice(h);
    this.#name = this.#name.slice(h);
    this.#moduleUrl = this.#moduleUrl.slice(h);
    this.#fnKey = this.#fnKey.slice(h);
    this.#state = this.#state.slice(h);
    this.#times = this.#times.slice(3 * h);
    this.#nodeId = this.#nodeId.slice(h);
    this.#workerId = this.#workerId.slice(h);
    this.#parentTaskId = this.#parentTaskId.slice(h);
    this.#attempt = this.#attempt.slice(h);
    this.#deps = this.#deps.slice(h);
    this.#options = this.#options.slice(h);
    this.#error = this.#error.slice(h);
    this.#hist = this.#hist.slice(from);
    this.#histAt = this.#histAt.slice(h).map((at) => at - from);
    this.#seq0 += h;
    this.#head = 0;
  }
}

/** A row's `returns` as kept: none (made from its id and `numReturns` when read). */
const NO_RETURNS = Object.freeze([]) as unknown as ObjectId[];
