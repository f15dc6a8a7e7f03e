/**
 * Message and record types shared by driver, scheduler, worker and node. No I/O.
 *
 * @module
 */
export * from "./task_spec.ts";
export * from "./worker_messages.ts";
export * from "./actor_messages.ts";
export * from "./call_args.ts";
export * from "./call_records.ts";
