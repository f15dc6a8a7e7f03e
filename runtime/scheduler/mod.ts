/**
 * Scheduling decisions as pure logic: events in, instructions out.
 *
 * @module
 */
export { LocalScheduler } from "./local_scheduler.ts";
export type { Instruction, ObjectStatus, Outcome, SchedulerOptions } from "./local_scheduler.ts";
export { demandOf, fits, unmet } from "./resources.ts";
export type { Resources } from "./resources.ts";
export { GlobalScheduler } from "./global_scheduler.ts";
export type {
  Decision,
  GlobalSchedulerOptions,
  NodeJoin,
  NodeReport,
  NodeState,
  NodeView,
  PlacementRequest,
  PlacementRule,
} from "./global_scheduler.ts";
