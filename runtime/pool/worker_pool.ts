/**
 * Every worker of a node: the task workers (`w1`, `w2`, ...) and one worker
 * per actor (`a1`, `a2`, ...). The pool spawns them, times a task worker's
 * start, routes every message they send (one router: what the pool handles
 * itself, what an actor's owner handles, and what the node serves), handles
 * their deaths (the cause is kept for the tasks a worker took down), and
 * replaces task workers that died.
 *
 * A death runs in this order, once per worker: its owner forgets it (and
 * keeps what it finished before it went bad), the node lets go of it
 * (`workerGone`: waits, holds, promises, links), then its owner reacts
 * (tasks retried or failed and a new task worker started, or the actor
 * restarted or dead).
 *
 * @module
 */
import type { JobId, NodeId, WorkerId } from "../common/mod.ts";
import { config, longTimeout, workerStartFailed } from "../common/mod.ts";
import type { FromWorker } from "../protocol/mod.ts";
import { ordersResults } from "../protocol/mod.ts";
import { threadWorker } from "./thread_worker.ts";
import type { WorkerFactory, WorkerHandle, WorkerInit } from "./worker_handle.ts";

/** How a worker died. */
export interface WorkerDeath {
  /** Why, in words (for errors and the control store). */
  readonly cause: string;
  /** It was ended on purpose to force-cancel one task: its other tasks spend no retry. */
  readonly forcedCancel: boolean;
}

/** What the pool needs from its node. */
export interface PoolHost {
  /** The task channel a new task worker gets in its "init" message. */
  taskChannel(id: WorkerId): SharedArrayBuffer;
  /** A task worker said it started: it may take tasks. */
  taskWorkerStarted(worker: WorkerHandle): void;
  /**
   * A task worker is gone (told first): keep the results it wrote after at
   * most `trusted` of its messages, and drop its channel.
   */
  taskWorkerLost(worker: WorkerHandle, trusted: number): void;
  /** A task worker that had started died (told last, not at shutdown): its tasks are retried or failed. */
  taskWorkerDied(id: WorkerId, death: WorkerDeath): void;
  /**
   * Serves a message any worker may send (put, submit, wait, refs, ...).
   * Throws for one it cannot handle: that worker is then ended.
   */
  serve(worker: WorkerHandle, msg: FromWorker): void;
  /** A worker joined: it may send waits. */
  workerAdded(id: WorkerId): void;
  /** A worker left: its waits, holds, promises and links go too. */
  workerGone(id: WorkerId, cause: string): void;
}

/** Messages only an actor's worker sends, for the actor's owner. */
export type ActorWorkerMessage = Extract<
  FromWorker,
  { type: "actorCreated" | "actorIdle" | "actorLinkBroken" }
>;

/** Whom an actor's worker works for (the actor manager, for one actor). */
export interface ActorWorkerOwner {
  /** A message of the actor's own. */
  message(worker: WorkerHandle, msg: ActorWorkerMessage): void;
  /** The worker is gone (told first): stop using it. */
  lost(worker: WorkerHandle): void;
  /** Then, once the node let go of it (not at shutdown): restart the actor or let it die. */
  died(worker: WorkerHandle, death: WorkerDeath): void;
}

/** How the pool is set up. */
export interface PoolOptions {
  readonly jobId: JobId;
  readonly nodeId: NodeId;
  /** The process's owner tag, for every worker's ids. */
  readonly ownerTag: string;
  /** The shared store's memory, for every worker. */
  readonly sab: SharedArrayBuffer;
  /** Task workers: their console output goes to the driver (actor workers keep their default). */
  readonly logToDriver: boolean;
  /** Workers push their tasks to leased workers (the `leasedTasks` setting, embedded mode). */
  readonly leases?: boolean;
  /** Task workers kept alive (a dead one is replaced while fewer run). */
  readonly numWorkers: number;
  /** Task workers at most, when the scheduler asks for more. */
  readonly maxWorkers: number;
  /** How long a task worker may take to start (default: the `workerStartTimeoutMs` setting). */
  readonly startTimeoutMs?: number;
  /** Makes workers (default: Web Workers of this process). */
  readonly spawn?: WorkerFactory;
}

