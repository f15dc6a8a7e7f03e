/**
 * Moving messages between threads without message passing: byte rings in
 * shared memory, a small binary codec for hot messages, and the work
 * channels between the node's main thread and its workers (tasks), on which
 * call links to actors build in runtime/links; and the cluster wire,
 * authenticated TCP links of length-prefixed frames between rayd processes.
 *
 * @module
 */
export { ByteRing, ringFootprint } from "./byte_ring.ts";
export { WireReader, WireWriter } from "./wire.ts";
export { BELL_OFFSET, WorkChannel } from "./work_channel.ts";
export type { ResultBatch, WorkBatch, WorkCodec } from "./work_channel.ts";
export { TaskChannel } from "./task_channel.ts";
export { Doorbell } from "./doorbell.ts";
export { dialFrames, listenFrames } from "./tcp_link.ts";
export type { FrameListener, LinkOptions, ListenFramesOptions } from "./tcp_link.ts";
export { FrameConn } from "./tcp_frames.ts";
export type { FrameConnLimits, PeerInfo } from "./tcp_frames.ts";
export { FrameKind, PROTOCOL_VERSION } from "./tcp_format.ts";
export type { Frame } from "./tcp_format.ts";
export { FrameRpc } from "./frame_rpc.ts";
export type { Reply, RequestOptions, RpcHandlers } from "./frame_rpc.ts";
export {
  ConnectionClosedError,
  FrameTooLargeError,
  HandshakeError,
  RemoteRequestError,
  RequestTimeoutError,
  SendQueueFullError,
} from "./tcp_errors.ts";
export type { HandshakeFailure } from "./tcp_errors.ts";
