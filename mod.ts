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
import {
  actorNotFound,
  alreadyInitialized,
  notImplemented,
  notInitialized,
} from "./runtime/common/mod.ts";
import {
  type ActorClass,
  actorEntryOf,
  type ActorHandle,
  type ActorOptions,
  backend,
  callerModuleUrl,
  currentBackend,
  handleOf,
  makeActorClass,
  makeRemoteFunction,
  type ObjectRef,
  registerFunction,
  type RemoteFunction,
  type RemoteOptions,
  setBackend,
  setProgressHook,
} from "./runtime/core/mod.ts";
import { Node, type NodeInfo } from "./runtime/node/mod.ts";
import {
  type Dashboard,
  graphOf,
  type GraphOptions,
  renderSvg,
  startDashboard,
  terminalProgress,
  timelineOf,
  type TraceEvent,
} from "./runtime/observability/mod.ts";
import { connectRedis } from "./runtime/gcs/mod.ts";
import { canUnrefWorkers } from "./runtime/pool/mod.ts";

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
  /** Address of the cluster's head node. */
  address: string;
  /** Id of the node this process uses. */
  nodeId: string;
  /** Number of workers on that node. */
  numWorkers: number;
  /** Resources of that node, by name. */
  resources: Record<string, number>;
  /** URL of the dashboard, when one is served. */
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
let dashboard: Dashboard | undefined;

