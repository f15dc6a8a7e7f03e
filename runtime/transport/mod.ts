/**
 * Moving messages between threads without message passing: byte rings in
 * shared memory, a small binary codec for hot messages, and the work
 * channels between the node's main thread and its workers (tasks); call
 * links to actors build on them in runtime/links.
 *
 * @module
 */
export { ByteRing, ringFootprint } from "./byte_ring.ts";
export { WireReader, WireWriter } from "./wire.ts";
export { WorkChannel } from "./work_channel.ts";
export type { ResultBatch, WorkBatch, WorkCodec } from "./work_channel.ts";
export { TaskChannel } from "./task_channel.ts";
export { Doorbell } from "./doorbell.ts";
