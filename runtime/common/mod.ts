/**
 * Ids, errors, the settings table, long timers, the keep-alive, the per-user runtime
 * folder and the progress hook: what every other folder may use.
 *
 * @module
 */
export * from "./errors.ts";
export * from "./ids.ts";
export * from "./config.ts";
export * from "./runtime_dir.ts";
export * from "./timers.ts";
export * from "./progress.ts";
export * from "./keep_alive.ts";
export * from "./recent.ts";
