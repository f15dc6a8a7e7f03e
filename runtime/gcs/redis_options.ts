/**
 * Settings of the Redis control store (`connectRedis`).
 *
 * @module
 */
import type { ControlStoreOptions } from "./control_store.ts";

/** Options of `connectRedis`. */
export interface RedisStoreOptions extends ControlStoreOptions {
  /** Prefix of every key and channel (default `"rayd:"`). */
  prefix?: string;
  /** Password, when not given in the URL (`redis://:PASSWORD@host:port`). */
  password?: string;
  /** User name for Redis ACLs, when not given in the URL. */
  username?: string;
  /** Most time an event waits before its batch is written (default `GCS_DEFAULTS.flushIntervalMs`). */
  flushIntervalMs?: number;
  /** How long a task's record may wait for the task's end: then one write (default `GCS_DEFAULTS.taskHoldMs`). */
  taskHoldMs?: number;
  /** Most events per round trip (default `GCS_DEFAULTS.batchMax`). */
  batchMax?: number;
  /**
   * Queue entries (a task with its merged changes is one; tasks still
   * waiting or running are not counted: the scheduler holds them anyway)
   * past which the store reports `backpressure()` until half of them are
   * written (default `GCS_DEFAULTS.queueMax`). Events are never dropped.
   */
  queueMax?: number;
  /** Deadline of the first connection and its checks (default `GCS_DEFAULTS.connectTimeoutMs`). */
  connectTimeoutMs?: number;
  /** Longest pause between retries while Redis is down (default `GCS_DEFAULTS.retryMaxMs`). */
  retryMaxMs?: number;
  /**
   * Deadline of each command (default `GCS_DEFAULTS.commandTimeoutMs`): a
   * query fails after it, a write stays queued and is retried. `close()`
   * takes at most `connectTimeoutMs + 2 * commandTimeoutMs` beyond the time
   * Redis takes to write what is queued.
   */
  commandTimeoutMs?: number;
  /**
   * Called when the connection comes back after an outage. `dataLost` is
   * true when Redis came back empty (it restarted without persistence): the
   * store has then queued again what it had written about live things (jobs,
   * nodes, workers, functions, actors, unfinished tasks, objects, KV);
   * finished task records written before the outage are gone.
   */
  onReconnect?: (info: { dataLost: boolean }) => void;
}
