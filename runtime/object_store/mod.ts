/**
 * The per-node object store: bytes in a SharedArrayBuffer shared by the
 * node's threads, allocated and freed from any of them.
 *
 * @module
 */
export { Allocator, FRESH } from "./allocator.ts";
export type { AllocatorStats } from "./allocator.ts";
export { newStopWords, stopAndWait, useStopWords } from "./stop_guard.ts";
export { SharedArena } from "./shared_arena.ts";
export type { ArenaHandle, ArenaOptions, BeforeFresh, MakeRoom, StoreLoc } from "./shared_arena.ts";
export { SpillFiles } from "./spill_files.ts";
export type { DiskLoc, SpillFilesOptions, SpillFilesStats } from "./spill_files.ts";
