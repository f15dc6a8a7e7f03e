/**
 * The options of `init` and what it returns. One table, {@link INIT_OPTIONS},
 * lists every option once and says where it goes; the compiler checks that it
 * names exactly the keys of {@link InitOptions} and that every option handed
 * to the node is one of the node's own.
 *
 * @module
 */
import type { NodeOptions } from "../node/mod.ts";

/** Options of `init`. */
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

/**
 * Every option of `init`, once: `"node"` when it is handed to the node as it
 * is, `"driver"` when `init` itself uses it.
 */
export const INIT_OPTIONS = {
  address: "driver",
  numWorkers: "node",
  numCpus: "node",
  resources: "node",
  objectStoreMemory: "node",
  spillDirectory: "node",
  namespace: "node",
  token: "driver",
  dashboard: "driver",
  logToDriver: "node",
  redisAddress: "driver",
  ignoreReinitError: "driver",
} as const satisfies { readonly [K in keyof Required<InitOptions>]: "node" | "driver" };

/** The options `init` hands to the node unchanged. */
type NodeKey = {
  [K in keyof typeof INIT_OPTIONS]: (typeof INIT_OPTIONS)[K] extends "node" ? K : never;
}[
  keyof typeof INIT_OPTIONS
];

// Compile-time check: each "node" option has the same type in NodeOptions.
const _sameTypes: Pick<NodeOptions, NodeKey> = {} as Pick<InitOptions, NodeKey>;

const NODE_KEYS = (Object.keys(INIT_OPTIONS) as (keyof typeof INIT_OPTIONS)[]).filter((key) =>
  INIT_OPTIONS[key] === "node"
) as NodeKey[];

/**
 * Throws a TypeError unless `options` is an object whose keys are all options of `init`.
 *
 * @param options what the caller passed to `init`
 */
export function checkInitOptions(options: unknown): asserts options is InitOptions {
  if (typeof options !== "object" || options === null) {
    throw new TypeError(`Invalid init options: expected an object, got ${String(options)}`);
  }
  for (const key of Object.keys(options)) {
    if (!Object.hasOwn(INIT_OPTIONS, key)) {
      throw new TypeError(`Invalid init options: unknown option "${key}"`);
    }
  }
}

/**
 * The options of `init` that the node takes, as given.
 *
 * @param options checked options of `init`
 * @returns the node's share of them (`undefined` where not given)
 */
export function nodeOptionsOf(options: InitOptions): Pick<NodeOptions, NodeKey> {
  const out: Partial<Record<NodeKey, unknown>> = {};
  for (const key of NODE_KEYS) out[key] = options[key];
  return out as Pick<NodeOptions, NodeKey>;
}
