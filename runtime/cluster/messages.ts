/**
 * The messages between cluster processes, as frame types over the TCP
 * frame links (runtime/transport). Every process serves one port: the head
 * types reach the head service (only on the head), the peer types reach the
 * process's agent.
 *
 * @module
 */
import type { NodeId, ObjectId, TaskId } from "../common/mod.ts";
import type { ModuleGraph } from "../code/mod.ts";
import type { Decision, NodeReport, Resources } from "../scheduler/mod.ts";
import type {
  ActorCreateSpec,
  ActorEntry,
  CancelMode,
  SchedulingStrategy,
} from "../protocol/mod.ts";

/** Frame types. Head: 1-9 and 30-39 (agent to head), 20-29 (head to agent). Peers: 10-19. */
export const MSG = {
  /** Request: what a joining process needs first (Redis, heartbeat period). */
  hello: 1,
  /** Request: a node or driver joins (JoinRequest), answered when recorded. */
  join: 2,
  /** Message: a node's heartbeat (NodeReport). */
  report: 3,
  /** Request: where tasks go (PlaceRequest[] -> Decision[]). */
  place: 4,
  /** Request: the cluster's nodes and resources (ClusterState). */
  state: 7,
  /** Message: tasks placed on the receiving node (RunMessage). */
  run: 10,
  /** Message: tasks of the receiver's that ended here ([taskId, failed][]). */
  finished: 11,
  /** Request: a piece of a stored object (FetchRequest -> FetchReply + body). */
  fetch: 12,
  /** Message: the sender no longer holds these results ([ObjectId]). */
  release: 13,
  /** Message: cancel a task placed on the receiver ([TaskId, CancelMode]). */
  cancel: 14,
  /** Message: an actor created, called or killed on the receiver (ActorMessage). */
  actor: 15,
  /** Request: a code graph (CodeRequest -> CodeReply, the modules' bytes as the body). */
  code: 16,
  /** Message (holder to owner): copies of the owner's objects added and removed here (PublishMessage). */
  publish: 17,
  /** Request (reader to owner): where an object is (LocateRequest -> address), answered once known. */
  locate: 18,
  /** Message: the sender (draining) stops soon: take your copies of these objects (LeavingMessage). */
  leaving: 19,
  /** Request: where an actor goes (PlaceActorRequest -> Decision). */
  placeActor: 8,
  /** Request: a live actor by name ([name, namespace]) or by id ([id]) -> FoundActor | undefined. */
  findActor: 9,
  /** Message (head to all): a node is dead (NodeId). */
  nodeDied: 20,
  /** Message: an actor ended (killed, or dead on its node): its name and resources are free (ActorId). */
  actorEnded: 30,
  /** Request: the member with an owner tag (string -> OwnerInfo | undefined). */
  whereIs: 31,
  /** Request: write every control-store record queued here (answered once written). */
  flushRecords: 32,
} as const;

/** Answer to `hello`. */
export interface HelloReply {
  /** The control store's Redis (`redis://host:port`); absent: each process keeps its records in memory. */
  readonly redisAddress?: string;
  /** How often nodes report. */
  readonly heartbeatMs: number;
  /** The asking process's owner tag, unique in this cluster: its ids start with it (ids.ts). */
  readonly ownerTag: string;
}

/** `join`. */
export interface JoinRequest {
  readonly nodeId: NodeId;
  readonly role: "head" | "node" | "driver";
  /** Where peers reach it (`host:port`). */
  readonly address: string;
  readonly resources: Resources;
  readonly numWorkers: number;
  /** The owner tag `hello` gave it. */
  readonly ownerTag: string;
  /**
   * Joining again after its link to the head closed (a head restart, a cut
   * connection): with the actors it hosts, which a restarted head learns
   * from the nodes. A head that declared the node dead refuses it.
   */
  readonly rejoin?: boolean;
  readonly actors?: readonly HostedActor[];
}

