/**
 * The head service: membership and health of the nodes, the global
 * scheduler's placements, and the directory of objects peers may need.
 * It runs in the head process; agents reach it by `HeadApi`, in process
 * (the head's own agent) or over TCP (`RemoteHead`).
 *
 * @module
 */
import {
  type ActorId,
  longInterval,
  type LongTimer,
  type NodeId,
  type ObjectId,
} from "../common/mod.ts";
import type { ActorStateChanged } from "../gcs/mod.ts";
import type { ActorCreateSpec, ClusterState } from "../protocol/mod.ts";
import { type Decision, GlobalScheduler } from "../scheduler/mod.ts";
import { ObjectDirectory } from "./directory.ts";
import { HeadActors } from "./head_actors.ts";
import type {
  FoundActor,
  FoundById,
  HelloReply,
  JoinRequest,
  PlaceActorRequest,
  PlaceRequest,
  Publish,
  ReportMessage,
} from "./messages.ts";

/** What an agent asks of the head. */
export interface HeadApi {
  hello(): Promise<HelloReply>;
  join(request: JoinRequest): Promise<void>;
  report(report: ReportMessage): void;
  place(requests: readonly PlaceRequest[]): Promise<readonly Decision[]>;
  publish(objects: Publish): void;
  /** Where an actor goes (its name, if any, is taken at once). */
  placeActor(request: PlaceActorRequest): Promise<Decision>;
  /** A live actor by name. */
  lookupActor(name: string, namespace: string): Promise<FoundActor | undefined>;
  /** A live actor by id (or why it was refused). */
  findActor(actorId: ActorId): Promise<FoundById>;
  /** An actor ended (killed, or dead on its node): its name and its resources are free. */
  actorEnded(actorId: ActorId): void;
  /** The address of a process holding `id` (one not in `tried` if there is one), once one does. */
  locate(id: ObjectId, tried?: readonly string[]): Promise<string>;
  state(): Promise<ClusterState>;
}

/** How the head reaches one member: news of a dead node, and ending its link. */
export interface MemberLink {
  nodeDied(deadNodeId: NodeId, address: string): void;
  /** Ends the member's link (it was declared dead: it must stop). */
  close(reason: string): void;
}

interface Member {
  readonly nodeId: NodeId;
  readonly role: JoinRequest["role"];
  readonly address: string;
  readonly numWorkers: number;
  readonly link: MemberLink;
  alive: boolean;
}

/** Settings of the head service. */
export interface HeadOptions {
  /** The control store's Redis, told to joining processes. */
  readonly redisAddress?: string;
  /** Health checks: a node silent for `periodMs * failureThreshold` is dead. */
  readonly healthCheck: { readonly periodMs: number; readonly failureThreshold: number };
  /** Sends a restarted actor's creation to `address` (the head's agent; see head_actors.ts). */
  readonly recreateActor?: (
    address: string,
    spec: ActorCreateSpec,
    owner: string | undefined,
  ) => void;
  /** Records actor states the head decides (restarting, dead with its node). */
  readonly record?: (event: ActorStateChanged) => void;
}

/** The head's state. */
export class HeadService {
  readonly #options: HeadOptions;
  readonly #scheduler: GlobalScheduler;
  readonly #members = new Map<NodeId, Member>();
  readonly #directory = new ObjectDirectory();
  readonly #timer: LongTimer;
  /** The cluster's actors: where they live, their names, their restarts. */
  readonly #actors: HeadActors;
  #lastCheck = Date.now();

