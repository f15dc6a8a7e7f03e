/**
 * The Redis control store: cluster mode. Events are queued in memory (a
 * task's changes merged into its queued submission, _write_queue.ts) and
 * written by a Lua script in batches, one round trip per batch; while Redis
 * is down they stay queued and are replayed when it is back; when it comes
 * back empty, what is alive is written again first. Nothing is dropped: a
 * queue past `queueMax` entries reports `backpressure()`, and the node
 * stops starting tasks until it drains. Every command has a deadline, so a
 * frozen Redis fails calls instead of hanging them.
 *
 * @module
 */
import type { ActorId, JobId, LongTimer, NodeId, ObjectId, TaskId } from "../common/mod.ts";
import { longTimeout } from "../common/mod.ts";
import type { TaskSpec } from "../protocol/mod.ts";
import type { ControlStore, Unsubscribe } from "./control_store.ts";
import { GCS_DEFAULTS } from "./control_store.ts";
import type { Channel, ChannelMessages, ControlStoreEvent, JobState, NodeState } from "./events.ts";
import { Publisher } from "./_redis_publish.ts";
import type {
  ActorFilter,
  ActorRecord,
  FunctionRecord,
  JobRecord,
  ListFilter,
  NodeRecord,
  ObjectFilter,
  ObjectRecord,
  StoreSummary,
  TaskFilter,
  TaskRecord,
  WorkerFilter,
  WorkerRecord,
} from "./records.ts";
import {
  type ControlStoreError,
  isTransient,
  noAnswer,
  redisError,
  storeClosed,
  storeUnreachable,
  writesQueued,
} from "./errors.ts";
import { encodeBatch, type WireBatch } from "./_redis_codec.ts";
import { WriteQueue } from "./_write_queue.ts";
import { APPLY_BATCH_LUA } from "./_redis_script.ts";
import { RedisQueries } from "./_redis_queries.ts";
import { Subscribers } from "./_subscribers.ts";
import { LiveState } from "./_live_state.ts";
import { specOf } from "./_task_spec.ts";
import { type Conn, openRedis, withDeadline } from "./_redis_connect.ts";
import type { RedisStoreOptions } from "./redis_options.ts";

export type { RedisStoreOptions };

/**
 * Connects to Redis and checks that it is a usable Redis (PING, INFO, a
 * write, the script), then returns a store on it.
 *
 * @param url `redis://[[user]:password@]host:port[/db]` (or `host:port`)
 * @param options key prefix, credentials, batching and history settings
 * @returns the connected store
 * @throws {ControlStoreError} when the server is unreachable, is not Redis,
 * rejects the password, refuses writes (MISCONF, READONLY, OOM), is older
 * than 6.2, or a key of the store has the wrong type
 * @example
 * ```ts ignore
 * import { connectRedis } from "./redis_store.ts";
 * const store = await connectRedis("redis://127.0.0.1:6379");
 * store.record({ type: "kvPut", key: "hello", value: "world" });
 * await store.flush();
 * await store.close();
 * ```
 */
export function connectRedis(
  url: string,
  options: RedisStoreOptions = {},
): Promise<RedisControlStore> {
  return RedisControlStore.connect(url, options);
}

/** A control store in Redis. Make one with `connectRedis`. */
export class RedisControlStore implements ControlStore {
  #address = "redis";
  #prefix: string;
  #conn!: Conn;
  #sha = "";
  /** How long `close` waits for an unreachable Redis to come back with queued writes. */
  readonly #closeWaitMs: number;
  readonly #commandMs: number;
  /** A command that missed its deadline and has not been answered yet. */
  #stuck?: Promise<unknown>;
  #lastError?: string;
  #queries!: RedisQueries;
  #publisher!: Publisher;
  #opts: Required<
    Pick<
      RedisStoreOptions,
      | "maxFinishedTasks"
      | "taskHistoryMax"
      | "flushIntervalMs"
      | "taskHoldMs"
      | "batchMax"
      | "queueMax"
      | "retryMaxMs"
    >
  >;
  #onReconnect?: (info: { dataLost: boolean }) => void;
  #queue = new WriteQueue();
  /** Resolves when the queue is below half of `queueMax` again; set while it is past it. */
  #drained?: { promise: Promise<void>; resolve: () => void };
  #timer?: LongTimer;
  #tail: Promise<void> = Promise.resolve();
  #down = false;
  #checking = false;
  #trouble?: string;
  #closed = false;
  #subscribers = new Subscribers();
  /** What is written about live things, written again when Redis comes back empty. */
  #live = new LiveState();
  #sub?: Conn;
  /** Times the script was loaded again (NOSCRIPT). */
  #loads = 0;
  #subReady = new Map<Channel, Promise<void>>();

