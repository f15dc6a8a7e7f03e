/**
 * The per-node daemon: scheduler, store, worker pool and object table wired together.
 *
 * @module
 */
export { Node } from "./node.ts";
export type { NodeInfo, NodeOptions } from "./node_options.ts";
export { canUnrefWorkers } from "../pool/mod.ts";
export type { ActorsElsewhere } from "./actor_manager.ts";
export type { ClusterPort, ClusterPortFactory, ClusterSide, StoredObject } from "./cluster_port.ts";