interface Entry {
  readonly worker: WorkerHandle;
  /** Absent for a task worker. */
  readonly actor?: ActorWorkerOwner;
  /** A task worker not started yet: settles its start, with the reason it failed. */
  starting?: (error?: Error) => void;
}

const ACTOR_MESSAGES: ReadonlySet<string> = new Set([
  "actorCreated",
  "actorIdle",
  "actorLinkBroken",
]);

/** Why a worker that said "closing" is gone. */
function closingCause(exitCode: unknown): string {
  return typeof exitCode === "number"
    ? `it exited with code ${exitCode} (Deno.exit() or process.exit())`
    : "it closed itself (self.close())";
}

/** The workers of one node. */
export class WorkerPool {
  readonly #host: PoolHost;
  readonly #options: PoolOptions;
  readonly #spawn: WorkerFactory;
  readonly #entries = new Map<WorkerId, Entry>();
  readonly #taskWorkers = new Map<WorkerId, WorkerHandle>();
  /** Why each task worker that died after it started died (for the tasks it took down). */
  readonly #causes = new Map<WorkerId, string>();
  #spawning = 0;
  #nextTask = 1;
  #nextActor = 1;
  #stopped = false;

  /**
   * @param host the node's parts the pool uses
   * @param options ids, sizes and the worker factory
   */
  constructor(host: PoolHost, options: PoolOptions) {
    this.#host = host;
    this.#options = options;
    this.#spawn = options.spawn ?? threadWorker;
  }

  /** The task workers, by id (live or starting). */
  get taskWorkers(): ReadonlyMap<WorkerId, WorkerHandle> {
    return this.#taskWorkers;
  }

  /** Task workers starting. */
  get starting(): number {
    return this.#spawning;
  }

  /** Starts `numWorkers` task workers; settles once all started, or with the first that failed. */
  start(): Promise<void> {
    const started = [];
    for (let i = 0; i < this.#options.numWorkers; i++) started.push(this.#spawnTaskWorker());
    return Promise.all(started).then(() => {});
  }

  /** Starts up to `count` more task workers (fewer while some start, none beyond `maxWorkers`). */
  grow(count: number): void {
    // Counted once: each spawn below changes both the room and the workers starting.
    const room = this.#options.maxWorkers - this.#taskWorkers.size;
    const more = Math.min(room, count - this.#spawning);
    for (let i = 0; i < more; i++) this.#spawnTaskWorker().catch(() => {});
  }

  /** Starts a worker for an actor; `owner` hears its own messages and its death. */
  spawnActorWorker(owner: ActorWorkerOwner): WorkerHandle {
    const id = `a${this.#nextActor++}` as WorkerId;
    const { jobId, nodeId, ownerTag, sab } = this.#options;
    return this.#add(id, { jobId, nodeId, ownerTag, sab, leases: this.#options.leases }, owner);
  }

  /** Why task worker `id` died, if it died after it started. */
  deathCause(id: WorkerId): string | undefined {
    return this.#causes.get(id);
  }

  /** Ends `worker` now, as a death with `death`'s cause (its owner reacts). */
  end(worker: WorkerHandle, death: WorkerDeath): void {
    worker.terminate();
    this.#died(worker, death, worker.received);
  }

  /** Ends `worker` for good: the node lets go of it, and its owner is not told (it asked). */
  retire(worker: WorkerHandle, cause: string): void {
    worker.terminate();
    if (this.#entries.get(worker.id)?.worker !== worker) return;
    this.#remove(worker.id);
    this.#host.workerGone(worker.id, cause);
  }

  /** Ends every worker; returns the ids of the task workers that were running. */
  shutdown(): WorkerId[] {
    this.#stopped = true;
    const tasks = [...this.#taskWorkers.keys()];
    for (const { worker } of this.#entries.values()) worker.terminate();
    this.#entries.clear();
    this.#taskWorkers.clear();
    return tasks;
  }

  #spawnTaskWorker(): Promise<void> {
    const id = `w${this.#nextTask++}` as WorkerId;
    const { promise, resolve, reject } = Promise.withResolvers<void>();
    const timeoutMs = this.#options.startTimeoutMs ?? config("workerStartTimeoutMs");
    const settle = (error?: Error) => {
      timer.clear();
      const entry = this.#entries.get(id);
      if (entry) entry.starting = undefined;
      this.#spawning--;
      if (error) reject(error);
      else resolve();
    };
    const timer = longTimeout(
      () => settle(workerStartFailed(id, `not started within ${timeoutMs} ms`)),
      timeoutMs,
    );
    this.#spawning++;
    const { jobId, nodeId, ownerTag, sab, logToDriver, leases } = this.#options;
    const channel = this.#host.taskChannel(id);
    const worker = this.#add(id, { jobId, nodeId, ownerTag, sab, logToDriver, channel, leases });
    this.#taskWorkers.set(id, worker);
    this.#entries.get(id)!.starting = settle;
    return promise;
  }

  #add(id: WorkerId, init: WorkerInit, actor?: ActorWorkerOwner): WorkerHandle {
    const worker = this.#spawn(id, init, {
      onMessage: (w, msg) => this.#route(w, msg),
      onDeath: (w, detail, trusted) =>
        this.#died(w, { cause: detail, forcedCancel: false }, trusted ?? w.received),
    });
    this.#entries.set(id, { worker, actor });
    this.#host.workerAdded(id);
    return worker;
  }

  #remove(id: WorkerId): void {
    this.#entries.delete(id);
    this.#taskWorkers.delete(id);
  }

