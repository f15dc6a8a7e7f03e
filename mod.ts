/**
 * rayd: a Ray-style distributed execution engine for Deno and TypeScript.
 * Mark functions remote, call them, get object refs (futures) back at once;
 * the work runs in parallel on Web Workers and results move through a
 * shared-memory object store.
 *
 * @example
 * ```ts
 * import * as ray from "./mod.ts";
 *
 * export const add = ray.remote(function add(a: number, b: number) {
 *   return a + b;
 * });
 *
 * if (import.meta.main) {
 *   await ray.init();
 *   console.log(await ray.get(add.remote(1, ray.put(2)))); // 3
 *   await ray.shutdown();
 * }
 * ```
 *
 * This file is a door: everything public is re-exported from runtime/.
 * The API reference for users is docs/API.md.
 *
 * @module
 */
export {
  GetTimeoutError,
  ObjectLostError,
  ObjectStoreFullError,
  RayActorError,
  RayError,
  RayTaskError,
  SerializationError,
  TaskCancelledError,
  WorkerCrashedError,
} from "./runtime/common/mod.ts";
export {
  cancel,
  get,
  getRuntimeContext,
  isInitialized,
  ObjectRef,
  put,
  wait,
} from "./runtime/core/mod.ts";
export type {
  ActorClass,
  ActorHandle,
  ActorMethod,
  ActorOptions,
  AnyClass,
  AnyMethod,
  Arg,
  Args,
  CancelOptions,
  GetOptions,
  MethodNames,
  RefsFor,
  RefsOf,
  RemoteFunction,
  RemoteOptions,
  RuntimeContext,
  WaitOptions,
} from "./runtime/core/mod.ts";
export type { ObjectId } from "./runtime/common/mod.ts";
export type { NodeInfo } from "./runtime/node/mod.ts";
export type { GraphOptions, TraceEvent } from "./runtime/observability/mod.ts";
export {
  availableResources,
  clusterResources,
  getActor,
  graph,
  init,
  kill,
  nodes,
  remote,
  shutdown,
  timeline,
} from "./runtime/driver/mod.ts";
export type { ClusterInfo, GraphCallOptions, InitOptions } from "./runtime/driver/mod.ts";
