/**
 * Ids, errors, the settings table and long timers: what every other folder may use.
 *
 * @module
 */
export * from "./errors.ts";
export * from "./ids.ts";
export * from "./config.ts";
export * from "./timers.ts";
