/**
 * Starting a cluster process: a head (head service + node) or a node that
 * joins one, each serving one port; and a driver's node joining by address.
 *
 * @module
 */
import type { NodeId } from "../common/mod.ts";
import { connectRedis, type ControlStore } from "../gcs/mod.ts";
import { Node } from "../node/mod.ts";
import type { FrameListener } from "../transport/mod.ts";
import { type Dashboard, startDashboard } from "../observability/mod.ts";
import { Agent } from "./agent.ts";
import { CodeShipping } from "./code_shipping.ts";
import { type HeadApi, HeadService } from "./head.ts";
import { dialHead, type RemoteHead } from "./head_link.ts";
import { Peers } from "./peers.ts";
import type { OwnerCounters } from "./owners.ts";
import { serveCluster } from "./server.ts";

/** How to start a head or a node (`rayd start`). */
export interface ClusterProcessOptions {
  role: "head" | "node";
  /** `HOST:PORT` of the head (role `"node"`). */
  headAddress?: string;
  /** Address and port to listen on (port 0: any free port). */
  bind: string;
  port: number;
  /** The address others reach this node at. */
  nodeIpAddress: string;
  numWorkers: number;
  numCpus: number;
  resources: Record<string, number>;
  objectStoreMemory: number;
  /** The cluster token. */
  token: string;
  /** Head only: `redis://host:port` of a running Redis for the control store (absent: in memory). */
  redisAddress?: string;
  /** Head only: health checks of the nodes. */
  healthCheck?: { periodMs: number; failureThreshold: number };
  /**
   * Run drivers' `file:` modules from the shipped copy even when this node
   * reads the same files at the same paths (tests of code shipping).
   */
  mirrorCode?: boolean;
  /** Head only: serve the dashboard on this port of the bind address (0: any free port). */
  dashboardPort?: number;
}

/** A running head or node. */
export interface ClusterProcess {
  readonly nodeId: string;
  /** `HOST:PORT` this node serves on. */
  readonly address: string;
  /** The node itself (its store, workers and records). */
  readonly node: Node;
  /** Object locations this process asked and answered as an owner or a reader (owners.ts). */
  readonly owners: OwnerCounters;
  /** The dashboard's URL (a head started with `dashboardPort`). */
  readonly dashboardUrl?: string;
  /** Resolves once it stopped (by `stop`, or a node whose head went away). */
  readonly closed: Promise<void>;
  /**
   * Takes no new work (the head places nothing more here) and waits until
   * the tasks queued or running here are done, at most `timeoutMs`; true
   * when they are. `stop` follows (actors end with it).
   */
  drain(timeoutMs: number): Promise<boolean>;
  /** Ends the workers and closes the links. */
  stop(): Promise<void>;
}

/** Default health checks (Ray's): every 3 s, dead after 5 missed. */
const HEALTH_CHECK = { periodMs: 3000, failureThreshold: 5 };

/**
 * Starts a head or a node and joins it to the cluster.
 *
 * @param options what to start (see `rayd start`)
 * @returns the running process
 * @throws the transport's HandshakeError when the head refuses the token
 */
export async function startClusterProcess(
  options: ClusterProcessOptions,
): Promise<ClusterProcess> {
  const { role, token } = options;
  let agent: Agent | undefined;
  const head = role === "head"
    ? new HeadService({
      redisAddress: options.redisAddress,
      healthCheck: options.healthCheck ?? HEALTH_CHECK,
    })
    : undefined;
  let remote: RemoteHead | undefined;
  let listener: FrameListener | undefined;
  let dashboard: Dashboard | undefined;
  let joinedNode: { node: Node } | undefined;
  try {
    let headApi: HeadApi;
    if (head) {
      headApi = head.apiFor({
        nodeDied: (id, address) => agent?.nodeDied(id, address),
        close: () => {}, // the head's own node is never declared dead
      });
    } else {
      if (!options.headAddress) throw new TypeError("a node needs the head's address");
      remote = await dialHead(options.headAddress, token, role, () => agent);
      headApi = remote;
    }
    const hello = await headApi.hello();
    listener = await serveCluster({
      hostname: options.bind,
      port: options.port,
      token,
      role,
      head,
      agent: () => agent,
    });
    const address = `${hostPart(options.nodeIpAddress)}:${listener.addr.port}`;
    const controlStore = hello.redisAddress ? await connectRedis(hello.redisAddress) : undefined;
    const started = joinedNode = await joined({
      role,
      address,
      headApi,
      token,
      controlStore,
      heartbeatMs: hello.heartbeatMs,
      ownerTag: hello.ownerTag,
      mirrorCode: options.mirrorCode,
      node: {
        numWorkers: options.numWorkers,
        numCpus: options.numCpus,
        resources: options.resources,
        objectStoreMemory: options.objectStoreMemory,
      },
      closeAlso: () => {
        listener?.close();
        remote?.rpc.conn.close("shutting down");
        head?.close();
      },
    });
    agent = started.agent;
    const { node } = started;
    if (head && options.dashboardPort !== undefined) {
      dashboard = startDashboard({
        store: node.gcs,
        port: options.dashboardPort,
        hostname: options.bind,
        live: () => ({
          available: node.available(),
          storeUsed: node.arena.used,
          storeCapacity: node.arena.capacity,
        }),
      });
    }
    const { promise: closed, resolve } = Promise.withResolvers<void>();
    let stopping: Promise<void> | undefined;
    const stop = () =>
      stopping ??= (dashboard?.close() ?? Promise.resolve()).then(() => node.shutdown())
        .finally(resolve);
    remote?.rpc.conn.closed.then(() => {
      if (!stopping) console.error("rayd: the link to the head closed: this node stops");
      stop();
    });
    const drain = (ms: number) => started.agent.reports.drain(ms);
    return {
      nodeId: node.nodeId,
      address,
      node,
      owners: started.agent.owners.counters,
      closed,
      drain,
      stop,
      dashboardUrl: dashboard?.url,
    };
  } catch (err) {
    await dashboard?.close();
    await joinedNode?.node.shutdown(); // it closes the links and the head service too
    listener?.close();
    remote?.rpc.conn.close("start failed");
    head?.close();
    throw err;
  }
}

