/**
 * Worker side: entry, executor and backend. The node starts `entry.ts` as a
 * Web Worker by URL; `WORKER_ENTRY_URL` names it.
 *
 * @module
 */
export { CallLinks } from "./call_links.ts";
export type { CallLinksHost } from "./call_links.ts";
/** URL of the worker entry module, for `new Worker(...)`. */
export const WORKER_ENTRY_URL: URL = new URL("./entry.ts", import.meta.url);