function clusterInfo(): ClusterInfo {
  const be = currentBackend()!;
  if (node) {
    const info = node.info();
    return {
      address: info.address,
      nodeId: info.nodeId,
      numWorkers: node.numWorkers,
      resources: info.resources,
      ...(dashboard ? { dashboardUrl: dashboard.url } : {}),
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
  const controlStore = options.redisAddress ? await connectRedis(options.redisAddress) : undefined;
  const started = await Node.start({
    controlStore,
    numWorkers: options.numWorkers,
    numCpus: options.numCpus,
    resources: options.resources,
    objectStoreMemory: options.objectStoreMemory,
    spillDirectory: options.spillDirectory,
    namespace: options.namespace,
    logToDriver: options.logToDriver,
  });
  if (currentBackend()) {
    await started.shutdown();
    throw alreadyInitialized();
  }
  node = started;
  setBackend(node);
  setProgressHook(terminalProgress());
  endWithScript();
  if (options.dashboard) await serveDashboard(started, options.dashboard);
  return clusterInfo();
}

let endsWithScript = false;

/**
 * A driver ends when its script's work is done, without `shutdown()`: idle
 * workers keep nothing alive (the node keeps the process alive only while
 * work is outstanding), so the event loop empties and `beforeunload` comes;
 * then rayd shuts down (records written, spill files removed) and the
 * process exits with the script's exit code. On a Deno whose Web Workers
 * cannot be unref'd, says once that the script must call `shutdown()`.
 */
function endWithScript(): void {
  if (endsWithScript) return;
  endsWithScript = true;
  if (!canUnrefWorkers) {
    console.warn(
      "rayd: this Deno cannot stop idle Web Workers from keeping the process alive: " +
        "call ray.shutdown() at the end of the script, or it will not exit",
    );
    return;
  }
  addEventListener("beforeunload", (event) => {
    if (!node) return;
    // Keeps the event loop running for the shutdown; it empties again after it.
    event.preventDefault();
    shutdown().catch((err) => {
      console.error(`rayd: shutdown at exit failed: ${err instanceof Error ? err.message : err}`);
      if (Deno.exitCode === 0) Deno.exitCode = 1;
    });
  });
}

/** Starts the dashboard over the node's control store; shuts the node down if it cannot. */
async function serveDashboard(n: Node, option: true | { port?: number }): Promise<void> {
  try {
    dashboard = startDashboard({
      store: n.gcs,
      jobId: n.jobId,
      port: option === true ? undefined : option.port,
      live: () => ({
        available: n.available(),
        storeUsed: n.arena.used,
        storeCapacity: n.arena.capacity,
      }),
    });
  } catch (err) {
    await shutdown();
    throw err;
  }
}

/**
 * Stops what `init` started; safe to call twice. With the control store in
 * Redis it ends within `gcsRedisConnectTimeoutMs + 2 * gcsRedisCommandTimeoutMs`
 * (11 s by default) even when Redis is down or frozen, and warns how many
 * events it could not write.
 */
export async function shutdown(): Promise<void> {
  const stopping = node;
  if (!stopping) return;
  node = undefined;
  setBackend(undefined);
  setProgressHook(undefined);
  const dash = dashboard;
  dashboard = undefined;
  await dash?.close();
  await stopping.shutdown();
}

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

/** The embedded node, for calls that only the driver can make. */
function driverNode(call: string): Node {
  if (node) return node;
  if (currentBackend()) throw notImplemented(`${call} inside a task`);
  throw notInitialized(call);
}

/** The cluster's nodes (also inside a task). */
export async function nodes(): Promise<NodeInfo[]> {
  return (await backend("nodes").clusterState()).nodes.map((n) => ({
    ...n,
    resources: { ...n.resources },
  }));
}

/** Total resources of the cluster (also inside a task). */
export async function clusterResources(): Promise<Record<string, number>> {
  return { ...(await backend("clusterResources").clusterState()).total };
}

/** Resources not held by running tasks (also inside a task). */
export async function availableResources(): Promise<Record<string, number>> {
  return { ...(await backend("availableResources").clusterState()).available };
}

/**
 * A handle to the live actor named `name` (in `namespace`, default the job's).
 * @throws RayError when there is none
 */
export async function getActor<T = any>(
  name: string,
  options: { namespace?: string } = {},
): Promise<ActorHandle<T>> {
  if (typeof name !== "string" || name === "") {
    throw new TypeError(`Cannot get actor: expected a non-empty name, got ${String(name)}`);
  }
  const entry = await backend("getActor").actors.lookup(name, options.namespace);
  if (!entry) throw actorNotFound(name, options.namespace);
  return handleOf<T>(entry);
}

/**
 * Ends an actor at once: its queued and running calls reject with
 * RayActorError. With `noRestart: false` it restarts if its `maxRestarts` allows.
 */
export async function kill(handle: object, options: { noRestart?: boolean } = {}): Promise<void> {
  const be = backend("kill");
  const { actorId } = actorEntryOf(handle, "kill");
  await be.actors.kill(actorId, options.noRestart ?? true);
}

/**
 * Chrome trace events of the job's finished tasks (open them in Perfetto or
 * chrome://tracing): a row per worker, a slice per task with its id, outcome,
 * wait before it ran and argument sizes when known.
 *
 * @param path when given, the events are also written there as JSON
 * @returns the events
 */
export async function timeline(path?: string): Promise<TraceEvent[]> {
  const n = driverNode("timeline");
  const events = await timelineOf(n.gcs, { jobId: n.jobId });
  if (path !== undefined) await Deno.writeTextFile(path, JSON.stringify(events));
  return events;
}

/**
 * The job's computation graph so far, as Graphviz DOT: `op-root` for the
 * driver, a box per task, an oval per object, dashed edges for "launched",
 * solid edges for "produced / consumed". Past `collapseAbove` tasks (default
 * 60), tasks of one function at one depth are drawn as one box with a count.
 *
 * @param options when to collapse
 * @returns DOT text (render it with `rayd graph --from FILE.dot -o FILE.svg`)
 */
export async function graph(options: GraphCallOptions = {}): Promise<string> {
  const n = driverNode("graph");
  const format = options.format ?? "dot";
  if (format !== "dot" && format !== "svg") {
    throw new TypeError(`Invalid graph format: expected "dot" or "svg", got "${format}"`);
  }
  const dot = await graphOf(n.gcs, {
    collapseAbove: options.collapseAbove,
    objects: options.refs?.map((r) => r.id),
    jobId: n.jobId,
  });
  return format === "svg" ? await renderSvg(dot) : dot;
}

/** Options of `graph`. */
export interface GraphCallOptions extends Pick<GraphOptions, "collapseAbove"> {
  /** Only the part behind these refs: their tasks, what those depended on, what they launched. */
  refs?: readonly ObjectRef<unknown>[];
  /** `"dot"` (default) or `"svg"`: laid out by Graphviz (WebAssembly). */
  format?: "dot" | "svg";
}
