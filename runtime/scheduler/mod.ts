/**
 * Scheduling decisions as pure logic: events in, instructions out.
 *
 * @module
 */
export { LocalScheduler } from "./local_scheduler.ts";
export type { Instruction, ObjectStatus } from "./local_scheduler.ts";