/** A driver's link to a cluster: its node (no workers) and how to leave. */
export interface DriverJoin {
  readonly node: Node;
  readonly address: string;
}

/**
 * Joins the cluster whose head is at `headAddress` as a driver: a node
 * without workers whose tasks all run elsewhere, serving its own objects
 * to the nodes that need them. Nothing of it keeps the process alive but
 * outstanding work.
 */
export async function joinAsDriver(options: {
  headAddress: string;
  token: string;
  namespace?: string;
}): Promise<DriverJoin> {
  let agent: Agent | undefined;
  const remote = await dialHead(options.headAddress, options.token, "driver", () => agent);
  remote.rpc.conn.conn.unref();
  let listener: FrameListener | undefined;
  try {
    const hello = await remote.hello();
    const hostname = remote.rpc.conn.conn.localAddr.hostname;
    listener = await serveCluster({
      hostname,
      port: 0,
      token: options.token,
      role: "driver",
      unref: true,
      agent: () => agent,
    });
    const address = `${hostPart(hostname)}:${listener.addr.port}`;
    const controlStore = hello.redisAddress ? await connectRedis(hello.redisAddress) : undefined;
    const started = await joined({
      role: "driver",
      address,
      headApi: remote,
      token: options.token,
      controlStore,
      heartbeatMs: 0,
      ownerTag: hello.ownerTag,
      node: { namespace: options.namespace, driverOnly: true },
      closeAlso: () => {
        listener?.close();
        remote.rpc.conn.close("driver shut down");
      },
    });
    agent = started.agent;
    return { node: started.node, address };
  } catch (err) {
    listener?.close();
    remote.rpc.conn.close("join failed");
    throw err;
  }
}

async function joined(o: {
  role: "head" | "node" | "driver";
  address: string;
  headApi: HeadApi;
  token: string;
  controlStore?: ControlStore;
  heartbeatMs: number;
  ownerTag: string;
  node: Parameters<typeof Node.start>[0];
  closeAlso: () => void;
  mirrorCode?: boolean;
}): Promise<{ node: Node; agent: Agent }> {
  const peers: Peers = new Peers({
    token: o.token,
    role: o.role,
    nodeId: "",
    unref: o.role === "driver",
    handlers: {
      onRequest: (frame) => agent.onRequest(frame),
      onMessage: (frame) => agent.onMessage(frame),
    },
  });
  const code = new CodeShipping({ peers, alwaysMirror: o.mirrorCode });
  if (o.role === "driver") code.warm();
  const agent: Agent = new Agent({
    role: o.role,
    address: o.address,
    head: o.headApi,
    ownerTag: o.ownerTag,
    peers,
    closeAlso: o.closeAlso,
    code,
  });
  const node = await Node.start({
    ...o.node,
    ownerTag: o.ownerTag,
    controlStore: o.controlStore,
    cluster: (side) => agent.bind(side),
  });
  try {
    await o.headApi.join({
      nodeId: node.nodeId as NodeId,
      role: o.role,
      address: o.address,
      resources: node.resources,
      numWorkers: node.numWorkers,
      ownerTag: o.ownerTag,
    });
  } catch (err) {
    await node.shutdown();
    throw err;
  }
  if (o.heartbeatMs > 0) agent.reports.start(o.heartbeatMs);
  return { node, agent };
}

/** An address's host as it goes before `:port` (IPv6 in brackets). */
function hostPart(host: string): string {
  return host.includes(":") && !host.startsWith("[") ? `[${host}]` : host;
}
