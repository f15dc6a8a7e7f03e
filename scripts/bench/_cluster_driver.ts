/**
 * The driver of the cluster metrics, run as its own process against a
 * cluster that _cluster.ts started on loopback:
 *
 * ```sh
 * deno run -A scripts/bench/_cluster_driver.ts --address 127.0.0.1:PORT --token T \
 *   --metric cluster_tasks_async [--quick]
 * ```
 *
 * Prints the metric's Measurement as one JSON line. The remote functions sit
 * at the top level so that the cluster's workers can import this module.
 * Private to scripts/bench/.
 *
 * @module
 */
import { parseArgs } from "node:util";
import * as ray from "../../mod.ts";
import { openTcpLoopback } from "./_limits.ts";
import {
  FULL,
  measure,
  type Measurement,
  type MeasureOptions,
  measurePaired,
  QUICK,
} from "./_measure.ts";

/** Nodes the cluster has: the head and two more. */
export const CLUSTER_NODES = 3;
/** Bytes of the object cluster_object_transfer_gigabytes moves. */
const TRANSFER_BYTES = 256 * 1024 * 1024;
/** Bytes of the object cluster_broadcast_gigabytes sends to every other node (--quick: 64 MiB). */
const BROADCAST_BYTES = 1024 * 1024 * 1024;

/** Does nothing and returns 0. */
export const clusterNoop = ray.remote(function clusterNoop() {
  return 0;
});

/** Makes an object of `bytes` bytes where it runs. */
export const makeBytes = ray.remote(function makeBytes(bytes: number) {
  return new Uint8Array(bytes).fill(1);
});

/**
 * Pulls the object behind `holder.ref` into the store of the node it runs
 * on (`wait` brings it there; a `get` would add only a zero-copy view, which
 * would keep the copy until the worker's garbage collection); returns the
 * seconds the pull took. The copy is let go at once, so the next batch's
 * copy reuses the same store pages, as a node's store does in steady state.
 */
export const timedGet = ray.remote(async function timedGet(holder: { ref: ray.ObjectRef }) {
  using ref = holder.ref;
  const start = performance.now();
  const [ready] = await ray.wait([ref], { fetchLocal: true });
  if (ready.length !== 1) throw new Error("the object did not come");
  return (performance.now() - start) / 1000;
});

/** Waits until the cluster reports `count` live nodes; returns them. */
async function liveNodes(count: number, timeoutMs = 30_000): Promise<ray.NodeInfo[]> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const alive = (await ray.nodes()).filter((n) => n.alive);
    if (alive.length >= count) return alive;
    if (Date.now() > deadline) {
      throw new Error(
        `Cluster has ${alive.length} live node(s) after ${timeoutMs} ms, expected ${count}`,
      );
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** The limit the transfer metrics are compared with, timed in turn with them. */
const LIMIT = "limit_tcp_loopback_gigabytes";

/**
 * Times a transfer metric pair by pair with limit_tcp_loopback_gigabytes (its
 * sink worker in this process): one batch of the limit, then one of the
 * transfer, and so on; the ratio is the median of the pairs'.
 */
async function pairedWithLimit(
  transfer: () => Promise<{ work: number; seconds: number }>,
  options: MeasureOptions,
): Promise<Measurement> {
  const limit = await openTcpLoopback();
  try {
    const { own, peer } = await measurePaired(transfer, limit.batch, options);
    return { ...own, paired: { [LIMIT]: peer } };
  } finally {
    limit.close();
  }
}

/** Times one cluster metric on the cluster the driver joined. */
async function runMetric(name: string, quick: boolean): Promise<Measurement> {
  const options = quick ? QUICK : FULL;
  const nodes = await liveNodes(CLUSTER_NODES);
  if (name === "cluster_tasks_async") {
    // As single_client_tasks_async: 1,000 in flight; the head offers no CPU, so they run on the
    // other two nodes.
    const n = 1_000;
    return await measure(async () => {
      const refs = [];
      for (let i = 0; i < n; i++) refs.push(clusterNoop.remote());
      const got = await ray.get(refs);
      if (got.length !== n || got.some((x) => x !== 0)) throw new Error("wrong results");
      return n;
    }, options);
  }
  if (name === "cluster_object_transfer_gigabytes") {
    // Two nodes that offer CPUs (the head offers none).
    const [a, b] = nodes.filter((n) => (n.resources.CPU ?? 0) > 0);
    if (!a || !b || a.nodeId === b.nodeId) throw new Error("two nodes with CPUs are needed");
    const maker = makeBytes.options({ schedulingStrategy: { nodeId: a.nodeId } });
    const getter = timedGet.options({ schedulingStrategy: { nodeId: b.nodeId } });
    return await pairedWithLimit(async () => {
      using ref = maker.remote(TRANSFER_BYTES); // freed on both nodes after the batch
      await ray.wait([ref], { fetchLocal: false });
      const seconds = await ray.get(getter.remote({ ref }));
      return { work: TRANSFER_BYTES / 1e9, seconds };
    }, options);
  }
  if (name === "cluster_broadcast_gigabytes") {
    // One object made on one node, read by a task on every other node at once (the head's
    // included: these tasks ask for no CPU, as the head offers none).
    const bytes = quick ? 64 * 1024 * 1024 : BROADCAST_BYTES;
    const [maker, ...readers] = nodes;
    const make = makeBytes.options({ numCpus: 0, schedulingStrategy: { nodeId: maker.nodeId } });
    return await pairedWithLimit(async () => {
      using ref = make.remote(bytes);
      await ray.wait([ref], { fetchLocal: false });
      const start = performance.now();
      await ray.get(
        readers.map((n) =>
          timedGet.options({ numCpus: 0, schedulingStrategy: { nodeId: n.nodeId } }).remote({ ref })
        ),
      );
      const seconds = (performance.now() - start) / 1000;
      return { work: (bytes * readers.length) / 1e9, seconds };
    }, options);
  }
  throw new RangeError(`Unknown cluster metric: ${name}`);
}

if (import.meta.main) {
  const { values } = parseArgs({
    args: Deno.args,
    options: {
      address: { type: "string" },
      token: { type: "string" },
      metric: { type: "string" },
      quick: { type: "boolean" },
    },
  });
  await ray.init({ address: values.address, token: values.token });
  try {
    console.log(JSON.stringify(await runMetric(values.metric ?? "", values.quick === true)));
  } finally {
    await ray.shutdown();
  }
}
