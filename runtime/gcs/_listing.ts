/**
 * Helpers shared by the list queries of both stores.
 *
 * @module
 */
import { GCS_DEFAULTS } from "./control_store.ts";
import type {
  ActorRecord,
  JobRecord,
  NodeRecord,
  ObjectRecord,
  TaskRecord,
  WorkerRecord,
} from "./records.ts";

/** The limit a list query uses: the caller's, else the default. */
export function listLimit(limit: number | undefined): number {
  if (limit === undefined) return GCS_DEFAULTS.listLimit;
  if (!Number.isSafeInteger(limit) || limit < 0) {
    throw new RangeError(
      `Invalid limit: expected an integer from 0 to ${Number.MAX_SAFE_INTEGER}, got ${limit}`,
    );
  }
  return limit;
}

/** When a record entered its current state: the order of list results, newest first. */
export const stateTime = {
  job: (r: JobRecord) => r.endedAt ?? r.startedAt,
  node: (r: NodeRecord) => r.endedAt ?? r.startedAt,
  worker: (r: WorkerRecord) => r.endedAt ?? r.startedAt,
  task: (r: TaskRecord) => r.updatedAt,
  object: (r: ObjectRecord) => r.createdAt,
  actor: (r: ActorRecord) => r.updatedAt,
};

/**
 * The records that pass `keep`, newest first by `time`, at most `limit`.
 *
 * @param records all records of a table
 * @param time when each entered its state
 * @param keep the filter
 * @param limit most results
 */
export function newestFirst<R>(
  records: Iterable<R>,
  time: (r: R) => number,
  keep: (r: R) => boolean,
  limit: number,
): R[] {
  const out: R[] = [];
  for (const r of records) if (keep(r)) out.push(r);
  out.sort((a, b) => time(b) - time(a));
  return out.slice(0, limit);
}
