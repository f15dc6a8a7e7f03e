/**
 * Events to the flat "wire" objects the Lua script reads, and Redis hashes
 * back to records.
 *
 * @module
 */
import type { JobId, NodeId, ObjectId, TaskId, WorkerId } from "../common/mod.ts";
import { objectIdOf } from "../common/mod.ts";
import type { TaskOptions } from "../protocol/mod.ts";
import type {
  ActorCallsRecorded,
  ActorState,
  ControlStoreEvent,
  JobState,
  NodeState,
  ObjectState,
  TaskState,
  TaskSubmitted,
} from "./events.ts";
import { FINAL_TASK_STATES } from "./events.ts";
import type { ActorCallValue } from "../protocol/mod.ts";
import { ACTOR_CALL, ACTOR_CALL_STRIDE, runTaskId, runTimes } from "../protocol/mod.ts";
import type { Entry } from "./_write_queue.ts";
import type {
  ActorRecord,
  FunctionRecord,
  JobRecord,
  NodeRecord,
  ObjectRecord,
  TaskRecord,
  WorkerRecord,
} from "./records.ts";
import { functionField } from "./_memory_tables.ts";

const FINAL = new Set<string>(FINAL_TASK_STATES);

/** A flat object of strings and numbers, as the Lua script reads it (`then` and `counts` excepted). */
export type Wire = Record<string, string | number | object>;

/** A Redis hash as returned by HGETALL. */
export type Hash = Record<string, string>;

/** A batch in wire form. */
export interface WireBatch {
  /** What the Lua script gets, in order. */
  wire: Wire[];
  /** The batch's events in order, each task's merged changes right after its submission. */
  events: ControlStoreEvent[];
  /** For each wire entry, the indexes in `events` of the events it carries. */
  members: number[][];
  /** `wire` as JSON, the script's argument. */
  json: string;
}

/**
 * The wire form of a batch of queue entries, with four savings: a task's
 * changes merged into its entry ride in its `taskSubmitted` (`then`), so a
 * tiny task costs one write instead of three (and a task that ended sends no
 * argument bytes: they are not kept); the `counted` tasks (whose records
 * would be evicted as soon as written) are one `tasksEnded` entry of counts
 * at the end of the batch; a heartbeat followed by a later one of the same
 * node is left out; and an object created and freed in the same batch is
 * not written at all (its events are still published: `members` leaves them
 * out, and only events of failed entries go unpublished).
 */
export function encodeBatch(entries: readonly Entry[]): WireBatch {
  const lastBeat = new Map<string, number>();
  entries.forEach((e, i) => {
    if ("type" in e && e.type === "nodeHeartbeat") lastBeat.set(e.nodeId, i);
  });
  const events: ControlStoreEvent[] = [];
  const fns = new FunctionTable();
  const wire: (Wire | undefined)[] = [];
  const members: number[][] = [];
  const objects = new Map<string, number[]>();
  let counted: { counts: Record<string, Record<string, number>>; n: number } | undefined;
  const countedMembers: number[] = [];
  entries.forEach((entry, i) => {
    if ("sub" in entry && entry.counted) {
      counted ??= { counts: {}, n: 0 };
      const then = entry.then!;
      const state = then[then.length - 1].state;
      const name = entry.sub.spec.options.name ?? entry.sub.spec.fn.name;
      const byState = counted.counts[name] ??= {};
      byState[state] = (byState[state] ?? 0) + 1;
      counted.n++;
      countedMembers.push(events.length);
      events.push(entry.sub);
      for (const t of then) {
        countedMembers.push(events.length);
        events.push(t);
      }
      return;
    }
    if ("sub" in entry) {
      const m = [events.length];
      events.push(entry.sub);
      const then = entry.then;
      const ended = then !== undefined && FINAL.has(then[then.length - 1].state);
      const w = encodeSubmitted(entry.sub, !ended, fns);
      if (then) {
        w.then = then.map((t) => {
          m.push(events.length);
          events.push(t);
          const { state, ts, nodeId, workerId, attempt, error } = t;
          return { state, ts, nodeId, workerId, attempt, error };
        });
      }
      wire.push(w);
      members.push(m);
      return;
    }
    const e = entry;
    const at = events.length;
    events.push(e);
    if (e.type === "nodeHeartbeat" && lastBeat.get(e.nodeId) !== i) return;
    if (e.type === "objectFreed" && objects.has(e.objectId)) {
      for (const w of objects.get(e.objectId)!) wire[w] = undefined;
      objects.delete(e.objectId);
      return;
    }
    if (e.type === "objectCreated") objects.set(e.objectId, []);
    if ("objectId" in e && objects.has(e.objectId)) objects.get(e.objectId)!.push(wire.length);
    wire.push(encodeEvent(e, fns));
    members.push([at]);
  });
  if (counted) {
    wire.push({ type: "tasksEnded", ...counted });
    members.push(countedMembers);
  }
  const out: WireBatch = { wire: [], events, members: [], json: "" };
  wire.forEach((w, at) => {
    if (w === undefined) return;
    out.wire.push(w);
    out.members.push(members[at]);
  });
  out.json = JSON.stringify([out.wire, fns.rows]);
  return out;
}

