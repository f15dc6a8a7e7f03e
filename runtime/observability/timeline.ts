/**
 * The timeline of a job as Chrome trace events (chrome://tracing, Perfetto):
 * a process per node, a thread (row) per worker, a slice per task run.
 *
 * @module
 */
import type { ObjectId } from "../common/mod.ts";
import type { TaskRecord, TaskState } from "../gcs/mod.ts";

/** One Chrome trace event: a complete slice (`X`) or metadata naming a row (`M`). */
export interface TraceEvent {
  /** The task's name, or `process_name` / `thread_name` for metadata. */
  name: string;
  /** Category: `task` for slices, `__metadata` for metadata. */
  cat: string;
  /** Phase: `X` for a complete slice, `M` for metadata. */
  ph: "X" | "M";
  /** Start, in microseconds since the Unix epoch. */
  ts: number;
  /** Duration in microseconds (`X` only). */
  dur?: number;
  /** Process id: one per node. */
  pid: number;
  /** Thread id: one per worker. */
  tid: number;
  /** Details: the task's id, outcome and timings, or the row's name for metadata. */
  args: Record<string, unknown>;
}

/** The fields of a task record the timeline reads. */
export type TimelineTask =
  & Pick<
    TaskRecord,
    "taskId" | "name" | "state" | "history" | "nodeId" | "workerId" | "attempt" | "deps" | "returns"
  >
  & { submittedAt?: number; args?: Uint8Array; error?: string };

const ENDS = new Set<TaskState>(["finished", "failed", "cancelled", "ready"]);

/**
 * Trace events of the tasks that ran and ended: per task, its last run, from
 * the `running` transition to the state that ended it, on the row of the
 * worker that ran it. `args` carry the task id, the outcome, the attempt, the
 * wait before it ran (`waitMs`), and the sizes of its arguments when known.
 *
 * @param tasks task records (typically every record of one job)
 * @param objectSizes bytes of objects, by id (those in the shared store)
 * @returns metadata events naming each node and worker, then one `X` event per task, by start time
 * @example
 * ```ts
 * import { buildTimeline } from "./timeline.ts";
 * const events = buildTimeline([{
 *   taskId: "t1" as never, name: "add", state: "finished", attempt: 0,
 *   nodeId: "n1" as never, workerId: "w2" as never, deps: [], returns: [],
 *   history: [
 *     { state: "submitted", ts: 1000 }, { state: "running", ts: 1003 },
 *     { state: "finished", ts: 1010 },
 *   ],
 * }]);
 * const slice = events.find((e) => e.ph === "X")!;
 * console.assert(slice.dur === 7000 && slice.args.waitMs === 3);
 * ```
 */
export function buildTimeline(
  tasks: readonly TimelineTask[],
  objectSizes: ReadonlyMap<ObjectId, number> = new Map(),
): TraceEvent[] {
  const rows = new Rows();
  const slices: TraceEvent[] = [];
  for (const t of tasks) {
    const run = lastRun(t);
    if (!run || t.workerId === undefined) continue;
    const { pid, tid } = rows.of(t.nodeId ?? "", t.workerId);
    const args: Record<string, unknown> = {
      taskId: t.taskId,
      state: run.outcome,
      attempt: t.attempt,
      waitMs: run.start - run.queuedAt,
    };
    if (run.blockedMs > 0) args.blockedMs = run.blockedMs;
    const sizes = argSizes(t, objectSizes);
    if (sizes) Object.assign(args, sizes);
    if (t.error !== undefined && run.outcome === t.state) args.error = t.error;
    slices.push({
      name: t.name || "(unknown)",
      cat: "task",
      ph: "X",
      ts: run.start * 1000,
      dur: (run.end - run.start) * 1000,
      pid,
      tid,
      args,
    });
  }
  slices.sort((a, b) => a.ts - b.ts || a.tid - b.tid);
  return [...rows.metadata(), ...slices];
}

/** The last run of a task that ended, from its state history. */
function lastRun(t: TimelineTask): {
  start: number;
  end: number;
  queuedAt: number;
  blockedMs: number;
  outcome: string;
} | undefined {
  let found;
  let queuedAt = t.submittedAt ?? t.history[0]?.ts;
  let start: number | undefined;
  let blockedAt: number | undefined;
  let blockedMs = 0;
  for (const { state, ts } of t.history) {
    if (state === "running") {
      if (start === undefined) start = ts;
      else if (blockedAt !== undefined) blockedMs += ts - blockedAt;
      blockedAt = undefined;
    } else if (state === "blocked") {
      if (start !== undefined) blockedAt = ts;
    } else if (start !== undefined && ENDS.has(state)) {
      const outcome = state === "ready" ? "retried" : state;
      found = { start, end: ts, queuedAt: queuedAt ?? start, blockedMs, outcome };
      start = blockedAt = undefined;
      blockedMs = 0;
      queuedAt = ts;
    }
  }
  return found;
}

/** What is known of a task's argument sizes: inline frame bytes and stored objects' bytes. */
function argSizes(
  t: TimelineTask,
  objectSizes: ReadonlyMap<ObjectId, number>,
): Record<string, unknown> | undefined {
  const refs: Record<string, number> = {};
  let known = false;
  for (const d of t.deps) {
    const size = objectSizes.get(d);
    if (size !== undefined) {
      refs[d] = size;
      known = true;
    }
  }
  if (!known && !t.args) return undefined;
  const out: Record<string, unknown> = {};
  if (t.args) out.inlineArgBytes = t.args.byteLength;
  if (known) out.refArgBytes = refs;
  return out;
}

/** Numbers for nodes (pid) and workers (tid), and the metadata events that name them. */
class Rows {
  readonly #pids = new Map<string, number>();
  readonly #tids = new Map<string, { pid: number; tid: number; name: string }>();

  of(nodeId: string, workerId: string): { pid: number; tid: number } {
    let pid = this.#pids.get(nodeId);
    if (pid === undefined) this.#pids.set(nodeId, pid = this.#pids.size + 1);
    const key = `${nodeId}\u0000${workerId}`;
    let row = this.#tids.get(key);
    if (!row) {
      const n = /^w(\d+)$/.exec(workerId);
      row = { pid, tid: n ? Number(n[1]) : 10_000 + this.#tids.size, name: `worker ${workerId}` };
      this.#tids.set(key, row);
    }
    return { pid, tid: row.tid };
  }

  metadata(): TraceEvent[] {
    const out: TraceEvent[] = [];
    for (const [nodeId, pid] of this.#pids) {
      const name = nodeId === "" ? "node" : `node ${nodeId.slice(0, 8)}`;
      out.push({
        name: "process_name",
        cat: "__metadata",
        ph: "M",
        ts: 0,
        pid,
        tid: 0,
        args: { name },
      });
    }
    const rows = [...this.#tids.values()].sort((a, b) => a.pid - b.pid || a.tid - b.tid);
    for (const { pid, tid, name } of rows) {
      out.push({
        name: "thread_name",
        cat: "__metadata",
        ph: "M",
        ts: 0,
        pid,
        tid,
        args: { name },
      });
      out.push({
        name: "thread_sort_index",
        cat: "__metadata",
        ph: "M",
        ts: 0,
        pid,
        tid,
        args: { sort_index: tid },
      });
    }
    return out;
  }
}
