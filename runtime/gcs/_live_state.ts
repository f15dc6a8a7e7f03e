/**
 * What the Redis store has written about things that are still alive (the
 * job, nodes, workers, functions, actors, unfinished or pinned tasks,
 * objects, KV entries), kept so that all of it can be written again when
 * Redis comes back empty (restarted without persistence). Only events that
 * were written are noted: events still queued are replayed by the queue.
 *
 * @module
 */
import type { ActorStateChanged, ControlStoreEvent } from "./events.ts";
import { FINAL_TASK_STATES } from "./events.ts";
import { type Entry, eventsOf } from "./_write_queue.ts";

const FINAL = new Set<string>(FINAL_TASK_STATES);

interface LiveTask {
  events: ControlStoreEvent[];
  pinned: boolean;
  final: boolean;
}

/** The latest written state of what is alive, as events that re-create it. */
export class LiveState {
  #jobs = new Map<string, ControlStoreEvent>();
  #nodes = new Map<string, ControlStoreEvent[]>();
  #workers = new Map<string, ControlStoreEvent>();
  #functions = new Map<string, ControlStoreEvent>();
  #actors = new Map<string, ActorStateChanged>();
  #tasks = new Map<string, LiveTask>();
  #objects = new Map<string, ControlStoreEvent[]>();
  #kv = new Map<string, ControlStoreEvent>();

  /** Notes the events of queue entries that Redis has applied. */
  written(entries: readonly Entry[]): void {
    for (const entry of entries) {
      if (!("sub" in entry)) this.#note(entry);
      else if (!entry.ended) { for (const e of eventsOf(entry)) this.#note(e); }
      // A task that ended (and was never pinned: a pin ends the merging) is not alive.
    }
  }

  #note(e: ControlStoreEvent): void {
    switch (e.type) {
      case "jobStarted":
        return void this.#jobs.set(e.jobId, e);
      case "jobFinished":
        this.#jobs.delete(e.jobId);
        for (const [k, f] of this.#functions) {
          if (f.type === "functionRegistered" && f.jobId === e.jobId) this.#functions.delete(k);
        }
        return;
      case "nodeAdded":
        return void this.#nodes.set(e.nodeId, [e]);
      case "nodeHeartbeat": {
        const n = this.#nodes.get(e.nodeId);
        if (n) n[1] = e;
        return;
      }
      case "nodeRemoved":
        return void this.#nodes.delete(e.nodeId);
      case "workerStarted":
        return void this.#workers.set(`${e.nodeId}:${e.workerId}`, e);
      case "workerDied":
        return void this.#workers.delete(`${e.nodeId}:${e.workerId}`);
      case "functionRegistered":
        return void this.#functions.set(`${e.jobId} ${e.fn.moduleUrl} ${e.fn.key}`, e);
      case "actorState": {
        if (e.state === "dead") return void this.#actors.delete(e.actorId);
        const was = this.#actors.get(e.actorId);
        const merged = { ...was } as Record<string, unknown>;
        for (const [k, v] of Object.entries(e)) if (v !== undefined) merged[k] = v;
        return void this.#actors.set(e.actorId, merged as unknown as ActorStateChanged);
      }
      case "taskSubmitted":
        return void this.#tasks.set(e.spec.taskId, { events: [e], pinned: false, final: false });
      case "taskState": {
        const t = this.#tasks.get(e.taskId);
        if (!t) return;
        t.events.push(e);
        t.final = FINAL.has(e.state);
        if (t.final && !t.pinned) this.#tasks.delete(e.taskId);
        return;
      }
      case "lineagePinned":
      case "lineageUnpinned": {
        const t = this.#tasks.get(e.taskId);
        if (!t) return;
        t.pinned = e.type === "lineagePinned";
        t.events.push(e);
        if (t.final && !t.pinned) this.#tasks.delete(e.taskId);
        return;
      }
      case "objectCreated":
        return void this.#objects.set(e.objectId, [e]);
      case "objectLocationAdded":
      case "objectLocationRemoved":
        return void this.#objects.get(e.objectId)?.push(e);
      case "objectFreed":
        return void this.#objects.delete(e.objectId);
      case "kvPut":
        return void this.#kv.set(e.key, e);
      case "kvDelete":
        return void this.#kv.delete(e.key);
    }
  }

  /** What is alive, as "1 job, 2 workers, ..." (for the comeback message). */
  describe(): string {
    const counts: [string, number][] = [
      ["job", this.#jobs.size],
      ["node", this.#nodes.size],
      ["worker", this.#workers.size],
      ["function", this.#functions.size],
      ["actor", this.#actors.size],
      ["task", this.#tasks.size],
      ["object", this.#objects.size],
      ["KV entry", this.#kv.size],
    ];
    const parts = counts.filter(([, n]) => n > 0)
      .map(([what, n]) => `${n} ${n === 1 ? what : what.replace(/y$/, "ie") + "s"}`);
    return parts.join(", ") || "nothing";
  }

  /**
   * The events that write it all again, in an order the store applies
   * correctly (a job before its tasks, a task's submission before its states).
   * The state is forgotten: it is noted again as the events are written.
   */
  take(): ControlStoreEvent[] {
    const out: ControlStoreEvent[] = [
      ...this.#jobs.values(),
      ...[...this.#nodes.values()].flat(),
      ...this.#workers.values(),
      ...this.#functions.values(),
      ...this.#actors.values(),
      ...[...this.#tasks.values()].flatMap((t) => t.events),
      ...[...this.#objects.values()].flat(),
      ...this.#kv.values(),
    ];
    for (
      const m of [
        this.#jobs,
        this.#nodes,
        this.#workers,
        this.#functions,
        this.#actors,
        this.#tasks,
        this.#objects,
        this.#kv,
      ]
    ) m.clear();
    return out;
  }
}