  /** Not connected yet: use `connectRedis`. @param prefix key prefix @param options settings */
  constructor(prefix: string, options: RedisStoreOptions) {
    this.#prefix = prefix;
    this.#onReconnect = options.onReconnect;
    this.#closeWaitMs = options.connectTimeoutMs ?? GCS_DEFAULTS.connectTimeoutMs;
    this.#commandMs = options.commandTimeoutMs ?? GCS_DEFAULTS.commandTimeoutMs;
    this.#opts = {
      maxFinishedTasks: options.maxFinishedTasks ?? GCS_DEFAULTS.maxFinishedTasks,
      taskHistoryMax: options.taskHistoryMax ?? GCS_DEFAULTS.taskHistoryMax,
      flushIntervalMs: options.flushIntervalMs ?? GCS_DEFAULTS.flushIntervalMs,
      taskHoldMs: options.taskHoldMs ?? GCS_DEFAULTS.taskHoldMs,
      batchMax: options.batchMax ?? GCS_DEFAULTS.batchMax,
      queueMax: options.queueMax ?? GCS_DEFAULTS.queueMax,
      retryMaxMs: options.retryMaxMs ?? GCS_DEFAULTS.retryMaxMs,
    };
  }

  /** What `connectRedis` does. */
  static async connect(url: string, options: RedisStoreOptions = {}): Promise<RedisControlStore> {
    const prefix = options.prefix ?? "rayd:";
    const store = new RedisControlStore(prefix, options);
    const target = await openRedis(url, {
      prefix,
      username: options.username,
      password: options.password,
      connectTimeoutMs: options.connectTimeoutMs ?? GCS_DEFAULTS.connectTimeoutMs,
      retryMaxMs: options.retryMaxMs ?? GCS_DEFAULTS.retryMaxMs,
      script: APPLY_BATCH_LUA,
      events: {
        down: (err) => store.#wentDown(err),
        up: () => void store.#cameBack().catch(() => {}),
      },
    });
    store.#conn = target.conn;
    store.#sha = target.sha;
    store.#address = target.address;
    store.#queries = new RedisQueries((args) => store.#send(args), prefix);
    store.#publisher = new Publisher((args) => store.#send(args), prefix);
    return store;
  }

  /** `redis://host:port` (no password). */
  get address(): string {
    return this.#address;
  }

  /** Events queued and not yet written. */
  get queued(): number {
    return this.#queue.events;
  }

  record(event: ControlStoreEvent): void {
    if (this.#closed) return;
    this.#queue.push(event);
    if (this.#drained === undefined && this.#queue.pressure >= this.#opts.queueMax) {
      let resolve!: () => void;
      const promise = new Promise<void>((r) => resolve = r);
      this.#drained = { promise, resolve };
    }
    this.#schedule(this.#opts.flushIntervalMs);
  }

  backpressure(): Promise<void> | undefined {
    return this.#drained?.promise;
  }

  /** Written or given up on: the batch leaves the queue, and a full queue may have drained. */
  #take(): void {
    this.#queue.done();
    if (this.#drained && (this.#queue.pressure * 2 < this.#opts.queueMax || this.#closed)) {
      this.#drained.resolve();
      this.#drained = undefined;
    }
  }

  #schedule(ms: number): void {
    if (this.#timer !== undefined || this.#closed || this.#down) return;
    this.#timer = longTimeout(
      () => {
        this.#timer = undefined;
        this.#flushQueued(true).catch(() => {});
      },
      ms,
      { unref: true },
    );
  }

  /**
   * Sends one command with the deadline. While a command that missed it is
   * still unanswered, others fail at once instead of piling up behind it.
   */
  #send(args: string[]): Promise<unknown> {
    if (this.#stuck) return Promise.reject(noAnswer(this.#address, this.#commandMs));
    const sent = this.#conn.sendCommand(args);
    return withDeadline(sent, this.#commandMs, () => {
      const stuck = this.#stuck = sent.catch(() => {}).then(() => {
        if (this.#stuck !== stuck) return;
        this.#stuck = undefined;
        this.#schedule(0);
      });
      return noAnswer(this.#address, this.#commandMs);
    });
  }

  flush(): Promise<void> {
    return this.#flushQueued(false);
  }

  /** Writes what is queued; with `hold` (the timer's writes), not tasks still open for `taskHoldMs`. */
  #flushQueued(hold: boolean): Promise<void> {
    const run = this.#tail.catch(() => {}).then(() => this.#writeQueued(hold));
    this.#tail = run;
    return run;
  }

  async #writeQueued(hold: boolean): Promise<void> {
    let firstFailure: ControlStoreError | undefined;
    while (this.queued > 0) {
      if (this.#down || !this.#conn.isReady) throw writesQueued(this.#address, this.queued);
      const openAfter = hold ? Date.now() - this.#opts.taskHoldMs : Infinity;
      const cut = this.#queue.cut(this.#opts.batchMax, this.#opts.maxFinishedTasks, openAfter);
      if (cut.entries.length === 0) {
        // A task still open at the front: written once it ended (looked for each flush
        // interval: its end schedules nothing while this timer waits) or its hold is over.
        const held = this.#queue.openAt! - openAfter;
        this.#schedule(Math.max(1, Math.min(this.#opts.flushIntervalMs, held)));
        break;
      }
      const encoded = (cut.encoded ??= encodeBatch(cut.entries)) as WireBatch;
      const { members, events: batch } = encoded;
      let reply: unknown[];
      let listened: Promise<Set<Channel> | undefined>;
      try {
        const loads = this.#loads;
        const applied = this.#apply(encoded.json);
        // Asked behind the batch on the same connection, so answered once it is applied: whoever
        // subscribed before that is counted (unless the script had to be loaded again first).
        listened = this.#publisher.listened();
        reply = await applied;
        if (this.#loads !== loads) listened = Promise.resolve(undefined);
      } catch (err) {
        const e = redisError("write to", this.#address, err);
        this.#lastError = e.message;
        if (isTransient(e)) {
          this.#troubled(e);
          throw e;
        }
        this.#take();
        console.error(`rayd control store: ${batch.length} event(s) could not be recorded:`, e);
        throw e;
      }
      const stop = String(reply[1]);
      const failed = new Map<number, string>();
      for (let i = 2; i + 1 < reply.length; i += 2) {
        failed.set(Number(reply[i]), String(reply[i + 1]));
      }
      if (stop !== "") {
        // Nothing or a prefix was applied; the whole batch is sent again later
        // (applying an event twice changes nothing).
        const e = redisError("write to", this.#address, new Error(stop));
        this.#troubled(e);
        throw e;
      }
      this.#publisher.publish(batch, members, failed, await listened);
      this.#live.written(cut.entries);
      this.#lastError = undefined;
      this.#take();
      if (failed.size > 0) {
        const [i, msg] = failed.entries().next().value!;
        const e = redisError("write to", this.#address, new Error(msg));
        console.warn(
          `rayd control store: ${failed.size} write(s) were not recorded; the first ` +
            `(${batch[members[i][0]].type}): ${e.message}`,
        );
        firstFailure ??= e;
      }
      this.#healed();
    }
    if (firstFailure) throw firstFailure;
  }

  async #apply(json: string): Promise<unknown[]> {
    const args = [
      this.#prefix,
      String(this.#opts.maxFinishedTasks),
      String(this.#opts.taskHistoryMax),
      json,
    ];
    try {
      return await this.#send(["EVALSHA", this.#sha, "0", ...args]) as unknown[];
    } catch (err) {
      if (!String((err as Error)?.message).startsWith("NOSCRIPT")) throw err;
      this.#loads++;
      this.#sha = await this.#send(["SCRIPT", "LOAD", APPLY_BATCH_LUA]) as string;
      return await this.#send(["EVALSHA", this.#sha, "0", ...args]) as unknown[];
    }
  }

  /** Redis refuses writes for now (MISCONF, OOM, READONLY): warn once, retry later. */
  #troubled(e: ControlStoreError): void {
    // Lost connections come back by themselves (#cameBack); a silent Redis is retried.
    if (e.code === "unreachable" && (this.#down || !this.#conn.isReady)) return;
    if (this.#trouble === undefined) {
      console.warn(
        `rayd control store: ${e.message}; ${this.queued} event(s) queued, retrying every ` +
          `${this.#opts.retryMaxMs} ms`,
      );
    }
    this.#trouble = e.message;
    this.#retryLater();
  }

  #healed(): void {
    if (this.#trouble === undefined) return;
    this.#trouble = undefined;
    console.warn(`rayd control store: Redis at ${this.#address} accepts writes again`);
  }

  #retryLater(): void {
    this.#timer?.clear();
    this.#timer = undefined;
    this.#schedule(this.#opts.retryMaxMs);
  }

  #wentDown(err: unknown): void {
    if (this.#down || this.#closed) return;
    this.#down = true;
    this.#timer?.clear();
    this.#timer = undefined;
    const why = err instanceof Error ? err.message : String(err);
    console.warn(
      `rayd control store: Redis at ${this.#address} is unreachable (${why}); writes are queued ` +
        "in memory and replayed when it is back (past " +
        `${this.#opts.queueMax} queued, the node stops starting tasks); queries fail until then`,
    );
  }

  async #cameBack(): Promise<void> {
    if (!this.#down || this.#closed || this.#checking) return;
    // Still "down" for writes until it is known whether Redis lost its data.
    this.#checking = true;
    let dataLost = false;
    try {
      const meta = this.#prefix + "meta";
      dataLost = await this.#send(["EXISTS", meta]) === 0;
      await this.#send(["HSET", meta, "layout", "1"]);
    } catch {
      // The next write reports whatever is wrong.
    } finally {
      this.#checking = false;
      // Lost again while checking: the next "ready" checks again.
      this.#down = !this.#conn.isReady;
    }
    if (this.#down) return;
    let again = "";
    if (dataLost) {
      // Written before the outage and gone: what is alive is written again,
      // before the queued events that build on it.
      again = `; writing again what is alive (${this.#live.describe()})`;
      this.#queue.prepend(this.#live.take());
    }
    console.warn(
      `rayd control store: Redis at ${this.#address} is back` +
        (dataLost ? " but came back empty (it restarted without persistence)" : "") +
        `${again}; replaying ${this.queued} queued event(s)`,
    );
    this.#schedule(0);
    try {
      this.#onReconnect?.({ dataLost });
    } catch (err) {
      console.error("rayd control store: the onReconnect handler threw:", err);
    }
  }

  async #query<T>(f: (q: RedisQueries) => Promise<T>): Promise<T> {
    if (this.#closed) throw storeClosed(this.#address);
    if (this.#down || !this.#conn.isReady) throw storeUnreachable(this.#address, this.queued);
    if (this.#stuck) throw noAnswer(this.#address, this.#commandMs);
    try {
      return await f(this.#queries);
    } catch (err) {
      if (err instanceof RangeError) throw err;
      throw redisError("query", this.#address, err);
    }
  }

  getJob(jobId: JobId): Promise<JobRecord | undefined> {
    return this.#query((q) => q.getJob(jobId));
  }
  listJobs(filter: ListFilter<JobState> = {}): Promise<JobRecord[]> {
    return this.#query((q) => q.listJobs(filter));
  }
  getNode(nodeId: NodeId): Promise<NodeRecord | undefined> {
    return this.#query((q) => q.getNode(nodeId));
  }
  listNodes(filter: ListFilter<NodeState> = {}): Promise<NodeRecord[]> {
    return this.#query((q) => q.listNodes(filter));
  }
  listWorkers(filter: WorkerFilter = {}): Promise<WorkerRecord[]> {
    return this.#query((q) => q.listWorkers(filter));
  }
  getFunction(jobId: JobId, moduleUrl: string, key: string): Promise<FunctionRecord | undefined> {
    return this.#query((q) => q.getFunction(jobId, moduleUrl, key));
  }
  listFunctions(jobId: JobId): Promise<FunctionRecord[]> {
    return this.#query((q) => q.listFunctions(jobId));
  }
  getTask(taskId: TaskId): Promise<TaskRecord | undefined> {
    return this.#query((q) => q.getTask(taskId));
  }
  async getTaskSpec(taskId: TaskId): Promise<TaskSpec | undefined> {
    const task = await this.getTask(taskId);
    return task && specOf(task);
  }
  listTasks(filter: TaskFilter = {}): Promise<TaskRecord[]> {
    return this.#query((q) => q.listTasks(filter));
  }
  getObject(objectId: ObjectId): Promise<ObjectRecord | undefined> {
    return this.#query((q) => q.getObject(objectId));
  }
  listObjects(filter: ObjectFilter = {}): Promise<ObjectRecord[]> {
    return this.#query((q) => q.listObjects(filter));
  }
  getActor(actorId: ActorId): Promise<ActorRecord | undefined> {
    return this.#query((q) => q.getActor(actorId));
  }
  getNamedActor(name: string, namespace?: string): Promise<ActorRecord | undefined> {
    return this.#query((q) => q.getNamedActor(name, namespace));
  }
  listActors(filter: ActorFilter = {}): Promise<ActorRecord[]> {
    return this.#query((q) => q.listActors(filter));
  }
  summary(): Promise<StoreSummary> {
    return this.#query((q) => q.summary());
  }
  kvGet(key: string): Promise<string | undefined> {
    return this.#query((q) => q.kvGet(key));
  }
  kvPut(key: string, value: string): Promise<void> {
    if (this.#closed) return Promise.reject(storeClosed(this.#address));
    this.record({ type: "kvPut", key, value });
    return this.flush();
  }
  kvDelete(key: string): Promise<void> {
    if (this.#closed) return Promise.reject(storeClosed(this.#address));
    this.record({ type: "kvDelete", key });
    return this.flush();
  }
  kvKeys(prefix = ""): Promise<string[]> {
    return this.#query((q) => q.kvKeys(prefix));
  }

  /** Subscribes through a second connection, made on first use. */
  subscribe<C extends Channel>(
    channel: C,
    handler: (message: ChannelMessages[C]) => void,
  ): Unsubscribe {
    if (this.#closed) {
      const ready = Promise.reject(storeClosed(this.#address));
      ready.catch(() => {});
      return Object.assign(() => {}, { ready });
    }
    const remove = this.#subscribers.add(channel, handler);
    let ready = this.#subReady.get(channel);
    if (!ready) {
      ready = this.#listen(channel);
      ready.catch(() => this.#subReady.delete(channel));
      this.#subReady.set(channel, ready);
    }
    const unsubscribe = () => {
      remove();
      if (this.#subscribers.count(channel) > 0 || this.#closed) return;
      const was = this.#subReady.get(channel);
      this.#subReady.delete(channel);
      was?.then(() => this.#sub?.unsubscribe(this.#prefix + "ch:" + channel)).catch(() => {});
    };
    return Object.assign(unsubscribe, { ready });
  }

  async #listen(channel: Channel): Promise<void> {
    if (!this.#sub) {
      this.#sub = this.#conn.duplicate();
      this.#sub.on("error", () => {});
      await this.#deadline(this.#sub.connect());
    }
    await this.#deadline(this.#sub.subscribe(this.#prefix + "ch:" + channel, (text: string) => {
      let messages: ChannelMessages[Channel][];
      try {
        messages = JSON.parse(text);
      } catch {
        return;
      }
      for (const m of messages) this.#subscribers.deliver(channel, m);
    }));
  }

  /** `p`, or a `noAnswer` error once `ms` have passed. */
  #deadline<T>(p: Promise<T>, ms = this.#commandMs): Promise<T> {
    return withDeadline(p, ms, () => noAnswer(this.#address, ms));
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#timer?.clear();
    this.#timer = undefined;
    try {
      // Redis may be coming back: give queued writes until the connect deadline.
      const deadline = Date.now() + this.#closeWaitMs;
      while ((this.#down || !this.#conn.isReady) && this.queued > 0 && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 50));
      }
      // Everything queued is written while Redis takes it: each batch has the
      // command deadline, so a Redis that stops answering ends this.
      if (!this.#down && this.#conn.isReady) await this.flush();
    } catch (err) {
      // Reported below with the count of what is left.
      this.#lastError = (err as Error).message;
    }
    this.#closed = true;
    this.#drained?.resolve();
    this.#drained = undefined;
    clearTimeout(this.#timer);
    this.#timer = undefined;
    if (this.queued > 0) {
      const why = this.#down || !this.#conn.isReady
        ? "Redis is unreachable"
        : this.#lastError ?? "Redis did not take them";
      console.warn(
        `rayd control store: closing with ${this.queued} event(s) not written to ` +
          `${this.#address} (${why}); they are lost`,
      );
    }
    this.#subscribers.clear();
    const sub = this.#sub;
    this.#sub = undefined;
    await Promise.all([this.#closeConn(this.#conn), sub && this.#closeConn(sub)]);
  }

  /** Closes gracefully within the command deadline, else drops the socket. */
  async #closeConn(conn: Conn): Promise<void> {
    try {
      if (conn.isReady && !this.#stuck) await this.#deadline(conn.close());
      else conn.destroy();
    } catch {
      conn.destroy();
    }
  }
}
