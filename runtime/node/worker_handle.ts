/**
 * One Web Worker of the node, as the main thread sees it.
 *
 * @module
 */
import type { JobId, NodeId, WorkerId } from "../common/mod.ts";
import type { FromWorker, ToWorker } from "../protocol/mod.ts";
import { ordersResults } from "../protocol/mod.ts";
import { newStopWords, stopAndWait } from "../object_store/mod.ts";
import { WORKER_ENTRY_URL } from "../worker/mod.ts";

/** Called with each message of the worker, or once when it dies. */
export interface WorkerEvents {
  message(handle: WorkerHandle, msg: FromWorker): void;
  /**
   * The worker is gone. `trusted`, when given, is how many of its messages
   * came before it went bad: results it wrote after them are not kept.
   */
  died(handle: WorkerHandle, detail: string, trusted?: number): void;
}

/** A worker thread: started, sent messages, stopped. */
export class WorkerHandle {
  readonly #worker: Worker;
  readonly #events: WorkerEvents;
  /** Functions this worker was told about: index by `fnKeyOf(descriptor)`. */
  readonly fnIndex = new Map<string, number>();
  /** Messages received from the worker so far that order its results (see `ordersResults`). */
  received = 0;
  #alive = true;
  /** Shared words that keep the worker from being ended inside the store's lock. */
  readonly #stopWords = newStopWords();

  constructor(
    readonly id: WorkerId,
    init: {
      jobId: JobId;
      nodeId: NodeId;
      sab: SharedArrayBuffer;
      logToDriver?: boolean;
      channel?: SharedArrayBuffer;
    },
    events: WorkerEvents,
  ) {
    this.#events = events;
    this.#worker = new Worker(WORKER_ENTRY_URL, { type: "module", name: `rayd-${id}` });
    this.#worker.onmessage = (e: MessageEvent<FromWorker>) => {
      if (ordersResults(e.data)) this.received++;
      events.message(this, e.data);
    };
    this.#worker.onerror = (e: ErrorEvent) => {
      e.preventDefault();
      this.fail(`uncaught ${e.message}`);
    };
    this.#worker.onmessageerror = () => this.fail("a message could not be decoded");
    this.send({ type: "init", workerId: id, stopWords: this.#stopWords, ...init });
  }

  /** False once the worker died or was stopped. */
  get alive(): boolean {
    return this.#alive;
  }

  /** Posts a message to the worker. */
  send(msg: ToWorker): void {
    if (this.#alive) this.#worker.postMessage(msg);
  }

  /** Ends the worker at once (after it left the store's lock, if it held it). */
  terminate(): void {
    this.#alive = false;
    stopAndWait(this.#stopWords);
    this.#worker.terminate();
  }

  /** Ends the worker as dead (its owner hears of it through `died`); see WorkerEvents. */
  fail(detail: string, trusted?: number): void {
    if (!this.#alive) return;
    this.terminate();
    this.#events.died(this, detail, trusted);
  }
}