/** Each options object's JSON: the options of one remote function are one shared object. */
const optionsJson = new WeakMap<object, string>();

/**
 * The fields tasks of one function share (job, name, module, key, options),
 * sent once per batch: a submission names its row (`fn`).
 */
class FunctionTable {
  /** `[jobId, name, moduleUrl, fnKey, options JSON]` per function. */
  readonly rows: string[][] = [];
  #index = new Map<object, { fn: object; jobId: string; row: number }[]>();

  /** The row of the submission's function, added when new. */
  rowOf(e: TaskSubmitted): number {
    const s = e.spec;
    let same = this.#index.get(s.options);
    if (same === undefined) this.#index.set(s.options, same = []);
    for (const x of same) if (x.fn === s.fn && x.jobId === e.jobId) return x.row;
    let options = optionsJson.get(s.options);
    if (options === undefined) optionsJson.set(s.options, options = JSON.stringify(s.options));
    const row = this.rows.length;
    this.rows.push([e.jobId, s.options.name ?? s.fn.name, s.fn.moduleUrl, s.fn.key, options]);
    same.push({ fn: s.fn, jobId: e.jobId, row });
    return row;
  }
}

/**
 * The wire form of a submission (`withArgs`: with its inline argument
 * bytes). Left out, and filled in by the script: `returns` of a task with
 * one return, `deps` of one without.
 */
function encodeSubmitted(e: TaskSubmitted, withArgs: boolean, fns: FunctionTable): Wire {
  const s = e.spec;
  const n = s.options.numReturns;
  const w: Wire = {
    type: e.type,
    taskId: s.taskId,
    fn: fns.rowOf(e),
    attempt: s.attempt,
    ts: e.ts,
  };
  if (s.deps.length > 0) w.deps = s.deps.join(",");
  if (n !== 1) w.returns = Array.from({ length: n }, (_, i) => objectIdOf(s.taskId, i)).join(",");
  if (s.parentTaskId !== undefined) w.parentTaskId = s.parentTaskId;
  if (withArgs && s.args instanceof Uint8Array) w.args = toBase64(s.args);
  return w;
}

/** The wire form of one event. */
function encodeEvent(e: ControlStoreEvent, fns: FunctionTable): Wire {
  switch (e.type) {
    case "nodeAdded":
      return { ...e, resources: JSON.stringify(e.resources) };
    case "nodeHeartbeat":
      return e.available
        ? { ...e, available: JSON.stringify(e.available) }
        : { ...e } as unknown as Wire;
    case "functionRegistered": {
      const { moduleUrl, key, name, source } = e.fn;
      return {
        type: e.type,
        jobId: e.jobId,
        field: functionField(moduleUrl, key),
        value: JSON.stringify(source === undefined ? { name } : { name, source }),
      };
    }
    case "taskSubmitted":
      return encodeSubmitted(e, true, fns);
    case "actorCalls":
      return encodeActorCalls(e);
    default:
      return { ...e } as unknown as Wire;
  }
}

/**
 * The wire form of an `actorCalls` event: a record per call (runs are
 * spread into their calls, each with its share of the run's time), with
 * `numReturns` replaced by the call's return ids and `deps` by its ref
 * arguments, each joined with commas (as task hashes keep them).
 */
function encodeActorCalls(e: ActorCallsRecorded): Wire {
  const out: ActorCallValue[] = [];
  const calls = e.calls;
  for (let i = 0; i + ACTOR_CALL_STRIDE <= calls.length; i += ACTOR_CALL_STRIDE) {
    const count = calls[i + ACTOR_CALL.count] as number;
    const n = calls[i + ACTOR_CALL.numReturns] as number;
    for (let k = 0; k < count; k++) {
      const at = out.length;
      for (let f = 0; f < ACTOR_CALL_STRIDE; f++) out.push(calls[i + f]);
      const taskId = runTaskId(calls, i, k);
      [out[at + ACTOR_CALL.startedAt], out[at + ACTOR_CALL.endedAt]] = runTimes(calls, i, k);
      out[at + ACTOR_CALL.taskId] = taskId;
      out[at + ACTOR_CALL.count] = 1;
      out[at + ACTOR_CALL.numReturns] = Array.from({ length: n }, (_, r) => objectIdOf(taskId, r))
        .join(",");
      out[at + ACTOR_CALL.deps] = (calls[i + ACTOR_CALL.deps] as readonly ObjectId[]).join(",");
    }
  }
  return e.jobId === undefined
    ? { type: e.type, calls: out }
    : { type: e.type, jobId: e.jobId, calls: out };
}

/** A flat `[k, v, k, v]` reply (RESP2 HGETALL) as an object. */
export function toHash(reply: unknown): Hash {
  const out: Hash = {};
  if (!Array.isArray(reply)) return out;
  for (let i = 0; i + 1 < reply.length; i += 2) out[String(reply[i])] = String(reply[i + 1]);
  return out;
}

