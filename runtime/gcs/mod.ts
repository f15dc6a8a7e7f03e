/**
 * The control store (Ray's GCS): jobs, nodes and their heartbeats, workers,
 * functions, tasks with their state history and lineage, objects and their
 * locations, actors, and a small KV; pub/sub of node, object, actor and task
 * changes; state queries for the CLI and the dashboard.
 *
 * One interface, `ControlStore`, two implementations: `MemoryControlStore`
 * (embedded mode) and the Redis store from `connectRedis` (cluster mode).
 * Writes are events given to `record()`, which never waits: they are applied
 * in the background in batches. docs/ARCHITECTURE.md ("Control store") has the
 * event types and the Redis key layout.
 *
 * @example
 * ```ts
 * import { MemoryControlStore } from "./mod.ts";
 * const store = new MemoryControlStore({ maxFinishedTasks: 1000 });
 * const stop = store.subscribe("node", (m) => console.log(m.type, m.nodeId));
 * store.record({
 *   type: "nodeAdded",
 *   nodeId: "n1" as never,
 *   ts: Date.now(),
 *   address: "127.0.0.1:6380",
 *   resources: { CPU: 2 },
 *   numWorkers: 2,
 * });
 * await store.flush();
 * console.assert((await store.listNodes({ state: "alive" })).length === 1);
 * stop();
 * await store.close();
 * ```
 *
 * @module
 */
export * from "./control_store.ts";
export * from "./events.ts";
export * from "./records.ts";
export * from "./errors.ts";
export { MemoryControlStore } from "./memory_store.ts";
export { connectRedis, RedisControlStore, type RedisStoreOptions } from "./redis_store.ts";
