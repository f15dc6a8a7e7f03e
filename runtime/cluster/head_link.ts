/**
 * The head as a remote process sees it: `HeadApi` over a frame link.
 *
 * @module
 */
import { type ActorId, type NodeId, RayError } from "../common/mod.ts";
import type { ClusterState } from "../protocol/mod.ts";
import type { Decision } from "../scheduler/mod.ts";
import {
  ConnectionClosedError,
  dialFrames,
  type FrameConn,
  FrameRpc,
  HandshakeError,
} from "../transport/mod.ts";
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

/** How a link to the head comes back after it closed (a head restart, a cut connection). */
export interface Reconnect {
  /** How long to keep dialing before giving up (0: never dial again). */
  readonly timeoutMs: number;
  /** Keeps the process alive while it dials (false for a driver). */
  readonly ref: boolean;
  /**
   * Joins again on the new link (its hello, join and what the new head must
   * learn). Throwing `DeclaredDead` ends the link for good.
   */
  readonly rejoin: (head: RemoteHead) => Promise<void>;
}

/** The head refused a rejoin: it declared this node dead meanwhile. */
export class DeclaredDead extends Error {
  override name = "DeclaredDead";
}

/** Delay before the next dial: from this, doubling up to RECONNECT_MAX_MS. */
const RECONNECT_FIRST_MS = 50;
const RECONNECT_MAX_MS = 1000;
/** A dial that does not connect in this long counts as failed (a host cut off). */
const DIAL_TIMEOUT_MS = 5000;

/**
 * HeadApi over a link to the head. When the link closes it dials again (as
 * `Reconnect` says) and joins again; requests made meanwhile wait for the
 * new link, and requests cut off by the close are asked again there.
 * Messages (reports, publishes) sent while it is away are lost with the
 * closed link: the rejoin tells the new head what it must know.
 */
export class RemoteHead implements HeadApi {
  #rpc: FrameRpc;
  /** Set while the link is away: resolves with the new one, rejects when it gives up. */
  #away: Promise<FrameRpc> | undefined;
  #reconnect: Reconnect | undefined;
  #closing = false;
  readonly #dial: () => Promise<FrameRpc>;
  readonly #ended = Promise.withResolvers<string>();
  /** Resolves, with why, once the link is gone for good (closed here, or it could not come back). */
  readonly ended: Promise<string> = this.#ended.promise;

  constructor(rpc: FrameRpc, dial: () => Promise<FrameRpc>) {
    this.#rpc = rpc;
    this.#dial = dial;
    this.#watch(rpc);
  }

  /** The current link. */
  get rpc(): FrameRpc {
    return this.#rpc;
  }

  /** From now on a closed link is dialed again (after the first join). */
  reconnectWith(reconnect: Reconnect): void {
    this.#reconnect = reconnect;
  }

  /** Ends the link for good. */
  close(reason: string): void {
    this.#closing = true;
    this.#rpc.conn.close(reason);
    this.#ended.resolve(reason);
  }

