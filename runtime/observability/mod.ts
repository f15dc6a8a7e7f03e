/**
 * Observability: the computation graph (DOT, and SVG through Graphviz in
 * WebAssembly), the timeline (Chrome trace events), progress bars for long
 * waits, and the dashboard server. Everything here reads the control store;
 * nothing here is on a task's path.
 *
 * @example
 * ```ts
 * import { buildGraph, renderSvg } from "./mod.ts";
 * const dot = buildGraph([]);
 * console.assert((await renderSvg(dot)).includes("op&#45;root"));
 * ```
 *
 * @module
 */
export { buildGraph, type GraphOptions, type GraphTask } from "./graph.ts";
export { buildTimeline, type TimelineTask, type TraceEvent } from "./timeline.ts";
export { graphOf, type JobSelector, readTasks, timelineOf } from "./reader.ts";
export { renderSvg } from "./render.ts";
export {
  formatProgress,
  type ProgressOptions,
  type ProgressState,
  terminalProgress,
} from "./progress.ts";
export {
  type Dashboard,
  type DashboardOptions,
  type DashboardState,
  dashboardState,
  type LiveStats,
  startDashboard,
} from "./dashboard.ts";
