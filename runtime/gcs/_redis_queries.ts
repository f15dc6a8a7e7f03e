/**
 * The read side of the Redis store: each query as Redis commands over the
 * key layout of docs/ARCHITECTURE.md ("Redis key layout").
 *
 * @module
 */
import type { ActorId, JobId, NodeId, ObjectId, TaskId } from "../common/mod.ts";
import type { JobState, NodeState, TaskState } from "./events.ts";
import { ACTOR_STATES, JOB_STATES, NODE_STATES, OBJECT_STATES, TASK_STATES } from "./events.ts";
import type {
  ActorFilter,
  ActorRecord,
  FunctionRecord,
  JobRecord,
  ListFilter,
  NodeRecord,
  ObjectFilter,
  ObjectRecord,
  StateCounts,
  StoreSummary,
  TaskFilter,
  TaskRecord,
  WorkerFilter,
  WorkerRecord,
} from "./records.ts";
import {
  actorOf,
  functionOf,
  type Hash,
  jobOf,
  nodeOf,
  objectOf,
  taskOf,
  toHash,
  workerOf,
} from "./_redis_codec.ts";
import { actorNameKey, functionField } from "./_memory_tables.ts";
import { listLimit } from "./_listing.ts";

/** Sends one command and returns its raw RESP2 reply. */
export type Send = (args: string[]) => Promise<unknown>;

/** Index entries read per round trip when a filter may skip some. */
const PAGE = 200;

/** The queries, given a way to send commands and the key prefix. */
export class RedisQueries {
  /** @param send sends a command @param prefix the key prefix, e.g. `rayd:` */
  constructor(readonly send: Send, readonly prefix: string) {}

