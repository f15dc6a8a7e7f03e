/**
 * Starting a cluster process: a head (head service + node) or a node that
 * joins one, each serving one port; and a driver's node joining by address.
 *
 * @module
 */
import { config, type NodeId } from "../common/mod.ts";
import { connectRedis, type ControlStore } from "../gcs/mod.ts";
import { Node } from "../node/mod.ts";
import type { FrameListener } from "../transport/mod.ts";
import { type Dashboard, startDashboard } from "../observability/mod.ts";
import { Agent } from "./agent.ts";
import { CodeShipping } from "./code_shipping.ts";
import { type HeadApi, HeadService } from "./head.ts";
import { dialHead, DialTimeout, dialWithin, type RemoteHead } from "./head_link.ts";
import type { OwnerCounters } from "./owners.ts";
import type { JoinRequest } from "./messages.ts";
import { Peers } from "./peers.ts";
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
  /** Resolves once it stopped (by `stop`, or a node whose head went away or declared it dead). */
  readonly closed: Promise<void>;
  /** True once the head declared this node dead (it missed its health checks): it stops. */
  readonly declaredDead: boolean;
  /**
   * Takes no new work (the head places nothing more here), waits until the
   * tasks queued or running here are done, then until the processes that
   * hold objects here took their copies (handoff.ts), at most `timeoutMs`
   * in all (at least a second for the hand-off); true when all that is done.
   * `stop` follows (actors end with it).
   */
  drain(timeoutMs: number): Promise<boolean>;
  /** Ends the workers and closes the links. */
  stop(): Promise<void>;
}

/** The least time a drain gives the processes holding objects here to take them. */
const HAND_OFF_MIN_MS = 1000;

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
      probe: (address) => answers(address, token),
      waitForPrevious: options.redisAddress !== undefined,
      recreateActor: (address, spec, owner) => agent?.recreateActor(address, spec, owner),
      record: (event) => {
        joinedNode?.node.gcs.record(event);
        if (event.type === "nodeRemoved" && joinedNode) {
          actorsDiedWith(joinedNode.node, event.nodeId, event.reason ?? "", head!);
        }
      },
    })
    : undefined;
  let remote: RemoteHead | undefined;
  let listener: FrameListener | undefined;
  let dashboard: Dashboard | undefined;
  let joinedNode: { node: Node } | undefined;
  let declaredDead = false;
  let stopNode: (() => void) | undefined;
  const deadNow = (id: string) => {
    if (declaredDead) return;
    declaredDead = true;
    console.error(`rayd: the head declared node ${id} dead: its workers stop`);
    stopNode?.();
  };
  try {
    let headApi: HeadApi;
    if (head) {
      headApi = head.apiFor({
        nodeDied: (id, address) => agent?.nodeDied(id, address),
        close: () => {}, // the head's own node is never declared dead
      });
    } else {
      if (!options.headAddress) throw new TypeError("a node needs the head's address");
      remote = await dialHead(options.headAddress, token, role, () =>
        agent && {
          nodeDied: (id, address) => {
            if (id !== agent!.nodeId) return agent!.nodeDied(id, address);
            // Cut off long enough to miss its health checks: its work was given to other nodes.
            deadNow(id);
          },
        });
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
      remote,
      node: {
        numWorkers: options.numWorkers,
        numCpus: options.numCpus,
        resources: options.resources,
        objectStoreMemory: options.objectStoreMemory,
      },
      closeAlso: () => {
        listener?.close();
        remote?.close("shutting down");
        head?.close();
      },
    });
    agent = started.agent;
    const { node } = started;
    if (head) {
      // A head that restarted: the nodes alive before (recently heard of: a node writes its own
      // heartbeats while the head is away) must join again in time.
      const since = Date.now() - config("headReconnectTimeoutMs");
      const before = await node.gcs.listNodes({ state: "alive", limit: 100_000 }).catch(() => []);
      head.expect(
        before.filter((n) => n.nodeId !== node.nodeId && n.address !== "" && n.heartbeatAt > since)
          .map((n) => ({ nodeId: n.nodeId, address: n.address, resources: n.resources })),
        address,
      );
    }
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
    stopNode = stop;
    remote?.ended.then((why) => {
      if (declaredDead || stopping) return;
      if (/declared dead/.test(why)) return deadNow(node.nodeId);
      console.error(`rayd: ${why}: this node stops`);
      stop();
    });
    const drain = async (ms: number) => {
      const until = Date.now() + ms;
      const idle = await started.agent.reports.drain(ms);
      // Then the objects others still need go to them (a second at least, for their pulls).
      return await started.agent.handOff.leave(Math.max(until, Date.now() + HAND_OFF_MIN_MS)) &&
        idle;
    };
    return {
      nodeId: node.nodeId,
      address,
      node,
      owners: started.agent.owners.counters,
      closed,
      get declaredDead() {
        return declaredDead;
      },
      drain,
      stop,
      dashboardUrl: dashboard?.url,
    };
  } catch (err) {
    await dashboard?.close();
    await joinedNode?.node.shutdown(); // it closes the links and the head service too
    listener?.close();
    remote?.close("start failed");
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
  const remote = await dialHead(options.headAddress, options.token, "driver", () => agent, {
    unref: true,
  });
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
      remote,
      node: { namespace: options.namespace, driverOnly: true },
      closeAlso: () => {
        listener?.close();
        remote.close("driver shut down");
      },
    });
    agent = started.agent;
    return { node: started.node, address };
  } catch (err) {
    listener?.close();
    remote.close("join failed");
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
  /** The link to a head in another process (dialed again when it closes). */
  remote?: RemoteHead;
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
  const join: JoinRequest = {
    nodeId: node.nodeId as NodeId,
    role: o.role,
    address: o.address,
    resources: node.resources,
    numWorkers: node.numWorkers,
    ownerTag: o.ownerTag, // kept when it joins again (its objects' ids carry it)
  };
  try {
    await o.headApi.join(join);
  } catch (err) {
    await node.shutdown();
    throw err;
  }
  if (o.remote) {
    // Its link to the head closes (a head restart, a cut connection): dial again and join again,
    // its work going on meanwhile; a head that declared it dead refuses it.
    o.remote.reconnectWith({
      timeoutMs: config("headReconnectTimeoutMs"),
      ref: o.role !== "driver",
      rejoin: async (head) => {
        await head.helloHere();
        // Its owner tag stays (ids carry it); object locations live with their owners, not the head.
        await head.joinHere({ ...join, rejoin: true, actors: agent.hostedActors.list() });
      },
    });
  }
  if (o.heartbeatMs > 0) agent.reports.start(o.heartbeatMs);
  return { node, agent };
}

