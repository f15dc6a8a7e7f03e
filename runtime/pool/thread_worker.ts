/**
 * A worker that is a Web Worker of this process.
 *
 * @module
 */
import type { WorkerId } from "../common/mod.ts";
import type { FromWorker, ToWorker } from "../protocol/mod.ts";
import { ordersResults } from "../protocol/mod.ts";
import { newStopWords, stopAndWait } from "../object_store/mod.ts";
import { WORKER_ENTRY_URL } from "../worker/mod.ts";
import type { WorkerEvents, WorkerHandle, WorkerInit } from "./worker_handle.ts";

/** A worker thread: started, sent messages, stopped. */
export class ThreadWorker implements WorkerHandle {
  readonly #worker: Worker;
  readonly #events: WorkerEvents;
  readonly fnIndex = new Map<string, number>();
  #received = 0;
  #alive = true;
  /** Shared words that keep the worker from being ended inside the store's lock. */
  readonly #stopWords = newStopWords();

  /** Starts the worker and sends it `init`. */
  constructor(readonly id: WorkerId, init: WorkerInit, events: WorkerEvents) {
    this.#events = events;
    this.#worker = new Worker(WORKER_ENTRY_URL, { type: "module", name: `rayd-${id}` });
    this.#worker.onmessage = (e: MessageEvent<FromWorker>) => {
      if (ordersResults(e.data)) this.#received++;
      events.onMessage(this, e.data);
    };
    this.#worker.onerror = (e: ErrorEvent) => {
      e.preventDefault();
      this.fail(`uncaught ${e.message}`);
    };
    this.#worker.onmessageerror = () => this.fail("a message could not be decoded");
    this.send({ type: "init", workerId: id, stopWords: this.#stopWords, ...init });
  }

  get received(): number {
    return this.#received;
  }

  get alive(): boolean {
    return this.#alive;
  }

  send(msg: ToWorker): void {
    if (this.#alive) this.#worker.postMessage(msg);
  }

  /** Ends the worker at once (after it left the store's lock, if it held it). */
  terminate(): void {
    this.#alive = false;
    stopAndWait(this.#stopWords);
    this.#worker.terminate();
  }

  fail(detail: string, trusted?: number): void {
    if (!this.#alive) return;
    this.terminate();
    this.#events.onDeath(this, detail, trusted);
  }
}

/** Makes a `ThreadWorker` (the pool's default `WorkerFactory`). */
export const threadWorker = (
  id: WorkerId,
  init: WorkerInit,
  events: WorkerEvents,
): WorkerHandle => new ThreadWorker(id, init, events);
