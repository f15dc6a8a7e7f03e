/**
 * Fake workers and a fake node for unit tests of the worker pool and of
 * what asks it for workers: a `FakeWorker` records what it was sent and
 * posts what a test tells it to; `FakeWorkers` is the factory the pool
 * gets; `FakePoolHost` logs every call of the pool, in order.
 */
import type { JobId, NodeId, WorkerId } from "../../runtime/common/mod.ts";
import type { FromWorker, ToWorker } from "../../runtime/protocol/mod.ts";
import { ordersResults } from "../../runtime/protocol/mod.ts";
import type {
  PoolHost,
  PoolOptions,
  WorkerEvents,
  WorkerHandle,
  WorkerInit,
} from "../../runtime/pool/mod.ts";

/** A worker that runs nothing: it keeps what it is sent and posts what a test says. */
export class FakeWorker implements WorkerHandle {
  readonly fnIndex = new Map<string, number>();
  readonly sent: ToWorker[] = [];
  #received = 0;
  #alive = true;
  terminated = false;

  constructor(
    readonly id: WorkerId,
    readonly init: WorkerInit,
    readonly events: WorkerEvents,
  ) {}

  get received(): number {
    return this.#received;
  }

  get alive(): boolean {
    return this.#alive;
  }

  send(msg: ToWorker): void {
    if (this.#alive) this.sent.push(msg);
  }

  terminate(): void {
    this.#alive = false;
    this.terminated = true;
  }

  fail(detail: string, trusted?: number): void {
    if (!this.#alive) return;
    this.terminate();
    this.events.onDeath(this, detail, trusted);
  }

  /** The worker posts `msg` to the main thread (anything: task code may post garbage). */
  post(msg: unknown): void {
    if (!this.#alive) return;
    if (ordersResults(msg as FromWorker)) this.#received++;
    this.events.onMessage(this, msg as FromWorker);
  }

  /** The worker says it started. */
  start(): void {
    this.post({ type: "started" });
  }
}

/** The factory the pool gets: every worker it made, by id. */
export class FakeWorkers {
  readonly made = new Map<string, FakeWorker>();

  readonly spawn = (id: WorkerId, init: WorkerInit, events: WorkerEvents): FakeWorker => {
    const worker = new FakeWorker(id, init, events);
    this.made.set(id, worker);
    return worker;
  };

  /** The worker `id` (throws when none was made). */
  get(id: string): FakeWorker {
    const worker = this.made.get(id);
    if (!worker) throw new Error(`no worker ${id} was made`);
    return worker;
  }
}

/** A node that logs what the pool tells it; `serve` throws for messages of type "bad". */
export class FakePoolHost implements PoolHost {
  readonly log: string[] = [];
  readonly served: [WorkerId, FromWorker][] = [];
  readonly channels = new Map<WorkerId, SharedArrayBuffer>();

  taskChannel(id: WorkerId): SharedArrayBuffer {
    const channel = new SharedArrayBuffer(8);
    this.channels.set(id, channel);
    return channel;
  }
  taskWorkerStarted(worker: WorkerHandle): void {
    this.log.push(`started ${worker.id}`);
  }
  taskWorkerLost(worker: WorkerHandle, trusted: number): void {
    this.log.push(`lost ${worker.id} trusted=${trusted}`);
  }
  taskWorkerDied(id: WorkerId, death: { cause: string; forcedCancel: boolean }): void {
    this.log.push(`died ${id}: ${death.cause}${death.forcedCancel ? " (forced cancel)" : ""}`);
  }
  serve(worker: WorkerHandle, msg: FromWorker): void {
    if ((msg as { type: string }).type === "bad") throw new TypeError("unknown message type");
    this.served.push([worker.id, msg]);
  }
  workerAdded(id: WorkerId): void {
    this.log.push(`added ${id}`);
  }
  workerGone(id: WorkerId, cause: string): void {
    this.log.push(`gone ${id}: ${cause}`);
  }
}

/** Pool options for tests: `spawn` makes fake workers. */
export function poolOptions(workers: FakeWorkers, extra: Partial<PoolOptions> = {}): PoolOptions {
  return {
    jobId: "j1" as JobId,
    nodeId: "n1" as NodeId,
    ownerTag: "0000abcd",
    sab: new SharedArrayBuffer(16),
    logToDriver: false,
    numWorkers: 2,
    maxWorkers: 8,
    startTimeoutMs: 10_000,
    spawn: workers.spawn,
    ...extra,
  };
}

/** Runs `fn` with console.warn captured; returns what it printed. */
export function warnings(fn: () => void): string[] {
  const printed: string[] = [];
  const warn = console.warn;
  console.warn = (...args: unknown[]) => void printed.push(args.join(" "));
  try {
    fn();
  } finally {
    console.warn = warn;
  }
  return printed;
}
