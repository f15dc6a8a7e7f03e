/**
 * A worker as the node sees it, whatever runs it: a Web Worker of this
 * process (`ThreadWorker`), or, later, a worker on another node reached
 * over TCP. The pool makes each through a `WorkerFactory` and hears from it
 * through `WorkerEvents`; nothing else of the node needs to know which kind
 * it is.
 *
 * @module
 */
import type { JobId, NodeId, WorkerId } from "../common/mod.ts";
import type { FromWorker, ToWorker } from "../protocol/mod.ts";

/** One worker: sent messages, ended, and its count of messages that order its results. */
export interface WorkerHandle {
  readonly id: WorkerId;
  /** False once the worker died or was ended. */
  readonly alive: boolean;
  /** Messages received from the worker so far that order its results (see `ordersResults`). */
  readonly received: number;
  /** Functions this worker was told about: index by `fnKeyOf(descriptor)`. */
  readonly fnIndex: Map<string, number>;
  /** Posts a message to the worker; does nothing once it is gone. */
  send(msg: ToWorker): void;
  /** Ends the worker at once. Its events hear nothing of it (see `fail`). */
  terminate(): void;
  /**
   * Ends the worker as dead: `onDeath` follows (once; nothing when it was
   * already gone). `trusted`, when given, is how many of its messages came
   * before it went bad: results it wrote after them are not kept.
   */
  fail(detail: string, trusted?: number): void;
}

/** What a worker reports: each message, then its death (once). */
export interface WorkerEvents {
  onMessage(worker: WorkerHandle, msg: FromWorker): void;
  /** The worker is gone (see `WorkerHandle.fail` for `trusted`). */
  onDeath(worker: WorkerHandle, detail: string, trusted?: number): void;
}

/** What a worker gets in its "init" message besides its id and stop words. */
export interface WorkerInit {
  readonly jobId: JobId;
  readonly nodeId: NodeId;
  /** Its process's owner tag: its ids start with it. */
  readonly ownerTag: string;
  /** The shared store's memory. */
  readonly sab: SharedArrayBuffer;
  /** Whether its console output goes to the driver (absent: the worker's default). */
  readonly logToDriver?: boolean;
  /** Its task channel (task workers only). */
  readonly channel?: SharedArrayBuffer;
  /** It pushes its tasks to leased workers (runtime/links/owner_leases.ts). */
  readonly leases?: boolean;
}

/**
 * Makes a worker and sends it its init. It must not call `events` before
 * it returns.
 */
export type WorkerFactory = (
  id: WorkerId,
  init: WorkerInit,
  events: WorkerEvents,
) => WorkerHandle;