  async #hash(key: string): Promise<Hash | undefined> {
    const h = toHash(await this.send(["HGETALL", key]));
    return Object.keys(h).length === 0 ? undefined : h;
  }

  /**
   * Records of one table, newest first: reads the state indexes page by page,
   * loads each hash, keeps those that pass `keep`.
   */
  async #list<R>(
    table: string,
    states: readonly string[],
    limit: number,
    decode: (h: Hash) => R,
    keep?: (r: R) => boolean,
  ): Promise<R[]> {
    const found: { r: R; score: number }[] = [];
    if (limit === 0) return [];
    const page = keep ? Math.max(limit, PAGE) : limit;
    for (const state of states) {
      const index = `${this.prefix}${table}s:${state}`;
      let got = 0;
      for (let offset = 0; got < limit; offset += page) {
        const raw = await this.send([
          ...["ZRANGE", index, "+inf", "-inf", "BYSCORE", "REV"],
          ...["LIMIT", String(offset), String(page), "WITHSCORES"],
        ]) as string[];
        const ids: string[] = [];
        for (let i = 0; i < raw.length; i += 2) ids.push(raw[i]);
        const hashes = await Promise.all(
          ids.map((id) => this.#hash(`${this.prefix}${table}:${id}`)),
        );
        for (let i = 0; i < ids.length && got < limit; i++) {
          const h = hashes[i];
          if (!h) continue;
          const r = decode(h);
          if (keep && !keep(r)) continue;
          found.push({ r, score: Number(raw[2 * i + 1]) });
          got++;
        }
        if (ids.length < page) break;
      }
    }
    return found.sort((a, b) => b.score - a.score).slice(0, limit).map((x) => x.r);
  }

  async getJob(jobId: JobId): Promise<JobRecord | undefined> {
    const h = await this.#hash(`${this.prefix}job:${jobId}`);
    return h && jobOf(h);
  }

  listJobs(f: ListFilter<JobState>): Promise<JobRecord[]> {
    return this.#list("job", f.state ? [f.state] : JOB_STATES, listLimit(f.limit), jobOf);
  }

  async getNode(nodeId: NodeId): Promise<NodeRecord | undefined> {
    const h = await this.#hash(`${this.prefix}node:${nodeId}`);
    return h && nodeOf(h);
  }

  listNodes(f: ListFilter<NodeState>): Promise<NodeRecord[]> {
    return this.#list("node", f.state ? [f.state] : NODE_STATES, listLimit(f.limit), nodeOf);
  }

  listWorkers(f: WorkerFilter): Promise<WorkerRecord[]> {
    const keep = f.nodeId === undefined ? undefined : (r: WorkerRecord) => r.nodeId === f.nodeId;
    const states = f.state ? [f.state] : NODE_STATES;
    return this.#list("worker", states, listLimit(f.limit), workerOf, keep);
  }

  async getFunction(
    jobId: JobId,
    moduleUrl: string,
    key: string,
  ): Promise<FunctionRecord | undefined> {
    const field = functionField(moduleUrl, key);
    const v = await this.send(["HGET", `${this.prefix}functions:${jobId}`, field]);
    return typeof v === "string" ? functionOf(jobId, field, v) : undefined;
  }

  async listFunctions(jobId: JobId): Promise<FunctionRecord[]> {
    const h = toHash(await this.send(["HGETALL", `${this.prefix}functions:${jobId}`]));
    return Object.entries(h).map(([field, v]) => functionOf(jobId, field, v));
  }

  async getTask(taskId: TaskId): Promise<TaskRecord | undefined> {
    const h = await this.#hash(`${this.prefix}task:${taskId}`);
    return h && taskOf(h);
  }

  listTasks(f: TaskFilter): Promise<TaskRecord[]> {
    const keep = f.jobId === undefined && f.nodeId === undefined
      ? undefined
      : (r: TaskRecord) =>
        (f.jobId === undefined || r.jobId === f.jobId) &&
        (f.nodeId === undefined || r.nodeId === f.nodeId);
    const states = f.state ? [f.state] : TASK_STATES;
    return this.#list("task", states, listLimit(f.limit), taskOf, keep);
  }

  async getObject(objectId: ObjectId): Promise<ObjectRecord | undefined> {
    const h = await this.#hash(`${this.prefix}object:${objectId}`);
    return h && objectOf(h);
  }

  listObjects(f: ObjectFilter): Promise<ObjectRecord[]> {
    const keep = f.nodeId === undefined
      ? undefined
      : (r: ObjectRecord) => r.locations.includes(f.nodeId!);
    const states = f.state ? [f.state] : OBJECT_STATES;
    return this.#list("object", states, listLimit(f.limit), objectOf, keep);
  }

  async getActor(actorId: ActorId): Promise<ActorRecord | undefined> {
    const h = await this.#hash(`${this.prefix}actor:${actorId}`);
    return h && actorOf(h);
  }

  async getNamedActor(name: string, namespace?: string): Promise<ActorRecord | undefined> {
    const id = await this.send([
      "HGET",
      `${this.prefix}actor_names`,
      actorNameKey(name, namespace),
    ]);
    return typeof id === "string" ? this.getActor(id as ActorId) : undefined;
  }

  listActors(f: ActorFilter): Promise<ActorRecord[]> {
    const keep = f.jobId === undefined ? undefined : (r: ActorRecord) => r.jobId === f.jobId;
    const states = f.state ? [f.state] : ACTOR_STATES;
    return this.#list("actor", states, listLimit(f.limit), actorOf, keep);
  }

  async #counts<S extends string>(table: string, states: readonly S[]): Promise<StateCounts<S>> {
    const n = await Promise.all(
      states.map((s) => this.send(["ZCARD", `${this.prefix}${table}s:${s}`]) as Promise<number>),
    );
    const out: StateCounts<S> = {};
    states.forEach((s, i) => {
      if (n[i] > 0) out[s] = n[i];
    });
    return out;
  }

  async summary(): Promise<StoreSummary> {
    const stats = toHash(await this.send(["HGETALL", `${this.prefix}stats`]));
    const byState: StateCounts<TaskState> = {};
    for (const s of TASK_STATES) {
      const n = Number(stats[`task:${s}`] ?? 0);
      if (n !== 0) byState[s] = n;
    }
    const names = await this.send(["SMEMBERS", `${this.prefix}stats:fns`]) as string[];
    const byFunction: StoreSummary["tasks"]["byFunction"] = {};
    await Promise.all(names.map(async (name) => {
      const h = toHash(await this.send(["HGETALL", `${this.prefix}stats:fn:${name}`]));
      const c: StateCounts<TaskState> = {};
      for (const [s, n] of Object.entries(h)) if (Number(n) !== 0) c[s as TaskState] = Number(n);
      byFunction[name] = c;
    }));
    const tasks = await this.#counts("task", TASK_STATES);
    const [objects, nodes, workers, actors, jobs] = await Promise.all([
      this.#counts("object", OBJECT_STATES),
      this.#counts("node", NODE_STATES),
      this.#counts("worker", NODE_STATES),
      this.#counts("actor", ACTOR_STATES),
      this.#counts("job", JOB_STATES),
    ]);
    return {
      tasks: {
        byState,
        byFunction,
        retained: Object.values(tasks).reduce((a, b) => a + (b ?? 0), 0),
        evicted: Number(stats.evicted ?? 0),
      },
      objects: { byState: objects, totalBytes: Number(stats.object_bytes ?? 0) },
      nodes,
      workers,
      actors,
      jobs,
    };
  }

  async kvGet(key: string): Promise<string | undefined> {
    const v = await this.send(["HGET", `${this.prefix}kv`, key]);
    return typeof v === "string" ? v : undefined;
  }

  async kvKeys(prefix: string): Promise<string[]> {
    const keys = await this.send(["HKEYS", `${this.prefix}kv`]) as string[];
    return keys.filter((k) => k.startsWith(prefix)).sort();
  }
}
