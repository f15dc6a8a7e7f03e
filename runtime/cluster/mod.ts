/**
 * Cluster mode: the head service (membership, health, placement), each
 * process's agent (forwarding tasks, pulling objects, the directory of the
 * objects it owns), and starting heads, nodes and drivers' links.
 *
 * @module
 */
export { joinAsDriver, startClusterProcess } from "./cluster_process.ts";
export type { ClusterProcess, ClusterProcessOptions, DriverJoin } from "./cluster_process.ts";
export { HeadService } from "./head.ts";
export { controlStoreOf } from "./head_link.ts";
export type { HeadApi, HeadOptions } from "./head.ts";
export { ObjectDirectory } from "./directory.ts";
export { Owners } from "./owners.ts";
export type { OwnerCounters, OwnersHost } from "./owners.ts";
export { MSG } from "./messages.ts";
export { fetchObject, INLINE_MAX, PULL_CHUNK_BYTES, PULL_IN_FLIGHT, serveFetch } from "./fetch.ts";
export type { Fetched, PullMemory, PullOptions } from "./fetch.ts";
