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
  isOwnerTag,
  longInterval,
  type LongTimer,
  type NodeId,
  ownerTag,
} from "../common/mod.ts";
import type { ActorStateChanged, NodeRemoved } from "../gcs/mod.ts";
import type { ActorCreateSpec, ClusterState } from "../protocol/mod.ts";
import { type Decision, GlobalScheduler } from "../scheduler/mod.ts";
import { HeadActors } from "./head_actors.ts";
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
  link: MemberLink;
  alive: boolean;
  /** Its link closed and its process still answers: it may join again (a driver's timer). */
  away?: ReturnType<typeof setTimeout> | true;
}

/** Settings of the head service. */
export interface HeadOptions {
  /** The control store's Redis, told to joining processes. */
  readonly redisAddress?: string;
  /** Health checks: a node silent for `periodMs * failureThreshold` is dead. */
  readonly healthCheck: { readonly periodMs: number; readonly failureThreshold: number };
  /**
   * Whether a process still answers at `address` (its link to the head
   * closed: gone for good, or only its connection?). Absent: a closed link
   * is a death.
   */
  readonly probe?: (address: string) => Promise<boolean>;
  /**
   * Placements and actor lookups wait until `expect` says which nodes were
   * alive before this head (a head with the cluster's Redis may be a
   * restart: its nodes are on their way back).
   */
  readonly waitForPrevious?: boolean;
  /** Sends a restarted actor's creation to `address` (the head's agent; see head_actors.ts). */
  readonly recreateActor?: (
    address: string,
    spec: ActorCreateSpec,
    owner: string | undefined,
  ) => void;
  /** Records what the head decides: actor states (restarting, dead with its node), node deaths. */
  readonly record?: (event: ActorStateChanged | NodeRemoved) => void;
}

/** Extra time a member whose link closed gets to join again, beyond the health checks' window. */
const REJOIN_SLACK_MS = 1000;

