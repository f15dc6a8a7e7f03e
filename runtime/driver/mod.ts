/**
 * The driver: what the root `mod.ts` offers beyond the core calls. `init`
 * and `shutdown` with the process's node and dashboard (session.ts), their
 * options (init_options.ts), `remote`, the cluster and actor calls, and the
 * driver's views of its job (`timeline`, `graph`).
 *
 * @module
 */
export { type ClusterInfo, type InitOptions } from "./init_options.ts";
export { init, shutdown } from "./session.ts";
export { remote } from "./remote.ts";
export { availableResources, clusterResources, getActor, kill, nodes } from "./cluster.ts";
export { graph, type GraphCallOptions, timeline } from "./observe.ts";
