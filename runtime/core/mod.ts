/**
 * What a driver or a worker links: ObjectRef, remote functions, put/get/wait.
 *
 * @module
 */
export { ObjectRef } from "./object_ref.ts";
export { backend, currentBackend, setBackend, taskContext } from "./backend.ts";
export type { Backend, TaskContext, WaitRequest, WaitResult } from "./backend.ts";
export {
  callerModuleUrl,
  lookupFunction,
  registerFunction,
  resolveFunction,
} from "./function_registry.ts";
export { errorFrame, frameBytes, fromFrame, isErrorFrame, toFrame } from "./frames.ts";
export { cancel, get, getRuntimeContext, isInitialized, put, wait } from "./objects.ts";
export type { CancelOptions, GetOptions, RuntimeContext, WaitOptions } from "./objects.ts";
export { makeRemoteFunction, RemoteFunction } from "./remote_function.ts";
export type { Arg, Args, RefsFor } from "./remote_function.ts";
export { mergeOptions } from "./options.ts";
export type { RemoteOptions } from "./options.ts";