/** `whereIs` answer: the member with that owner tag (dead ones and departed drivers too). */
export interface OwnerInfo {
  readonly nodeId: NodeId;
  readonly address: string;
  readonly alive: boolean;
}

/** An actor a node hosts, as its placement asked for it (told to the head on a rejoin). */
export type HostedActor = PlaceActorRequest;

/** One task of a `place` request. */
export interface PlaceRequest {
  readonly taskId: TaskId;
  readonly demand: Resources;
  readonly strategy: SchedulingStrategy;
  /** Bytes of its dependencies each process holds (by address), as the requester knows. */
  readonly locality?: readonly (readonly [address: string, bytes: number])[];
}

/** `place` answer: a decision per request, in order. */
export type PlaceReply = readonly Decision[];

/** Copies added (with their sizes) and removed. */
export interface Publish {
  readonly added: readonly (readonly [ObjectId, number])[];
  readonly removed: readonly ObjectId[];
}

/** `publish`: copies of the receiver's objects added and removed at the holder `from`. */
export interface PublishMessage extends Publish {
  readonly from: string;
}

/** `locate`: an object, or an object and the addresses already tried. */
export type LocateRequest = ObjectId | readonly [ObjectId, readonly string[]];

/**
 * The graphs of the `file:` modules a message names: `[module URL, graph id,
 * the graph's folder there]` (the same files may sit in other folders elsewhere).
 */
export type CodeRefs = readonly (readonly [url: string, graph: string, root: string])[];

/** `code`: a graph's description, or (with `hashes`) the bytes of some of its modules. */
export interface CodeRequest {
  readonly graph: string;
  readonly hashes?: readonly string[];
}

/** `code` answer: the graph, or the sizes of the asked modules (their bytes, in order, are the body). */
export interface CodeReply {
  readonly graph?: ModuleGraph;
  readonly sizes?: readonly number[];
}

/** A return of a finished task as `finished` tells its owner: its bytes when small, else its size. */
export type Return = readonly [
  id: ObjectId,
  bytes?: Uint8Array,
  error?: boolean,
  contained?: readonly ObjectId[],
  size?: number,
];

/** `fetch`: bytes `[offset, offset + max)` of `id`. */
export interface FetchRequest {
  readonly id: ObjectId;
  readonly offset: number;
  readonly max: number;
  /** The requester's address (refs inside the object are held for it). */
  readonly from: string;
}

/** `fetch` answer (the bytes are the frame's body); `size` -1 when the object is not here. */
export interface FetchReply {
  readonly size: number;
  readonly error: boolean;
  readonly contained: readonly ObjectId[];
  /** Refs inside it that the holder now holds for the requester (first chunk only). */
  readonly held?: readonly ObjectId[];
}

/** `placeActor`. */
export interface PlaceActorRequest {
  readonly entry: ActorEntry;
  /** The creating driver's address: a non-detached actor ends when that driver leaves. */
  readonly owner: string;
  readonly detached: boolean;
  readonly demand: Resources;
  readonly name?: string;
  readonly namespace?: string;
  /** Where it goes, now and when it restarts (absent: `"DEFAULT"`). */
  readonly strategy?: SchedulingStrategy;
  /** Retries of each call in flight when its node dies (-1: forever). */
  readonly maxTaskRetries?: number;
  /** Its creation as sent, for an actor that may restart (`maxRestarts` not 0): the head keeps it. */
  readonly spec?: ActorCreateSpec;
}

/** An actor the head knows. */
export interface FoundActor {
  readonly entry: ActorEntry;
  readonly nodeId: NodeId;
  readonly address: string;
  /** Retries of each call in flight when its node dies (-1: forever). */
  readonly maxTaskRetries?: number;
}

/** `findActor` by id: the actor, or why it is gone (its name was taken, or it died for good). */
export type FoundById = FoundActor | { readonly refused: string } | undefined;

/** `cancel`. */
export type CancelMessage = readonly [TaskId, CancelMode];

/** `report` as sent: with `draining`, the node takes no new work from now on. */
export type ReportMessage = NodeReport & { readonly draining?: boolean };
