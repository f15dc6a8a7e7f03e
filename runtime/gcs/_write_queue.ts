/**
 * The Redis store's write queue. Events wait here, in the order recorded,
 * until a batch takes them. A task's state changes are merged into its
 * queued submission while that waits, so a task that runs and ends before
 * its batch is cut is one entry and one write, however far behind the writer
 * is. When more than `keep` (the store's `maxFinishedTasks`) ended tasks
 * wait behind one that ended, that one's record would be evicted as soon as
 * written: it is cut as `counted` and only its counts are written. The
 * queue never drops an event: the store reports pressure and the node slows
 * down instead.
 *
 * @module
 */
import type { TaskId } from "../common/mod.ts";
import { FINAL_TASK_STATES } from "./events.ts";
import type { ControlStoreEvent, TaskStateChanged, TaskSubmitted } from "./events.ts";

const FINAL = new Set<string>(FINAL_TASK_STATES);

/** A task's submission with the changes recorded while it waited. */
export interface TaskUnit {
  readonly sub: TaskSubmitted;
  then?: TaskStateChanged[];
  /** Its last change ended it. */
  ended?: boolean;
  /** Cut while `keep` ended tasks waited behind it: only its counts are written. */
  counted?: boolean;
}

/** A queue entry: an event, or a task's submission with its merged changes. */
export type Entry = ControlStoreEvent | TaskUnit;

/** A batch cut from the front of the queue, kept until it is written. */
export interface Batch {
  /** Its entries, in order. */
  readonly entries: readonly Entry[];
  /** Events they carry beyond one per entry (merged changes). */
  readonly merged: number;
  /** Its encoded form, once made (a batch that fails is sent again as is). */
  encoded?: unknown;
}

/** The events of an entry, in the order recorded. */
export function eventsOf(entry: Entry): readonly ControlStoreEvent[] {
  if (!("sub" in entry)) return [entry];
  return entry.then ? [entry.sub, ...entry.then] : [entry.sub];
}

/** Events waiting to be written, with a task's changes merged into its entry. */
export class WriteQueue {
  #items: Entry[] = [];
  #head = 0;
  /** The waiting submission of each task that later changes merge into. */
  #open = new Map<TaskId, TaskUnit>();
  /** Events in the waiting entries beyond one per entry (merged changes). */
  #merged = 0;
  /** Waiting tasks that ended (not cut yet). */
  #ended = 0;
  #batch?: Batch;

  /** Entries waiting, the cut batch's included (a task with its merged changes is one). */
  get entries(): number {
    return this.#items.length - this.#head;
  }

  /**
   * Entries that count toward the store's bound: all but the tasks still
   * open to merges (waiting or running), which the scheduler holds anyway.
   */
  get pressure(): number {
    return this.entries - this.#open.size;
  }

  /** Events waiting, merged ones included. */
  get events(): number {
    return this.entries + this.#merged + (this.#batch?.merged ?? 0);
  }

  /** Queues one event, merging a task's change into its waiting submission. */
  push(e: ControlStoreEvent): void {
    switch (e.type) {
      case "taskSubmitted": {
        const unit: TaskUnit = { sub: e };
        this.#open.set(e.spec.taskId, unit);
        this.#items.push(unit);
        return;
      }
      case "taskState": {
        const unit = this.#open.get(e.taskId);
        if (unit === undefined) break;
        (unit.then ??= []).push(e);
        this.#merged++;
        // The record is complete: what may follow (a retry of a finished
        // task) goes behind it as plain events.
        if (FINAL.has(e.state)) {
          this.#open.delete(e.taskId);
          unit.ended = true;
          this.#ended++;
        }
        return;
      }
      case "lineagePinned":
      case "lineageUnpinned":
        // Later changes stay behind the pin, as recorded.
        this.#open.delete(e.taskId);
        break;
    }
    this.#items.push(e);
  }

  /**
   * When the task at the front, still open, was submitted (`cut`'s
   * `openAfter` holds it until that time plus the hold); undefined when the
   * front is no open task.
   */
  get openAt(): number | undefined {
    const front = this.#items[this.#head];
    return front && "sub" in front && !front.ended && this.#batch === undefined
      ? front.sub.ts
      : undefined;
  }

  /**
   * The batch at the front: the one cut before and not yet written, else a
   * new one of entries carrying about `maxEvents` events. Their tasks take no
   * more merges (later changes follow as plain events). A task that ended
   * with at least `keep` ended ones behind it is `counted`. An open task
   * submitted after `openAfter` ends the batch before it: it may yet end
   * and be written once, its whole record in one write (the batch may be
   * empty then, and is not kept).
   */
  cut(maxEvents: number, keep = Infinity, openAfter = Infinity): Batch {
    if (this.#batch) return this.#batch;
    let at = this.#head;
    let events = 0;
    let merged = 0;
    while (at < this.#items.length && events < maxEvents) {
      const entry = this.#items[at];
      if ("sub" in entry && !entry.ended && entry.sub.ts > openAfter) break;
      at++;
      events++;
      if (!("sub" in entry)) continue;
      const id = entry.sub.spec.taskId;
      if (this.#open.get(id) === entry) this.#open.delete(id);
      const changes = entry.then?.length ?? 0;
      this.#merged -= changes;
      merged += changes;
      if (entry.ended) {
        this.#ended--;
        // A counted task costs the script almost nothing: it weighs one event.
        entry.counted = this.#ended >= keep;
        if (entry.counted) continue;
      }
      events += changes;
    }
    const entries = this.#items.slice(this.#head, at);
    if (entries.length === 0) return { entries, merged };
    return this.#batch = { entries, merged };
  }

  /** The front batch is written (or given up on): it leaves the queue. */
  done(): void {
    const batch = this.#batch;
    if (!batch) return;
    this.#batch = undefined;
    this.#head += batch.entries.length;
    if (this.#head === this.#items.length) {
      this.#items = [];
      this.#head = 0;
    } else if (this.#head > 4096 && this.#head * 2 > this.#items.length) {
      this.#items = this.#items.slice(this.#head);
      this.#head = 0;
    }
  }

  /**
   * Puts `events` in front of everything queued (Redis came back empty:
   * what is alive is written first); a cut batch goes back behind them.
   */
  prepend(events: readonly ControlStoreEvent[]): void {
    const cut = this.#batch;
    this.#batch = undefined;
    for (const entry of cut?.entries ?? []) {
      if (!("sub" in entry)) continue;
      this.#merged += entry.then?.length ?? 0;
      entry.counted = false;
      if (entry.ended) this.#ended++;
    }
    this.#items = [...events, ...this.#items.slice(this.#head)];
    this.#head = 0;
  }
}
