/**
 * Reads a job's task records from a control store and turns them into the
 * graph (DOT) or the timeline (trace events).
 *
 * @module
 */
import type { JobId, ObjectId } from "../common/mod.ts";
import type { ControlStore, TaskRecord } from "../gcs/mod.ts";
import { buildGraph, type GraphOptions } from "./graph.ts";
import { buildTimeline, type TraceEvent } from "./timeline.ts";

/** Which job to read. */
export interface JobSelector {
  /** The job whose tasks to read (default: every task the store holds). */
  jobId?: JobId;
}

/**
 * Every task record the store holds (of one job when `jobId` is given),
 * after writing what was recorded so far.
 *
 * @param store the control store
 * @param selector the job
 * @returns the records, most recently changed first
 */
export async function readTasks(
  store: ControlStore,
  selector: JobSelector = {},
): Promise<TaskRecord[]> {
  await store.flush();
  return await store.listTasks({ jobId: selector.jobId, limit: Number.MAX_SAFE_INTEGER });
}

/**
 * The computation graph of a job, in DOT.
 *
 * @param store the control store
 * @param options the job, and when to collapse
 * @returns DOT text
 * @example
 * ```ts
 * import { MemoryControlStore } from "../gcs/mod.ts";
 * import { graphOf } from "./reader.ts";
 * const store = new MemoryControlStore();
 * console.assert((await graphOf(store)).includes('"op-root"'));
 * await store.close();
 * ```
 */
export async function graphOf(
  store: ControlStore,
  options: GraphOptions & JobSelector = {},
): Promise<string> {
  return buildGraph(await readTasks(store, options), options);
}

/**
 * The timeline of a job, as Chrome trace events.
 *
 * @param store the control store
 * @param selector the job
 * @returns the events (see `buildTimeline`)
 */
export async function timelineOf(
  store: ControlStore,
  selector: JobSelector = {},
): Promise<TraceEvent[]> {
  const [tasks, objects] = await Promise.all([
    readTasks(store, selector),
    store.listObjects({ limit: Number.MAX_SAFE_INTEGER }),
  ]);
  const sizes = new Map<ObjectId, number>(objects.map((o) => [o.objectId, o.size]));
  return buildTimeline(tasks, sizes);
}
