/**
 * What a driver or a worker links: ObjectRef, remote functions, put/get/wait.
 *
 * @module
 */
export { isReleased, ObjectRef, ownedRef, ownedRefs, ownerOf, trackRef } from "./object_ref.ts";
export { REF_OP, refTracker } from "./ref_tracker.ts";
export {
  collectedSinceLastAsked,
  collectGarbage,
  reclaimBeforeFresh,
  reclaimDropped,
  storeReclaimer,
} from "./gc.ts";
export { backend, currentBackend, currentTask, runTask, setBackend } from "./backend.ts";
export type { Backend, TaskContext, WaitRequest, WaitResult } from "./backend.ts";
export {
  callerModuleUrl,
  lookupFunction,
  registerFunction,
  resolveFunction,
} from "./function_registry.ts";
export {
  errorFrame,
  frameBytes,
  fromFrame,
  isErrorFrame,
  toFrame,
  VIEW_REF_PREFIX,
} from "./frames.ts";
export {
  cancel,
  get,
  getRuntimeContext,
  isInitialized,
  put,
  setProgressHook,
  wait,
} from "./objects.ts";
export type { CancelOptions, GetOptions, RuntimeContext, WaitOptions } from "./objects.ts";
export { makeRemoteFunction, RemoteFunction } from "./remote_function.ts";
export type { Arg, Args, RefsFor, RefsOf } from "./remote_function.ts";
export { mergeOptions } from "./options.ts";
export {
  ACTOR_REF_PREFIX,
  ActorClass,
  actorEntryOf,
  currentActorId,
  handleOf,
  makeActorClass,
  setCurrentActor,
} from "./actor.ts";
export type { ActorHandle, ActorMethod, AnyClass, AnyMethod, MethodNames } from "./actor.ts";
export type { ActorBackend } from "./actor_backend.ts";
export { mergeActorOptions } from "./actor_options.ts";
export type { ActorOptions } from "./actor_options.ts";
export type { RemoteOptions } from "./options.ts";