  async hello(): Promise<HelloReply> {
    return (await this.#request(MSG.hello)).message as HelloReply;
  }

  /** On the current link only (a rejoin runs while the link is still "away"). */
  async helloHere(): Promise<HelloReply> {
    return (await this.#rpc.request(MSG.hello)).message as HelloReply;
  }

  async join(request: JoinRequest): Promise<void> {
    await this.#request(MSG.join, request);
  }

  /** Joins on the current link; throws DeclaredDead when the head refuses a node it declared dead. */
  async joinHere(request: JoinRequest): Promise<void> {
    try {
      await this.#rpc.request(MSG.join, request);
    } catch (err) {
      if (/was declared dead/.test(String((err as Error)?.message))) {
        throw new DeclaredDead((err as Error).message);
      }
      throw err;
    }
  }

  report(report: ReportMessage): void {
    this.#rpc.conn.send(MSG.report, report).catch(() => {}); // the link's end is seen on `closed`
  }

  async place(requests: readonly PlaceRequest[]): Promise<readonly Decision[]> {
    return (await this.#request(MSG.place, requests)).message as Decision[];
  }

  async whereIs(tag: string): Promise<OwnerInfo | undefined> {
    return (await this.#request(MSG.whereIs, tag)).message as OwnerInfo | undefined;
  }

  async placeActor(request: PlaceActorRequest): Promise<Decision> {
    return (await this.#request(MSG.placeActor, request)).message as Decision;
  }

  async lookupActor(name: string, namespace: string): Promise<FoundActor | undefined> {
    return (await this.#request(MSG.findActor, [name, namespace])).message as FoundActor;
  }

  async findActor(actorId: ActorId): Promise<FoundById> {
    return (await this.#request(MSG.findActor, [actorId])).message as FoundById;
  }

  actorEnded(actorId: ActorId): void {
    this.#rpc.conn.send(MSG.actorEnded, actorId).catch(() => {});
  }

  async state(): Promise<ClusterState> {
    return (await this.#request(MSG.state)).message as ClusterState;
  }

  /** A request, asked again on the next link if this one closes first. */
  async #request(type: number, message?: unknown, timeoutMs?: number) {
    for (;;) {
      const rpc = this.#away ? await this.#away : this.#rpc;
      try {
        return await rpc.request(type, message, undefined, timeoutMs ? { timeoutMs } : undefined);
      } catch (err) {
        if (!(err instanceof ConnectionClosedError) || !this.#reconnect || this.#closing) throw err;
        if (rpc === this.#rpc && !this.#away) await rpc.conn.closed; // the watch starts the dial
      }
    }
  }

  #watch(rpc: FrameRpc): void {
    rpc.conn.closed.then((why) => {
      if (this.#closing || rpc !== this.#rpc) return;
      if (!this.#reconnect || this.#reconnect.timeoutMs <= 0) {
        return this.#ended.resolve(`the link to the head closed (${why.message})`);
      }
      const away = this.#comeBack(this.#reconnect);
      this.#away = away;
      away.then(
        () => this.#away = undefined,
        (err) => this.#ended.resolve(String(err?.message ?? err)),
      );
    });
  }

  /** Dials until a new link joins, or the time runs out (rejects). */
  async #comeBack(reconnect: Reconnect): Promise<FrameRpc> {
    const until = Date.now() + reconnect.timeoutMs;
    let delay = RECONNECT_FIRST_MS;
    // An unref'd timer does not keep a driver alive while it dials.
    const sleep = (ms: number) =>
      new Promise<void>((resolve) => {
        const t = setTimeout(resolve, ms);
        if (!reconnect.ref) Deno.unrefTimer(t);
      });
    let last = "";
    while (!this.#closing && Date.now() < until) {
      await sleep(delay);
      delay = Math.min(RECONNECT_MAX_MS, delay * 2);
      let rpc: FrameRpc;
      try {
        rpc = await this.#dial();
      } catch (err) {
        last = (err as Error).message;
        continue;
      }
      this.#rpc = rpc;
      try {
        await reconnect.rejoin(this);
      } catch (err) {
        rpc.conn.close("rejoin failed");
        if (err instanceof DeclaredDead) throw err;
        last = (err as Error).message;
        continue;
      }
      this.#watch(rpc);
      return rpc;
    }
    if (this.#closing) throw new Error("closed while dialing the head again");
    throw new Error(
      `the link to the head closed and it did not come back within ${reconnect.timeoutMs} ms` +
        (last ? ` (last try: ${last})` : ""),
    );
  }
}

/** A dial that did not connect within its time (a host cut off, or slow). */
export class DialTimeout extends Error {
  override name = "DialTimeout";
}

/**
 * Dials the cluster process at `address`, giving up after `ms` with
 * DialTimeout (a link that connects later is closed); other failures as
 * `dialFrames` throws them.
 */
export async function dialWithin(
  address: string,
  link: { token: string; role: string },
  ms: number,
  unref = false,
): Promise<FrameConn> {
  const { hostname, port } = splitAddress(address);
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new DialTimeout(`cannot connect to ${address} within ${ms} ms`)),
      ms,
    );
    if (unref) Deno.unrefTimer(timer as unknown as number);
  });
  const dialing = dialFrames({ hostname, port, ...link });
  try {
    return await Promise.race([dialing, timeout]);
  } catch (err) {
    dialing.then((late) => late.close("too late"), () => {});
    throw err;
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Dials the head at `address`; `listener` gets what the head tells this
 * process. The link is dialed the same way when it comes back (see
 * `RemoteHead.reconnectWith`).
 */
export async function dialHead(
  address: string,
  token: string,
  role: string,
  listener: () => HeadListener | undefined,
  options: { unref?: boolean } = {},
): Promise<RemoteHead> {
  const dial = async () => {
    let conn;
    try {
      conn = await dialWithin(address, { token, role }, DIAL_TIMEOUT_MS, options.unref);
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
    if (options.unref) conn.conn.unref();
    return new FrameRpc(conn, {
      onMessage: (frame) => {
        if (frame.type !== MSG.nodeDied) return;
        const { nodeId, address } = frame.message as { nodeId: NodeId; address: string };
        listener()?.nodeDied(nodeId, address);
      },
    });
  };
  return new RemoteHead(await dial(), dial);
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
    head.close("done");
  }
}
