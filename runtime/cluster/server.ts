/**
 * The one port of a cluster process: head frames go to the head service
 * (on the head only), peer frames to the process's agent.
 *
 * @module
 */
import type { ActorId } from "../common/mod.ts";
import type { ReportMessage } from "./messages.ts";
import { type FrameListener, FrameRpc, listenFrames, type Reply } from "../transport/mod.ts";
import type { Frame as WireFrame } from "../transport/mod.ts";
import type { Agent } from "./agent.ts";
import type { HeadService } from "./head.ts";
import { type JoinRequest, MSG, type PlaceActorRequest, type PlaceRequest } from "./messages.ts";

/** What the port serves. */
export interface ServeOptions {
  readonly hostname: string;
  readonly port: number;
  readonly token: string;
  readonly role: string;
  /** The head service, in the head process. */
  readonly head?: HeadService;
  /** Neither the port nor its links keep the process alive (a driver's). */
  readonly unref?: boolean;
  /** The agent, once it exists. */
  readonly agent: () => Agent | undefined;
}

const HEAD_TYPES = new Set<number>([
  MSG.hello,
  MSG.join,
  MSG.report,
  MSG.place,
  MSG.whereIs,
  MSG.state,
  MSG.placeActor,
  MSG.findActor,
  MSG.actorEnded,
]);

/** Listens on the process's port. */
export function serveCluster(options: ServeOptions): Promise<FrameListener> {
  return listenFrames({
    hostname: options.hostname,
    port: options.port,
    token: options.token,
    role: options.role,
    unref: options.unref,
    onConnection: (conn) => {
      const api = options.head?.apiFor({
        nodeDied: (nodeId, address) => {
          conn.send(MSG.nodeDied, { nodeId, address }).catch(() => {});
        },
        // What was sent first (the news that it is dead) reaches it before the end of the link.
        close: (reason) => void conn.drained().then(() => conn.close(reason)),
      });
      const needAgent = () => {
        const agent = options.agent();
        if (!agent) throw new Error("this process is still starting");
        return agent;
      };
      const needHead = (type: number) => {
        if (!api) {
          throw new Error(`frame type ${type} goes to the head, and this process is not it`);
        }
        return api;
      };
      new FrameRpc(conn, {
        onRequest: (frame): Reply | Promise<Reply> => {
          if (!HEAD_TYPES.has(frame.type)) return needAgent().onRequest(frame);
          return headRequest(needHead(frame.type), frame);
        },
        onMessage: (frame) => {
          try {
            if (frame.type === MSG.report) {
              needHead(frame.type).report(frame.message as ReportMessage);
            } else if (frame.type === MSG.actorEnded) {
              needHead(frame.type).actorEnded(frame.message as ActorId);
            } else needAgent().onMessage(frame);
          } catch (err) {
            // A message this process cannot take: that link goes, nothing else.
            const who = `${conn.peerInfo.role} ${conn.peerInfo.nodeId}`.trim();
            console.warn(
              `rayd: closed the link from ${conn.peer} (${who}): message of type ${frame.type}: ` +
                (err instanceof Error ? err.message : String(err)),
            );
            conn.close(`bad message of type ${frame.type}`);
          }
        },
      });
      conn.closed.then(() => {
        const member = api?.member();
        if (member) options.head!.left(member, api!.link);
      });
    },
  });
}

async function headRequest(
  api: ReturnType<HeadService["apiFor"]>,
  frame: WireFrame,
): Promise<Reply> {
  switch (frame.type) {
    case MSG.hello:
      return { message: await api.hello() };
    case MSG.join:
      await api.join(frame.message as JoinRequest);
      return {};
    case MSG.place:
      return { message: await api.place(frame.message as PlaceRequest[]) };
    case MSG.whereIs:
      return { message: await api.whereIs(frame.message as string) };
    case MSG.state:
      return { message: await api.state() };
    case MSG.placeActor:
      return { message: await api.placeActor(frame.message as PlaceActorRequest) };
    case MSG.findActor: {
      const [a, b] = frame.message as [string, string?];
      const found = b === undefined
        ? await api.findActor(a as ActorId)
        : await api.lookupActor(a, b);
      return { message: found };
    }
    default:
      throw new TypeError(`frame type ${frame.type} is not a head request`);
  }
}
