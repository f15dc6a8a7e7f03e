/**
 * A cluster node as its own process, for tests that need one outside the
 * test's process (e.g. in a mount namespace where the driver's folder is
 * hidden). Argument: JSON of `Partial<ClusterProcessOptions>` with
 * `headAddress`. Prints `ready <nodeId> <address>` once joined; stops on
 * SIGTERM or when its head goes.
 *
 * @module
 */
import { type ClusterProcessOptions, startClusterProcess } from "../../runtime/cluster/mod.ts";
import { TEST_TOKEN } from "./in_process_cluster.ts";

const given = JSON.parse(Deno.args[0] ?? "{}") as Partial<ClusterProcessOptions>;
const numWorkers = given.numWorkers ?? 1;
const node = await startClusterProcess({
  role: "node",
  bind: "127.0.0.1",
  port: 0,
  nodeIpAddress: "127.0.0.1",
  numWorkers,
  numCpus: numWorkers,
  resources: {},
  objectStoreMemory: 64 * 1024 * 1024,
  token: TEST_TOKEN,
  ...given,
});
Deno.addSignalListener("SIGTERM", () => node.stop());
console.log(`ready ${node.nodeId} ${node.address}`);
await node.closed;
Deno.exit(0);