const NO_LINK: MemberLink = { nodeDied() {}, close() {} };

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
  /** The cluster's actors: where they live, their names, their restarts. */
  readonly #actors: HeadActors;
  #lastCheck = Date.now();
  #closed = false;
  /** Timers of `expect`. */
  readonly #expecting: ReturnType<typeof setTimeout>[] = [];
  /** Nodes from before a head restart not joined again yet; placements wait on `#settling`. */
  #expected = new Set<NodeId>();
  #settling: PromiseWithResolvers<void> | undefined;
  /** This head's address, once `expect` told it (a restarted head's predecessor had it too). */
  #ownAddress: string | undefined;

  constructor(options: HeadOptions) {
    this.#options = options;
    const { periodMs, failureThreshold } = options.healthCheck;
    this.#scheduler = new GlobalScheduler({ heartbeatTimeoutMs: periodMs * failureThreshold });
    this.#timer = longInterval(() => this.#expire(), periodMs);
    if (options.waitForPrevious) this.#settling = Promise.withResolvers();
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
  apiFor(
    link: MemberLink,
  ): HeadApi & { readonly member: () => NodeId | undefined; readonly link: MemberLink } {
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
      link,
      report: (report) => {
        if (!me || !this.#members.get(me)?.alive) return; // a dead node's last words
        this.#scheduler.report(me, report);
        if (report.draining) this.#scheduler.drain(me);
      },
      place: (requests) => this.#settled(() => requests.map((r) => this.#place(me, r))),
      // A restarted head answers once the members from before joined again (or the window passed).
      whereIs: (tag) => this.#settled(() => this.#whereIs(tag)),
      placeActor: (request) => this.#settled(() => this.#placeActor(me, request)),
      lookupActor: (name, namespace) =>
        this.#settled(() => this.#actors.lookup(`${namespace}/${name}`)),
      findActor: (actorId) => this.#settled(() => this.#actors.find(actorId)),
      actorEnded: (actorId) => this.#actors.ended(actorId),
      state: () => Promise.resolve(this.state()),
    };
  }

  /**
   * A member's link closed. A process that no longer answers at its address
   * is gone at once (a node dead, a driver gone); one that answers has only
   * lost its connection (or its head restarted) and may join again: a node
   * within its health checks, a driver within as long.
   */
  left(nodeId: NodeId, link?: MemberLink): void {
    if (this.#closed) return;
    const m = this.#members.get(nodeId);
    if (!m || !m.alive || (link && m.link !== link)) return; // an old link of a member that rejoined
    const probe = this.#options.probe;
    if (!probe) return this.#gone(m, "its link to the head closed");
    m.away = true;
    probe(m.address).then((answers) => {
      if ((link && m.link !== link) || !m.alive || !m.away) return; // it rejoined meanwhile
      if (!answers) return this.#gone(m, "its link to the head closed and its process is gone");
      if (m.role !== "driver") return; // the health checks decide
      m.away = setTimeout(() => {
        if (m.away && m.alive) this.#gone(m, "it did not join again after its link closed");
      }, this.#window());
    });
  }

  /**
   * A head that restarted with the cluster's control store: these nodes were
   * alive before. Each must join again within the health checks' window, or
   * it is declared dead (its tasks and objects go elsewhere).
   */
  expect(
    nodes: readonly { nodeId: NodeId; address: string; resources: Record<string, number> }[],
    ownAddress: string,
  ): void {
    this.#ownAddress = ownAddress;
    const late = nodes.filter((n) => !this.#members.has(n.nodeId));
    // The node of the head before this one (at this very address) will not join again.
    for (const n of late.filter((n) => n.address === ownAddress)) {
      this.#gave(n, "the head restarted");
    }
    late.splice(0, late.length, ...late.filter((n) => n.address !== ownAddress));
    if (late.length === 0) {
      this.#settling?.resolve();
      this.#settling = undefined;
      return;
    }
    // Until they joined again (or the window passed), placements and actor lookups wait: the
    // cluster's nodes and actors are not all known yet.
    this.#expected = new Set(late.map((n) => n.nodeId));
    this.#settling ??= Promise.withResolvers<void>();
    const timer = setTimeout(() => {
      this.#expected.clear();
      this.#settling?.resolve();
      this.#settling = undefined;
      for (const n of late) {
        if (!this.#members.has(n.nodeId)) {
          this.#gave(n, "it did not join again after the head restarted");
        }
      }
    }, this.#window());
    this.#expecting.push(timer);
  }

  /** A node from before a head restart is given up: dead, and shown so. */
  #gave(n: { nodeId: NodeId; address: string; resources: Record<string, number> }, why: string) {
    const { nodeId, address, resources } = n;
    // Its owner tag is not known here: readers of its objects hear that no member has it.
    const m: Member = {
      nodeId,
      ownerTag: "",
      address,
      role: "node",
      numWorkers: 0,
      link: NO_LINK,
      alive: true,
    };
    this.#members.set(nodeId, m);
    this.#scheduler.addNode({ nodeId, address, total: resources }, Date.now()); // shown dead
    this.#died(m, why);
  }

  /** `answer()` now, or once the nodes a restarted head expects joined again (or were given up). */
  #settled<T>(answer: () => T | Promise<T>): Promise<T> {
    return this.#settling ? this.#settling.promise.then(answer) : Promise.resolve(answer());
  }

  #window(): number {
    const { periodMs, failureThreshold } = this.#options.healthCheck;
    return periodMs * failureThreshold + REJOIN_SLACK_MS;
  }

  #gone(m: Member, reason: string): void {
    if (m.role === "driver") {
      // Its objects and non-detached actors go; the cluster stays.
      this.#members.delete(m.nodeId);
      m.alive = false; // still known by tag: readers of its objects learn they are lost
      for (const other of this.#members.values()) {
        if (other.alive) other.link.nodeDied(m.nodeId, m.address);
      }
      this.#actors.ownerLeft(m.address);
      return;
    }
    this.#died(m, reason);
  }

  /** True when this head placed or learned actor `actorId`. */
  knowsActor(actorId: ActorId): boolean {
    return this.#actors.knows(actorId);
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

  /** Stops the health checks and ends the members' links. */
  close(): void {
    this.#timer.clear();
    for (const t of this.#expecting) clearTimeout(t);
    this.#settling?.resolve();
    this.#closed = true;
    for (const m of this.#members.values()) {
      if (typeof m.away === "number") clearTimeout(m.away);
      // The members' links end with the head (they dial a head at this address again).
      if (m.alive) m.link.close("the head stopped");
    }
  }

  #join(request: JoinRequest, link: MemberLink): void {
    const old = this.#members.get(request.nodeId);
    if (old && !old.alive) {
      throw new Error(`node ${request.nodeId} was declared dead: it may join as a new node only`);
    }
    if (old && request.rejoin) {
      // Its connection came back (this head never lost it): the new link replaces the old.
      if (typeof old.away === "number") clearTimeout(old.away);
      old.away = undefined;
      old.link = link;
      return;
    }
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
      this.#actors.joined(placed); // only actors to restart wait for a node (tasks fail at once)
    }
    // A restarted head learns the actors from the nodes that host them, and tells them which nodes
    // from before it gave up already (their tasks there must go elsewhere).
    for (const a of request.actors ?? []) this.#actors.restore(a, request.nodeId, request.address);
    if (request.rejoin) {
      const live = new Set(
        [...this.#members.values()].filter((m) => m.alive).map((m) => m.address),
      );
      for (const m of this.#members.values()) {
        // (The previous head's node shares this head's address: placements wait until the nodes
        // rejoined, so nothing of this head's node is at that address yet.)
        const previousHead = m.address === this.#ownAddress;
        if (!m.alive && (previousHead || !live.has(m.address))) link.nodeDied(m.nodeId, m.address);
      }
    }
    if (this.#expected.delete(request.nodeId) && this.#expected.size === 0) {
      this.#settling?.resolve();
      this.#settling = undefined;
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
    const node = from && this.#members.get(from)?.role !== "driver" ? from : undefined;
    return this.#actors.place(node, request);
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
      if (m?.alive) this.#died(m, "it missed its health checks");
    }
  }

  #died(m: Member, reason: string): void {
    this.#scheduler.nodeDied(m.nodeId);
    if (typeof m.away === "number") clearTimeout(m.away);
    m.alive = false;
    this.#options.record?.({ type: "nodeRemoved", nodeId: m.nodeId, ts: Date.now(), reason });
    this.#actors.nodeDied(m.nodeId, m.address); // before the news: callers then find new homes
    for (const other of this.#members.values()) {
      if (other.alive) other.link.nodeDied(m.nodeId, m.address);
    }
    // It may only be cut off: it hears that it is dead (once its link carries it), and stops.
    m.link.nodeDied(m.nodeId, m.address);
    m.link.close(`node ${m.nodeId} was declared dead`);
  }
}
