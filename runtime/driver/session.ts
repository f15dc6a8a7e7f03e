/**
 * The driver's session: `init` starts the embedded node (and the dashboard),
 * `shutdown` stops them. The node and the dashboard of this process live
 * here and nowhere else.
 *
 * @module
 */
import {
  alreadyInitialized,
  notImplemented,
  notInitialized,
  RayError,
  readToken,
} from "../common/mod.ts";
import { currentBackend, setBackend, setProgressHook } from "../core/mod.ts";
import type { Node } from "../node/mod.ts";
import type { Dashboard } from "../observability/mod.ts";
import type { Engine } from "./_engine.ts";
import {
  checkInitOptions,
  type ClusterInfo,
  type InitOptions,
  nodeOptionsOf,
} from "./init_options.ts";

let node: Node | undefined;
let dashboard: Dashboard | undefined;
/** The head this driver joined (the cluster's address), in cluster mode. */
let headAddress: string | undefined;
let engineLoading: Promise<Engine> | undefined;

/**
 * The driver-only modules (node, control store, dashboard, views), loaded on
 * first use: workers import this module with the user's code and never load them.
 */
export function engine(): Promise<Engine> {
  return engineLoading ??= import("./_engine.ts");
}

function clusterInfo(): ClusterInfo {
  const be = currentBackend()!;
  if (node) {
    const info = node.info();
    return {
      address: headAddress ?? info.address,
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
  checkInitOptions(options);
  if (currentBackend()) {
    if (options.ignoreReinitError) return clusterInfo();
    throw alreadyInitialized();
  }
  const address = options.address === "auto"
    ? Deno.env.get("RAYD_ADDRESS")
    : options.address ?? Deno.env.get("RAYD_ADDRESS");
  const { canUnrefWorkers, connectRedis, joinAsDriver, Node, terminalProgress } = await engine();
  let started: Node;
  if (address) {
    const token = options.token ?? Deno.env.get("RAYD_TOKEN") ?? await readToken();
    if (!token) throw clusterTokenMissing(address);
    started = (await joinAsDriver({ headAddress: address, token, namespace: options.namespace }))
      .node;
    headAddress = address;
  } else {
    const controlStore = options.redisAddress
      ? await connectRedis(options.redisAddress)
      : undefined;
    started = await Node.start({ controlStore, ...nodeOptionsOf(options) });
  }
  if (currentBackend()) {
    await started.shutdown();
    throw alreadyInitialized();
  }
  node = started;
  setBackend(node);
  setProgressHook(terminalProgress());
  endWithScript(canUnrefWorkers);
  if (options.dashboard) await serveDashboard(started, options.dashboard, await engine());
  return clusterInfo();
}

function clusterTokenMissing(address: string): RayError {
  return new RayError(
    `Cannot join the cluster at ${address}: no token. Pass init({ token }) or set RAYD_TOKEN ` +
      "(a head on this machine writes it to its runtime folder, read when present)",
  );
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
function endWithScript(canUnrefWorkers: boolean): void {
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
async function serveDashboard(
  n: Node,
  option: true | { port?: number },
  { startDashboard }: Engine,
): Promise<void> {
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
  headAddress = undefined;
  setBackend(undefined);
  setProgressHook(undefined);
  const dash = dashboard;
  dashboard = undefined;
  await dash?.close();
  await stopping.shutdown();
}

/**
 * The embedded node, for calls that only the driver can make.
 *
 * @param call the public call's name, for the error
 * @throws RayError inside a task (not implemented there) or before `init`
 */
export function driverNode(call: string): Node {
  if (node) return node;
  if (currentBackend()) throw notImplemented(`${call} inside a task`);
  throw notInitialized(call);
}
