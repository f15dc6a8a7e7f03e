/**
 * A cluster inside the test's own process: a head and nodes started with
 * `startClusterProcess` on loopback (each a real node with its own store
 * and workers, linked over TCP). Fast to start; the multi-process clusters
 * of real `rayd start` processes test the same paths from outside.
 *
 * @module
 */
import * as ray from "../../mod.ts";
import {
  type ClusterProcess,
  type ClusterProcessOptions,
  startClusterProcess,
} from "../../runtime/cluster/mod.ts";

/** The token of test clusters. */
export const TEST_TOKEN = "rayd-test-token-0123456789";

/** What one node of a test cluster gets. */
export type NodeSpec = Partial<
  Pick<
    ClusterProcessOptions,
    "numWorkers" | "numCpus" | "resources" | "objectStoreMemory" | "mirrorCode"
  >
>;

/** A running in-process cluster. */
export interface InProcessCluster {
  /** The head's `HOST:PORT`. */
  readonly address: string;
  readonly head: ClusterProcess;
  readonly nodes: ClusterProcess[];
  /** Starts one more node. */
  addNode(spec?: NodeSpec): Promise<ClusterProcess>;
  /** Stops everything. */
  stop(): Promise<void>;
}

function options(spec: NodeSpec, extra: Partial<ClusterProcessOptions>): ClusterProcessOptions {
  const numWorkers = spec.numWorkers ?? 1;
  return {
    role: "node",
    bind: "127.0.0.1",
    port: 0,
    nodeIpAddress: "127.0.0.1",
    numWorkers,
    numCpus: spec.numCpus ?? numWorkers,
    resources: spec.resources ?? {},
    objectStoreMemory: spec.objectStoreMemory ?? 128 * 1024 * 1024,
    mirrorCode: spec.mirrorCode,
    token: TEST_TOKEN,
    ...extra,
  };
}

/** Starts a head (with `head` resources, and `redisAddress` for its control store) and `nodes`. */
export async function startInProcessCluster(
  head: NodeSpec & { redisAddress?: string },
  nodes: NodeSpec[],
  healthCheck = { periodMs: 200, failureThreshold: 10 },
): Promise<InProcessCluster> {
  const { redisAddress } = head;
  const headProcess = await startClusterProcess(
    options(head, { role: "head", healthCheck, redisAddress }),
  );
  const started: ClusterProcess[] = [];
  const cluster: InProcessCluster = {
    address: headProcess.address,
    head: headProcess,
    nodes: started,
    async addNode(spec = {}) {
      const p = await startClusterProcess(options(spec, { headAddress: headProcess.address }));
      started.push(p);
      return p;
    },
    async stop() {
      await Promise.allSettled(started.map((p) => p.stop()));
      await headProcess.stop();
    },
  };
  try {
    for (const spec of nodes) await cluster.addNode(spec);
  } catch (err) {
    await cluster.stop();
    throw err;
  }
  return cluster;
}

/** A test with a head (1 worker) and `nodes`, this process joined as the driver. */
export function clusterTest(
  name: string,
  nodes: NodeSpec[],
  fn: (c: InProcessCluster) => Promise<void>,
): void {
  Deno.test({
    name,
    sanitizeOps: false,
    sanitizeResources: false,
    async fn() {
      const c = await startInProcessCluster({ numWorkers: 1 }, nodes);
      try {
        await ray.init({ address: c.address, token: TEST_TOKEN });
        try {
          await fn(c);
        } finally {
          await ray.shutdown();
        }
      } finally {
        await c.stop();
      }
    },
  });
}
