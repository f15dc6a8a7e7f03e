/**
 * Moving messages between threads without message passing: byte rings in
 * shared memory, a small binary codec for hot messages, and the channel
 * between the node's main thread and an actor's worker.
 *
 * @module
 */
export { ByteRing, ringFootprint } from "./byte_ring.ts";
export { WireReader, WireWriter } from "./wire.ts";
export { ActorChannel } from "./actor_channel.ts";
export type { CallBatch, ResultBatch } from "./actor_channel.ts";