  /**
   * The one router of worker messages. Task code runs in the worker's
   * thread and can post anything: a message that cannot be handled ends
   * that worker (its tasks are retried) instead of the node.
   */
  #route(worker: WorkerHandle, msg: FromWorker): void {
    if (this.#stopped) return;
    const entry = this.#entries.get(worker.id);
    if (entry?.worker !== worker) return;
    try {
      if (typeof msg !== "object" || msg === null) throw new TypeError("not an object");
      if (msg.type === "started") {
        if (entry.actor) return;
        entry.starting?.();
        this.#host.taskWorkerStarted(worker);
      } else if (msg.type === "closing") {
        worker.fail(closingCause(msg.exitCode));
      } else if (ACTOR_MESSAGES.has(msg.type)) {
        if (!entry.actor) throw new TypeError("unknown message type");
        entry.actor.message(worker, msg as ActorWorkerMessage);
      } else {
        this.#host.serve(worker, msg);
      }
    } catch (err) {
      const what = typeof msg === "object" && msg !== null ? String(msg.type) : typeof msg;
      console.warn(
        `rayd: worker ${worker.id} sent a message that cannot be handled (${what}): ` +
          `${(err as Error).message}; ending that worker`,
      );
      // Results it wrote after the bad message are not trusted.
      worker.fail(
        `it sent a bad message (${what})`,
        worker.received - (ordersResults(msg) ? 1 : 0),
      );
    }
  }

  /**
   * `worker` is gone. What it finished before is kept: results written
   * after at most `trusted` of its messages (a result written after a
   * message that never came may refer to what that message carried).
   */
  #died(worker: WorkerHandle, death: WorkerDeath, trusted: number): void {
    const entry = this.#entries.get(worker.id);
    if (entry?.worker !== worker) return;
    const { actor } = entry;
    if (actor) actor.lost(worker);
    else this.#host.taskWorkerLost(worker, trusted);
    if (this.#entries.get(worker.id) !== entry) return;
    this.#remove(worker.id);
    this.#host.workerGone(worker.id, death.cause);
    if (entry.starting) {
      // A worker that cannot start would fail again: report it, do not respawn.
      return entry.starting(workerStartFailed(worker.id, death.cause));
    }
    if (this.#stopped) return;
    if (actor) return actor.died(worker, death);
    this.#causes.set(worker.id, death.cause);
    this.#host.taskWorkerDied(worker.id, death);
    if (this.#taskWorkers.size < this.#options.numWorkers) {
      this.#spawnTaskWorker().catch(() => {});
    }
  }
}
