/**
 * The shapes a node is started with and reports, and the check of a
 * worker's put (kept here so node.ts stays about the node's work).
 *
 * @module
 */
import { config, isObjectIdHex } from "../common/mod.ts";
import type { ControlStore } from "../gcs/mod.ts";
import type { StoreLoc } from "../object_store/mod.ts";
import type { ClusterPortFactory } from "./cluster_port.ts";

/** Throws unless a worker's put names an object id, a frame and a list of contained ids. */
export function checkObject(id: unknown, frame: unknown, contained: unknown): void {
  if (typeof id !== "string" || !isObjectIdHex(id)) throw new TypeError("bad object id");
  const inArena = typeof frame === "object" && frame !== null &&
    Number.isSafeInteger((frame as StoreLoc).offset) &&
    Number.isSafeInteger((frame as StoreLoc).size);
  if (!(frame instanceof Uint8Array) && !inArena) throw new TypeError("bad frame");
  if (!Array.isArray(contained)) throw new TypeError("bad contained ids");
}

/** The task workers `options` asks for (none for a driver's node), checked. */
export function numWorkersOf(options: NodeOptions): number {
  const n = options.driverOnly ? 0 : options.numWorkers ?? config("numWorkers");
  if (!Number.isInteger(n) || (n < 1 && !options.driverOnly)) {
    throw new RangeError(`Invalid numWorkers: expected an integer >= 1, got ${n}`);
  }
  return n;
}

/**
 * How to start a node. The driver's `init` hands its options to the node by
 * the table `INIT_OPTIONS` in runtime/driver/init_options.ts; the compiler
 * checks there that each option it hands over is one of these, with the same type.
 */
export interface NodeOptions {
  /** Web Workers to start (default `navigator.hardwareConcurrency`). */
  numWorkers?: number;
  /** CPUs the node offers to tasks (default: the worker count). */
  numCpus?: number;
  /** Custom resources, e.g. `{ GPU: 1 }`. */
  resources?: Record<string, number>;
  /** Most bytes the shared object store may use (default 30% of memory). */
  objectStoreMemory?: number;
  /** Where objects are spilled when the store is full (default: a temporary directory). */
  spillDirectory?: string;
  /** Namespace of actor names given without one (default "default"). */
  namespace?: string;
  /** Where the node records what happens (default: a new in-memory control store). */
  controlStore?: ControlStore;
  /** Print workers' console output, prefixed with worker and task (default true). */
  logToDriver?: boolean;
  /** The cluster this node joins (runtime/cluster builds the port); absent when embedded. */
  cluster?: ClusterPortFactory;
  /** A driver's node in a cluster: no workers, no resources; every task is forwarded. */
  driverOnly?: boolean;
  /** The process's owner tag in a cluster (its ids and its workers' carry it; see ids.ts). */
  ownerTag?: string;
}

/** What a node reports about itself. */
export interface NodeInfo {
  /** The node's id. */
  nodeId: string;
  /** Where the node can be reached (`embedded` for an in-process node). */
  address: string;
  /** Whether the node is still running. */
  alive: boolean;
  /** The node's total resources, by name. */
  resources: Record<string, number>;
  /** Number of workers the node has. */
  numWorkers: number;
}
