/**
 * The per-node object store: bytes in a SharedArrayBuffer shared by the
 * node's threads.
 *
 * @module
 */
export { SharedArena } from "./shared_arena.ts";
export type { ArenaHandle, ArenaOptions, StoreLoc } from "./shared_arena.ts";
