/**
 * The head as a remote process sees it: `HeadApi` over a frame link.
 *
 * @module
 */
import { type ActorId, type NodeId, RayError } from "../common/mod.ts";
import type { ClusterState } from "../protocol/mod.ts";
import type { Decision } from "../scheduler/mod.ts";
import { dialFrames, FrameRpc, HandshakeError } from "../transport/mod.ts";
import type { HeadApi } from "./head.ts";
import {
  type FoundActor,
  type FoundById,
  type HelloReply,
  type JoinRequest,
  MSG,
  type OwnerInfo,
  type PlaceActorRequest,
  type PlaceRequest,
  type ReportMessage,
} from "./messages.ts";
import { splitAddress } from "./peers.ts";

/** What a process does with what the head tells it. */
export interface HeadListener {
  nodeDied(nodeId: NodeId, address: string): void;
}

/** HeadApi over a link to the head. */
export class RemoteHead implements HeadApi {
  constructor(readonly rpc: FrameRpc) {}

  async hello(): Promise<HelloReply> {
    return (await this.rpc.request(MSG.hello)).message as HelloReply;
  }

  async join(request: JoinRequest): Promise<void> {
    await this.rpc.request(MSG.join, request);
  }

  report(report: ReportMessage): void {
    this.rpc.conn.send(MSG.report, report).catch(() => {}); // the link's end is seen on `closed`
  }

  async place(requests: readonly PlaceRequest[]): Promise<readonly Decision[]> {
    return (await this.rpc.request(MSG.place, requests)).message as Decision[];
  }

  async whereIs(tag: string): Promise<OwnerInfo | undefined> {
    return (await this.rpc.request(MSG.whereIs, tag)).message as OwnerInfo | undefined;
  }

  async placeActor(request: PlaceActorRequest): Promise<Decision> {
    return (await this.rpc.request(MSG.placeActor, request)).message as Decision;
  }

  async lookupActor(name: string, namespace: string): Promise<FoundActor | undefined> {
    return (await this.rpc.request(MSG.findActor, [name, namespace])).message as FoundActor;
  }

  async findActor(actorId: ActorId): Promise<FoundById> {
    return (await this.rpc.request(MSG.findActor, [actorId])).message as FoundById;
  }

  actorEnded(actorId: ActorId): void {
    this.rpc.conn.send(MSG.actorEnded, actorId).catch(() => {});
  }

  async state(): Promise<ClusterState> {
    return (await this.rpc.request(MSG.state)).message as ClusterState;
  }
}

/** Dials the head at `address`; `listener` gets what the head tells this process. */
export async function dialHead(
  address: string,
  token: string,
  role: string,
  listener: () => HeadListener | undefined,
): Promise<RemoteHead> {
  const { hostname, port } = splitAddress(address);
  let conn;
  try {
    conn = await dialFrames({ hostname, port, token, role });
  } catch (err) {
    if (err instanceof HandshakeError && err.failure === "bad-token") {
      throw new RayError(
        `The cluster at ${address} refused this process's token: pass the cluster's token ` +
          "(init({ token }), --token, or RAYD_TOKEN)",
        { cause: err },
      );
    }
    throw err;
  }
  const rpc = new FrameRpc(conn, {
    onMessage: (frame) => {
      if (frame.type !== MSG.nodeDied) return;
      const { nodeId, address } = frame.message as { nodeId: NodeId; address: string };
      listener()?.nodeDied(nodeId, address);
    },
  });
  return new RemoteHead(rpc);
}

/**
 * Asks the head at `address` where the cluster keeps its control store (the
 * inspecting commands read it from there).
 *
 * @returns the Redis address, or undefined when the head keeps records in memory
 * @throws RayError when the head refuses the token; the transport's errors when it cannot be reached
 */
export async function controlStoreOf(address: string, token: string): Promise<string | undefined> {
  const head = await dialHead(address, token, "cli", () => undefined);
  try {
    return (await head.hello()).redisAddress;
  } finally {
    head.rpc.conn.close("done");
  }
}