  constructor(options: HeadOptions) {
    this.#options = options;
    const { periodMs, failureThreshold } = options.healthCheck;
    this.#scheduler = new GlobalScheduler({ heartbeatTimeoutMs: periodMs * failureThreshold });
    this.#timer = longInterval(() => this.#expire(), periodMs);
    this.#actors = new HeadActors({
      scheduler: this.#scheduler,
      alive: (nodeId) => this.#members.get(nodeId)?.alive ?? false,
      memberAlive: (address) =>
        [...this.#members.values()].some((m) => m.alive && m.address === address),
      recreate: (address, spec, owner) => options.recreateActor?.(address, spec, owner),
      record: (event) => options.record?.(event),
    });
  }

  /** The API for one member, whose dead-node notices go to `notify`. */
  apiFor(link: MemberLink): HeadApi & { readonly member: () => NodeId | undefined } {
    let me: NodeId | undefined;
    return {
      member: () => me,
      hello: () =>
        Promise.resolve({
          redisAddress: this.#options.redisAddress,
          heartbeatMs: this.#options.healthCheck.periodMs,
        }),
      join: (request) => {
        this.#join(request, link);
        me = request.nodeId;
        return Promise.resolve();
      },
      report: (report) => {
        if (me) this.#scheduler.report(me, report);
        if (me && report.draining) this.#scheduler.drain(me);
      },
      place: (requests) => Promise.resolve(requests.map((r) => this.#place(me, r))),
      publish: (objects) => {
        if (me) this.#directory.update(me, objects);
      },
      locate: (id, tried) => this.#locate(id, tried),
      placeActor: (request) => Promise.resolve(this.#placeActor(me, request)),
      lookupActor: (name, namespace) =>
        Promise.resolve(this.#actors.lookup(`${namespace}/${name}`)),
      findActor: (actorId) => Promise.resolve(this.#actors.find(actorId)),
      actorEnded: (actorId) => this.#actors.ended(actorId),
      state: () => Promise.resolve(this.state()),
    };
  }

  /** A member's link closed: a node is dead, a driver gone. */
  left(nodeId: NodeId): void {
    const m = this.#members.get(nodeId);
    if (!m || !m.alive) return;
    if (m.role === "driver") {
      // Its objects and non-detached actors go; the cluster stays.
      this.#members.delete(nodeId);
      this.#directory.dropHolder(nodeId);
      for (const other of this.#members.values()) {
        if (other.alive) other.link.nodeDied(m.nodeId, m.address);
      }
      this.#actors.ownerLeft(m.address);
      return;
    }
    this.#scheduler.nodeDied(nodeId);
    this.#died(m);
  }

  /** The cluster as `ray.nodes()` shows it. */
  state(): ClusterState {
    const nodes = this.#scheduler.nodes().map((n) => ({
      nodeId: n.nodeId as string,
      address: n.address,
      alive: n.state !== "dead",
      resources: n.total,
      numWorkers: this.#members.get(n.nodeId)?.numWorkers ?? 0,
    }));
    return {
      nodes,
      total: this.#scheduler.resources("total"),
      available: this.#scheduler.resources("available"),
    };
  }

  /** Stops the health checks. */
  close(): void {
    this.#timer.clear();
    this.#directory.close();
  }

  #join(request: JoinRequest, link: MemberLink): void {
    const old = this.#members.get(request.nodeId);
    if (old) throw new Error(`node id ${request.nodeId} is already in use in this cluster`);
    this.#members.set(request.nodeId, {
      nodeId: request.nodeId,
      role: request.role,
      address: request.address,
      numWorkers: request.numWorkers,
      link,
      alive: true,
    });
    if (request.role !== "driver") {
      const placed = this.#scheduler.addNode({
        nodeId: request.nodeId,
        address: request.address,
        total: request.resources,
      }, Date.now());
      this.#actors.joined(placed); // only actors to restart wait for a node (tasks fail at once)
    }
  }

  #place(from: NodeId | undefined, request: PlaceRequest): Decision {
    const localityBytes = request.deps.length > 0
      ? this.#directory.bytesByHolder(request.deps)
      : undefined;
    return this.#scheduler.place({
      id: request.taskId,
      demand: request.demand,
      strategy: request.strategy,
      from: from && this.#members.get(from)?.role !== "driver" ? from : undefined,
      localityBytes,
    });
  }

  #placeActor(from: NodeId | undefined, request: PlaceActorRequest): Decision {
    const node = from && this.#members.get(from)?.role !== "driver" ? from : undefined;
    return this.#actors.place(node, request);
  }

  async #locate(id: ObjectId, tried: readonly string[] = []): Promise<string> {
    const untried = (h: NodeId) => !tried.includes(this.#members.get(h)?.address ?? "");
    for (;;) {
      const holder = await this.#directory.holder(id, untried);
      const m = this.#members.get(holder);
      if (m?.alive) return m.address;
      this.#directory.dropHolder(holder);
    }
  }

  #expire(): void {
    const now = Date.now();
    const late = now - this.#lastCheck > 2 * this.#options.healthCheck.periodMs;
    this.#lastCheck = now;
    // The head itself was stalled (a long GC, a busy core): reports may wait unread; skip a round.
    if (late) return;
    for (const { nodeId } of this.#scheduler.expire(now)) {
      const m = this.#members.get(nodeId);
      if (m?.alive) this.#died(m);
    }
  }

  #died(m: Member): void {
    m.alive = false;
    this.#directory.dropHolder(m.nodeId);
    this.#actors.nodeDied(m.nodeId, m.address); // before the news: callers then find new homes
    for (const other of this.#members.values()) {
      if (other.alive) other.link.nodeDied(m.nodeId, m.address);
    }
    m.link.close(`node ${m.nodeId} was declared dead`);
  }
}