/**
 * Actors the control store has alive on dead node `nodeId` that the head
 * does not know (they lived there before a head restart and their node did
 * not come back): recorded dead, so `rayd list actors` does not show them
 * alive for ever. Those the head knows it records itself (dead or restarting).
 */
function actorsDiedWith(node: Node, nodeId: NodeId, reason: string, head: HeadService): void {
  node.gcs.listActors({ limit: 100_000 }).then((actors) => {
    for (const a of actors) {
      if (a.nodeId !== nodeId || a.state === "dead" || head.knowsActor(a.actorId)) continue;
      node.gcs.record({
        type: "actorState",
        actorId: a.actorId,
        state: "dead",
        ts: Date.now(),
        nodeId,
        error: `its node ${nodeId} died: ${reason}`,
      });
    }
  }, () => {}); // a control store that cannot answer now: the records stay as they were
}

/** How long the head waits for a process whose link closed to answer at its address. */
const PROBE_TIMEOUT_MS = 1000;

/**
 * Whether a cluster process answers at `address`: false when it refuses
 * (its process is gone), true when it answers or cannot be reached in time
 * (cut off, maybe only for a while: the health checks decide).
 */
async function answers(address: string, token: string): Promise<boolean> {
  try {
    (await dialWithin(address, { token, role: "head" }, PROBE_TIMEOUT_MS)).close("probe");
    return true;
  } catch (err) {
    return err instanceof DialTimeout;
  }
}

/** An address's host as it goes before `:port` (IPv6 in brackets). */
function hostPart(host: string): string {
  return host.includes(":") && !host.startsWith("[") ? `[${host}]` : host;
}
