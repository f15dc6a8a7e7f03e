/**
 * The worker pool: every worker of a node (task workers and actor workers),
 * behind one handle interface that a worker on another node can implement.
 *
 * @module
 */
export type { WorkerEvents, WorkerFactory, WorkerHandle, WorkerInit } from "./worker_handle.ts";
export { canUnrefWorkers, ThreadWorker, threadWorker, unrefThreadWorker } from "./thread_worker.ts";
export {
  type ActorWorkerMessage,
  type ActorWorkerOwner,
  type PoolHost,
  type PoolOptions,
  type WorkerDeath,
  WorkerPool,
} from "./worker_pool.ts";