function num(s: string | undefined): number | undefined {
  return s === undefined || s === "" ? undefined : Number(s);
}

function list(s: string | undefined): string[] {
  return s ? s.split(",") : [];
}

function json<T>(s: string | undefined): T | undefined {
  return s === undefined || s === "" ? undefined : JSON.parse(s) as T;
}

/** Copies the fields of `h` named in `names` that are present. */
function pick(h: Hash, names: readonly string[], into: Record<string, unknown>): void {
  for (const n of names) if (h[n] !== undefined) into[n] = h[n];
}

/** A job hash as a record. */
export function jobOf(h: Hash): JobRecord {
  const r: Record<string, unknown> = {
    jobId: h.jobId as JobId,
    state: h.state as JobState,
    startedAt: Number(h.startedAt),
  };
  if (h.endedAt) r.endedAt = Number(h.endedAt);
  pick(h, ["nodeId", "entrypoint", "namespace"], r);
  return r as unknown as JobRecord;
}

/** A node hash as a record. */
export function nodeOf(h: Hash): NodeRecord {
  const r: Record<string, unknown> = {
    nodeId: h.nodeId as NodeId,
    state: h.state as NodeState,
    address: h.address ?? "",
    resources: json(h.resources) ?? {},
    numWorkers: Number(h.numWorkers ?? 0),
    startedAt: Number(h.startedAt),
    heartbeatAt: Number(h.heartbeatAt),
  };
  if (h.available) r.available = json(h.available);
  if (h.queued) r.queued = Number(h.queued);
  if (h.running) r.running = Number(h.running);
  if (h.endedAt) r.endedAt = Number(h.endedAt);
  pick(h, ["reason"], r);
  return r as unknown as NodeRecord;
}

/** A worker hash as a record. */
export function workerOf(h: Hash): WorkerRecord {
  const r: Record<string, unknown> = {
    nodeId: h.nodeId as NodeId,
    workerId: h.workerId as WorkerId,
    state: h.state as NodeState,
    startedAt: Number(h.startedAt),
  };
  if (h.endedAt) r.endedAt = Number(h.endedAt);
  pick(h, ["reason"], r);
  return r as unknown as WorkerRecord;
}

/** A field of a job's functions hash as a record. */
export function functionOf(jobId: JobId, field: string, value: string): FunctionRecord {
  const bar = field.lastIndexOf("|");
  const v = JSON.parse(value) as { name: string; source?: string };
  const r: FunctionRecord = {
    jobId,
    moduleUrl: field.slice(0, bar),
    key: field.slice(bar + 1),
    name: v.name,
  };
  if (v.source !== undefined) r.source = v.source;
  return r;
}

/** A task hash as a record. */
export function taskOf(h: Hash): TaskRecord {
  const r: Record<string, unknown> = {
    taskId: h.taskId as TaskId,
    name: h.name ?? "",
    state: h.state as TaskState,
    history: list(h.history).map((x) => {
      const at = x.lastIndexOf("@");
      return { state: x.slice(0, at) as TaskState, ts: Number(x.slice(at + 1)) };
    }),
    updatedAt: Number(h.updatedAt),
    attempt: Number(h.attempt ?? 0),
    deps: list(h.deps) as ObjectId[],
    returns: list(h.returns) as ObjectId[],
    pinned: h.pinned === "1",
  };
  pick(
    h,
    ["jobId", "moduleUrl", "fnKey", "actorId", "nodeId", "workerId", "parentTaskId", "error"],
    r,
  );
  if (h.submittedAt) r.submittedAt = Number(h.submittedAt);
  if (h.endedAt) r.endedAt = Number(h.endedAt);
  if (h.options) r.options = json<TaskOptions>(h.options);
  if (h.args !== undefined) r.args = fromBase64(h.args);
  return r as unknown as TaskRecord;
}

/** An object hash as a record. */
export function objectOf(h: Hash): ObjectRecord {
  return {
    objectId: h.objectId as ObjectId,
    state: h.state as ObjectState,
    size: Number(h.size),
    owner: h.owner ?? "",
    locations: list(h.locations) as NodeId[],
    createdAt: Number(h.createdAt),
  };
}

/** An actor hash as a record. */
export function actorOf(h: Hash): ActorRecord {
  const r: Record<string, unknown> = {
    actorId: h.actorId,
    state: h.state as ActorState,
    restarts: num(h.restarts) ?? 0,
    updatedAt: Number(h.updatedAt),
  };
  pick(h, ["className", "name", "namespace", "jobId", "nodeId", "workerId", "error"], r);
  return r as unknown as ActorRecord;
}

function toBase64(bytes: Uint8Array): string {
  let s = "";
  for (let i = 0; i < bytes.length; i += 0x8000) {
    s += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  }
  return btoa(s);
}

function fromBase64(s: string): Uint8Array {
  const bin = atob(s);
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}
