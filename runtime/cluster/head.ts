/**
 * The head service: membership and health of the nodes (and each member's
 * owner tag), the global scheduler's placements, and the actors placed.
 * Object locations are kept by the objects' owners, not here (owners.ts).
 * It runs in the head process; agents reach it by `HeadApi`, in process
 * (the head's own agent) or over TCP (`RemoteHead`).
 *
 * @module
 */
import {
  type ActorId,
  actorNameTaken,
  isOwnerTag,
  longInterval,
  type LongTimer,
  type NodeId,
  ownerTag,
} from "../common/mod.ts";
import type { ClusterState } from "../protocol/mod.ts";
import { type Decision, GlobalScheduler } from "../scheduler/mod.ts";
import type {
  FoundActor,
  FoundById,
  HelloReply,
  JoinRequest,
  OwnerInfo,
  PlaceActorRequest,
  PlaceRequest,
  ReportMessage,
} from "./messages.ts";

/** How many refused actors the head remembers (for their callers' errors). */
const REFUSED_KEPT = 10_000;

/** What an agent asks of the head. */
export interface HeadApi {
  hello(): Promise<HelloReply>;
  join(request: JoinRequest): Promise<void>;
  report(report: ReportMessage): void;
  place(requests: readonly PlaceRequest[]): Promise<readonly Decision[]>;
  /** Where an actor goes (its name, if any, is taken at once). */
  placeActor(request: PlaceActorRequest): Promise<Decision>;
  /** A live actor by name. */
  lookupActor(name: string, namespace: string): Promise<FoundActor | undefined>;
  /** A live actor by id (or why it was refused). */
  findActor(actorId: ActorId): Promise<FoundById>;
  /** An actor ended (killed, or dead on its node): its name and its resources are free. */
  actorEnded(actorId: ActorId): void;
  /** The member whose owner tag is `tag` (also when dead or gone), if any. */
  whereIs(tag: string): Promise<OwnerInfo | undefined>;
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
  readonly ownerTag: string;
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
}

/** The head's state. */
export class HeadService {
  readonly #options: HeadOptions;
  readonly #scheduler: GlobalScheduler;
  readonly #members = new Map<NodeId, Member>();
  /** Members by owner tag and by address (those gone too: their objects are lost). */
  readonly #byTag = new Map<string, Member>();
  readonly #byAddress = new Map<string, Member>();
  /** The next owner number, from a random start (a restarted head hardly meets old tags). */
  #nextOwner = crypto.getRandomValues(new Uint32Array(1))[0];
  readonly #timer: LongTimer;
  /** Actors placed by drivers: where they live, and their names. */
  readonly #actors = new Map<ActorId, FoundActor>();
  readonly #actorNames = new Map<string, ActorId>();
  /** The driver that owns each non-detached actor. */
  readonly #owners = new Map<ActorId, string>();
  /** Actors refused a name, and why (the latest REFUSED_KEPT): their callers hear it. */
  readonly #refused = new Map<ActorId, string>();
  #lastCheck = Date.now();

