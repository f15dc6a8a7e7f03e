/**
 * Code shipping: a driver's local module graph (content-addressed) and a
 * node's cache that lays it out so workers can import the driver's modules
 * when the node cannot read the driver's files.
 *
 * @module
 */
export { importsOf, moduleGraphOf, sha256Hex } from "./module_graph.ts";
export type { GraphModule, ModuleGraph, ShippableGraph } from "./module_graph.ts";
export { ModuleCache } from "./module_cache.ts";
