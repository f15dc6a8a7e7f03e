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
 * @module
 */
import { alreadyInitialized, notImplemented, notInitialized } from "./runtime/common/mod.ts";
import {
  callerModuleUrl,
  currentBackend,
  makeRemoteFunction,
  registerFunction,
  type RemoteFunction,
  type RemoteOptions,
  setBackend,
} from "./runtime/core/mod.ts";
import { Node, type NodeInfo } from "./runtime/node/mod.ts";

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
  Arg,
  CancelOptions,
  GetOptions,
  RefsFor,
  RemoteFunction,
  RemoteOptions,
  RuntimeContext,
  WaitOptions,
} from "./runtime/core/mod.ts";
export type { NodeInfo } from "./runtime/node/mod.ts";

/** Options of `init`, as in shared/API.md. */
export interface InitOptions {
  /** `"host:port"` of a head node, or `"auto"` for `RAYD_ADDRESS`; omit for an embedded cluster. */
  address?: string;
  /** Web Workers to start (default `navigator.hardwareConcurrency`). */
  numWorkers?: number;
  /** CPUs the node offers to tasks (default: the worker count). */
  numCpus?: number;
  /** Custom resources, e.g. `{ GPU: 1 }`. */
  resources?: Record<string, number>;
  /** Most bytes the shared object store may use. */
  objectStoreMemory?: number;
  /** Where objects are spilled when the store is full. */
  spillDirectory?: string;
  /** Namespace of named actors. */
  namespace?: string;
  /** Cluster auth token. */
  token?: string;
  /** Serve the dashboard. */
  dashboard?: boolean | { port?: number };
  /** Print workers' output in this process (default true). */
  logToDriver?: boolean;
  /** Keep the embedded cluster's control store in this Redis. */
  redisAddress?: string;
  /** Make a second `init` a no-op instead of an error. */
  ignoreReinitError?: boolean;
}

/** What `init` started or joined. */
export interface ClusterInfo {
  address: string;
  nodeId: string;
  numWorkers: number;
  resources: Record<string, number>;
  dashboardUrl?: string;
}

const INIT_KEYS = new Set([
  "address",
  "numWorkers",
  "numCpus",
  "resources",
  "objectStoreMemory",
  "spillDirectory",
  "namespace",
  "token",
  "dashboard",
  "logToDriver",
  "redisAddress",
  "ignoreReinitError",
]);

let node: Node | undefined;

function clusterInfo(): ClusterInfo {
  const be = currentBackend()!;
  if (node) {
    const info = node.info();
    return {
      address: info.address,
      nodeId: info.nodeId,
      numWorkers: node.numWorkers,
      resources: info.resources,
    };
  }
  return { address: "worker", nodeId: be.nodeId, numWorkers: 0, resources: {} };
}

/**
 * Starts an embedded single-node cluster in this process (or, later, joins
 * one at `address`).
 *
 * @param options see InitOptions
 * @returns the cluster's address, node id, worker count and resources
 * @throws RayError when already initialized (unless `ignoreReinitError`)
 */
export async function init(options: InitOptions = {}): Promise<ClusterInfo> {
  if (typeof options !== "object" || options === null) {
    throw new TypeError(`Invalid init options: expected an object, got ${String(options)}`);
  }
  for (const key of Object.keys(options)) {
    if (!INIT_KEYS.has(key)) throw new TypeError(`Invalid init options: unknown option "${key}"`);
  }
  if (currentBackend()) {
    if (options.ignoreReinitError) return clusterInfo();
    throw alreadyInitialized();
  }
  const address = options.address === "auto"
    ? Deno.env.get("RAYD_ADDRESS")
    : options.address ?? Deno.env.get("RAYD_ADDRESS");
  if (address) throw notImplemented(`cluster mode (init with address ${address})`);
  if (options.redisAddress) throw notImplemented("init({ redisAddress })");
  if (options.dashboard) throw notImplemented("init({ dashboard })");
  const started = await Node.start({
    numWorkers: options.numWorkers,
    numCpus: options.numCpus,
    resources: options.resources,
    objectStoreMemory: options.objectStoreMemory,
  });
  if (currentBackend()) {
    await started.shutdown();
    throw alreadyInitialized();
  }
  node = started;
  setBackend(node);
  return clusterInfo();
}

/** Stops what `init` started; safe to call twice. */
export async function shutdown(): Promise<void> {
  const stopping = node;
  if (!stopping) return;
  node = undefined;
  setBackend(undefined);
  await stopping.shutdown();
}

/** Marks a function remote: its `.remote()` calls run as tasks and return refs. */
export function remote<F extends (...args: any[]) => unknown, N extends number = 1>(
  fn: F,
  options?: RemoteOptions & { numReturns?: N },
): RemoteFunction<F, N> {
  if (typeof fn !== "function") {
    throw new TypeError(`Cannot make remote: expected a function or class, got ${typeof fn}`);
  }
  if (/^class\b/.test(Function.prototype.toString.call(fn))) {
    throw notImplemented("actors (ray.remote on a class)");
  }
  const rf = makeRemoteFunction<F, N>(registerFunction(fn, callerModuleUrl()), options);
  // A named function expression sees its own name, not the const holding the
  // RemoteFunction (`ray.remote(function fib() { fib.remote() })`): give the
  // plain function the same two methods so that both spellings work.
  for (const method of ["remote", "options"] as const) {
    Object.defineProperty(fn, method, { value: rf[method].bind(rf), configurable: true });
  }
  return rf;
}

function driverNode(call: string): Node {
  if (node) return node;
  if (currentBackend()) throw notImplemented(`${call} inside a task`);
  throw notInitialized(call);
}

/** The cluster's nodes. */
export function nodes(): Promise<NodeInfo[]> {
  return Promise.resolve([driverNode("nodes").info()]);
}

/** Total resources of the cluster. */
export function clusterResources(): Promise<Record<string, number>> {
  return Promise.resolve({ ...driverNode("clusterResources").resources });
}

/** Resources not held by running tasks. */
export function availableResources(): Promise<Record<string, number>> {
  return Promise.resolve(driverNode("availableResources").available());
}

/** Finds a named actor (not implemented yet). */
export function getActor(_name: string, _options?: { namespace?: string }): Promise<never> {
  return Promise.reject(notImplemented("getActor"));
}

/** Kills an actor (not implemented yet). */
export function kill(_handle: unknown, _options?: { noRestart?: boolean }): Promise<void> {
  return Promise.reject(notImplemented("kill"));
}

/** Chrome trace events of finished tasks (not implemented yet). */
export function timeline(_path?: string): Promise<unknown[]> {
  return Promise.reject(notImplemented("timeline"));
}

/** The computation graph as DOT (not implemented yet). */
export function graph(_options?: Record<string, unknown>): Promise<string> {
  return Promise.reject(notImplemented("graph"));
}