  constructor(options: HeadOptions) {
    this.#options = options;
    const { periodMs, failureThreshold } = options.healthCheck;
    this.#scheduler = new GlobalScheduler({ heartbeatTimeoutMs: periodMs * failureThreshold });
    this.#timer = longInterval(() => this.#expire(), periodMs);
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
          ownerTag: this.#newOwnerTag(),
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
      whereIs: (tag) => Promise.resolve(this.#whereIs(tag)),
      placeActor: (request) => Promise.resolve(this.#placeActor(me, request)),
      lookupActor: (name, namespace) =>
        Promise.resolve(this.#live(this.#actorNames.get(`${namespace}/${name}`))),
      findActor: (actorId) => {
        const refused = this.#refused.get(actorId);
        return Promise.resolve(refused ? { refused } : this.#live(actorId));
      },
      actorEnded: (actorId) => this.#actorEnded(actorId),
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
      m.alive = false; // still known by tag: readers of its objects learn they are lost
      for (const other of this.#members.values()) {
        if (other.alive) other.link.nodeDied(m.nodeId, m.address);
      }
      for (const [id, owner] of this.#owners) if (owner === m.address) this.#actorEnded(id);
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
  }

  #join(request: JoinRequest, link: MemberLink): void {
    const old = this.#members.get(request.nodeId);
    if (old) throw new Error(`node id ${request.nodeId} is already in use in this cluster`);
    if (!isOwnerTag(request.ownerTag) || this.#byTag.get(request.ownerTag)?.alive) {
      throw new TypeError(
        `Invalid owner tag ${JSON.stringify(request.ownerTag)}: ask hello for one`,
      );
    }
    const member: Member = {
      nodeId: request.nodeId,
      ownerTag: request.ownerTag,
      role: request.role,
      address: request.address,
      numWorkers: request.numWorkers,
      link,
      alive: true,
    };
    this.#members.set(request.nodeId, member);
    this.#byTag.set(member.ownerTag, member);
    this.#byAddress.set(member.address, member);
    if (request.role !== "driver") {
      const placed = this.#scheduler.addNode({
        nodeId: request.nodeId,
        address: request.address,
        total: request.resources,
      }, Date.now());
      void placed; // nothing waits: infeasible requests fail at once
    }
  }

  #place(from: NodeId | undefined, request: PlaceRequest): Decision {
    let localityBytes: Map<NodeId, number> | undefined;
    for (const [address, bytes] of request.locality ?? []) {
      const m = this.#byAddress.get(address);
      if (m?.alive && m.role !== "driver") (localityBytes ??= new Map()).set(m.nodeId, bytes);
    }
    return this.#scheduler.place({
      id: request.taskId,
      demand: request.demand,
      strategy: request.strategy,
      from: from && this.#members.get(from)?.role !== "driver" ? from : undefined,
      localityBytes,
    });
  }

  #placeActor(from: NodeId | undefined, request: PlaceActorRequest): Decision {
    const { entry } = request;
    const namespace = request.namespace ?? "default";
    const key = request.name ? `${namespace}/${request.name}` : undefined;
    if (key && this.#live(this.#actorNames.get(key))) {
      const reason = actorNameTaken(request.name!, namespace).message;
      if (this.#refused.size >= REFUSED_KEPT) {
        this.#refused.delete(this.#refused.keys().next().value!);
      }
      this.#refused.set(entry.actorId, reason);
      return { type: "infeasible", id: entry.actorId, reason };
    }
    const d = this.#scheduler.placeActor({
      id: entry.actorId,
      demand: request.demand,
      from: from && this.#members.get(from)?.role !== "driver" ? from : undefined,
    });
    if (d.type !== "place") return d;
    this.#actors.set(entry.actorId, { entry, nodeId: d.nodeId, address: d.address });
    if (!request.detached) this.#owners.set(entry.actorId, request.owner);
    if (key) this.#actorNames.set(key, entry.actorId);
    return d;
  }

  /** Forgets an actor that ended: its name and (in the scheduler) its resources are free. */
  #actorEnded(id: ActorId): void {
    const found = this.#actors.get(id);
    if (!found) return;
    this.#actors.delete(id);
    this.#owners.delete(id);
    for (const [key, named] of this.#actorNames) if (named === id) this.#actorNames.delete(key);
    this.#scheduler.actorGone(id);
  }

  /** The actor `id`, if its node is alive. */
  #live(id: ActorId | undefined): FoundActor | undefined {
    const found = id && this.#actors.get(id);
    return found && this.#members.get(found.nodeId)?.alive ? found : undefined;
  }

  #whereIs(tag: string): OwnerInfo | undefined {
    if (!isOwnerTag(tag)) throw new TypeError(`Invalid owner tag ${JSON.stringify(tag)}`);
    const m = this.#byTag.get(tag);
    return m && { nodeId: m.nodeId, address: m.address, alive: m.alive };
  }

  #newOwnerTag(): string {
    const tag = ownerTag(this.#nextOwner);
    this.#nextOwner = (this.#nextOwner + 1) >>> 0;
    return tag;
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
    for (const other of this.#members.values()) {
      if (other.alive) other.link.nodeDied(m.nodeId, m.address);
    }
    m.link.close(`node ${m.nodeId} was declared dead`);
  }
}
