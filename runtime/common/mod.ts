/**
 * Ids, errors and the settings table: what every other folder may use.
 *
 * @module
 */
export * from "./errors.ts";
export * from "./ids.ts";
export * from "./config.ts";
