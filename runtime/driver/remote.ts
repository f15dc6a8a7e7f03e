/**
 * `remote`: one call that marks a function (a task) or a class (an actor)
 * remote.
 *
 * @module
 */
import {
  type ActorClass,
  type ActorOptions,
  callerModuleUrl,
  makeActorClass,
  makeRemoteFunction,
  registerFunction,
  type RemoteFunction,
  type RemoteOptions,
} from "../core/mod.ts";

/**
 * Marks a class remote: `.remote(...ctorArgs)` starts an actor (an instance
 * living in a worker of its own) and returns its handle at once; `handle.method.remote(...)`
 * queues a call and returns its ref.
 */
export function remote<C extends new (...args: any[]) => any>(
  cls: C,
  options?: ActorOptions,
): ActorClass<C>;
/** Marks a function remote: its `.remote()` calls run as tasks and return refs. */
export function remote<F extends (...args: any[]) => unknown, N extends number = 1>(
  fn: F,
  options?: RemoteOptions & { numReturns?: N },
): RemoteFunction<F, N>;
export function remote(
  fn: (...args: any[]) => unknown,
  options?: RemoteOptions | ActorOptions,
): RemoteFunction<any, number> | ActorClass<any> {
  if (typeof fn !== "function") {
    throw new TypeError(`Cannot make remote: expected a function or class, got ${typeof fn}`);
  }
  const rf = /^class\b/.test(Function.prototype.toString.call(fn))
    ? makeActorClass(registerFunction(fn, callerModuleUrl()), fn as any, options as ActorOptions)
    : makeRemoteFunction(registerFunction(fn, callerModuleUrl()), options as RemoteOptions);
  // A named function or class expression sees its own name, not the const
  // holding the result (`ray.remote(function fib() { fib.remote() })`): give
  // the plain function the same two methods so that both spellings work.
  for (const method of ["remote", "options"] as const) {
    Object.defineProperty(fn, method, { value: rf[method].bind(rf), configurable: true });
  }
  return rf;
}
