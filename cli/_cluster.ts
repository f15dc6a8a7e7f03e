/**
 * TEMPORARY stand-in for the cluster core (issue 14), with exactly its
 * entry point contract, so `rayd start` can be built and tested before the
 * cluster core lands: a head listens for authenticated frame links, a node
 * dials its head (the real token handshake) and stops when the link closes.
 * No workers, no scheduling. Replaced by a re-export of the cluster core
 * when that lands on main. Private to cli/.
 *
 * @module
 */
import { dialFrames, type FrameConn, listenFrames } from "../runtime/transport/mod.ts";

/** How to start one cluster process (the cluster core's contract). */
export interface ClusterProcessOptions {
  /** `"head"` or `"node"`. */
  role: "head" | "node";
  /** `HOST:PORT` of the head (role `"node"`). */
  headAddress?: string;
  /** Listen address. */
  bind: string;
  /** Listen port (0: any). */
  port: number;
  /** Address others reach this node at. */
  nodeIpAddress: string;
  /** Workers to start. */
  numWorkers: number;
  /** CPUs offered to tasks. */
  numCpus: number;
  /** Custom resources. */
  resources: Record<string, number>;
  /** Most bytes of the object store. */
  objectStoreMemory: number;
  /** The cluster token itself. */
  token: string;
  /** Head only: `redis://host:port` of a running Redis. */
  redisAddress?: string;
  /** Head only: node health checks. */
  healthCheck?: { periodMs: number; failureThreshold: number };
}

/** A running cluster process. */
export interface ClusterProcess {
  /** Its node id. */
  readonly nodeId: string;
  /** `HOST:PORT` it serves on. */
  readonly address: string;
  /** Resolves when it stopped (e.g. the head vanished for a node). */
  readonly closed: Promise<void>;
  /** Stops it: ends workers, closes links. */
  stop(): Promise<void>;
}

/**
 * Starts a head or a node (stand-in: links only).
 *
 * @param options what to start
 * @returns the running process
 */
export async function startClusterProcess(
  options: ClusterProcessOptions,
): Promise<ClusterProcess> {
  const nodeId = Array.from(
    crypto.getRandomValues(new Uint8Array(14)),
    (b) => b.toString(16).padStart(2, "0"),
  ).join("");
  const links = new Set<FrameConn>();
  const listener = await listenFrames({
    hostname: options.bind,
    port: options.port,
    token: options.token,
    role: options.role,
    nodeId,
    onConnection: (conn) => {
      links.add(conn);
      conn.closed.then(() => links.delete(conn));
      conn.start(() => {});
    },
  });
  let head: FrameConn | undefined;
  if (options.role === "node") {
    const [hostname, port] = splitAddress(options.headAddress ?? "");
    try {
      head = await dialFrames({ hostname, port, token: options.token, role: "node", nodeId });
    } catch (err) {
      listener.close();
      throw err;
    }
    head.start(() => {});
  }
  const { promise: closed, resolve } = Promise.withResolvers<void>();
  const stop = () => {
    listener.close();
    head?.close("stopped");
    for (const conn of links) conn.close("stopped");
    resolve();
    return closed;
  };
  head?.closed.then(() => stop());
  return {
    nodeId,
    address: `${options.nodeIpAddress}:${listener.addr.port}`,
    closed,
    stop,
  };
}

function splitAddress(address: string): [string, number] {
  const at = address.lastIndexOf(":");
  return [address.slice(0, at).replace(/^\[(.*)\]$/, "$1"), Number(address.slice(at + 1))];
}
