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

/**
 * Deno's own method that refs and unrefs a Web Worker (what the
 * `node:worker_threads` Worker's `unref()` uses; Web Workers have no public
 * one, denoland/deno#14318): a method of `Worker.prototype` under a symbol
 * without description. Taken only when its source shows that it refs and
 * unrefs the worker's pending ops; undefined on a Deno without it.
 */
const WORKER_REF: symbol | undefined = (() => {
  try {
    for (const key of Object.getOwnPropertySymbols(Worker.prototype)) {
      if (key.description !== undefined) continue;
      const method = (Worker.prototype as any)[key];
      if (
        typeof method === "function" && method.length === 1 &&
        /unrefOpPromise/.test(Function.prototype.toString.call(method))
      ) return key;
    }
  } catch {
    // A Worker.prototype that cannot be read like that: no unref.
  }
  return undefined;
})();

/**
 * Whether this Deno lets a Web Worker stop keeping the process alive (see
 * `unrefThreadWorker`): without it a driver only ends at `shutdown()`.
 */
export const canUnrefWorkers: boolean = WORKER_REF !== undefined;

/** A worker thread: started, sent messages, stopped. */
export class ThreadWorker implements WorkerHandle {
  readonly #worker: Worker;
  readonly #events: WorkerEvents;
  readonly fnIndex = new Map<string, number>();
  #received = 0;
  #alive = true;
  /** Shared words that keep the worker from being ended inside the store's lock. */
  readonly #stopWords = newStopWords();

  /**
   * Starts the worker and sends it `init`.
   *
   * @param unref the worker does not keep the process alive (where Deno allows it)
   */
  constructor(readonly id: WorkerId, init: WorkerInit, events: WorkerEvents, unref = false) {
    this.#events = events;
    this.#worker = new Worker(WORKER_ENTRY_URL, { type: "module", name: `rayd-${id}` });
    if (unref && WORKER_REF !== undefined) (this.#worker as any)[WORKER_REF](false);
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

/**
 * Makes a `ThreadWorker` that does not keep the process alive (where Deno
 * allows it, see `canUnrefWorkers`): its owner keeps the process alive while
 * the worker has work (runtime/common/keep_alive.ts). Its messages still
 * come while anything else keeps the process alive.
 */
export const unrefThreadWorker = (
  id: WorkerId,
  init: WorkerInit,
  events: WorkerEvents,
): WorkerHandle => new ThreadWorker(id, init, events, true);
