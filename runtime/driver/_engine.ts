/**
 * What only a driver runs: the node, the Redis control store, the dashboard
 * and the job's views. The driver loads this module on its first `init` (or
 * view), never at import: every worker imports `mod.ts` with the user's
 * module, and a worker that loaded all this would spend most of its first
 * task compiling code it never runs (measured: about 0.8 s per worker
 * alone, several seconds for ten workers starting together on two cores).
 *
 * @module
 */
export { connectRedis } from "../gcs/mod.ts";
export { joinAsDriver } from "../cluster/mod.ts";
export { canUnrefWorkers, Node } from "../node/mod.ts";
export {
  graphOf,
  renderSvg,
  startDashboard,
  terminalProgress,
  timelineOf,
} from "../observability/mod.ts";

/** This module, loaded once (the driver's modules import it through this). */
export type Engine = typeof import("./_engine.ts");
