/**
 * The head's table of the cluster's actors: where each lives, its name,
 * its owner and, for an actor that may restart, its creation spec. When a
 * node dies, each actor that lived there with restarts left is placed
 * again (its demand and its scheduling strategy) and its creation sent to
 * the new node; the others are dead, with a reason their callers hear.
 *
 * The head keeps the creation spec, not the actor's owner: a detached actor
 * outlives the driver that made it, so only the head can still restart it
 * (Ray's GCS keeps an actor's creation spec for the same reason).
 *
 * @module
 */
import { type ActorId, actorNameTaken, type NodeId, RecentMap } from "../common/mod.ts";
import type { ActorStateChanged } from "../gcs/mod.ts";
import type { ActorCreateSpec, SchedulingStrategy } from "../protocol/mod.ts";
import type { Decision, GlobalScheduler, Resources } from "../scheduler/mod.ts";
import type { FoundActor, FoundById, PlaceActorRequest } from "./messages.ts";

/** How many actors refused a name or dead for good the head remembers (for their callers). */
const GONE_KEPT = 10_000;
/**
 * How long an actor to restart waits for a node that can host it (a replacement joining); callers
 * asking where it is wait as long, so this stays under a head request's 30 s timeout.
 */
const RESTART_WAIT_MS = 20_000;

/** What the actor table needs of the head. */
export interface HeadActorsHost {
  readonly scheduler: GlobalScheduler;
  /** True while node `nodeId` is alive. */
  alive(nodeId: NodeId): boolean;
  /** True while the member at `address` (a node or a driver) is in the cluster. */
  memberAlive(address: string): boolean;
  /**
   * Sends the creation of a restarted actor to the node at `address`;
   * `owner` is its creator's address, undefined when the creator left.
   */
  recreate(address: string, spec: ActorCreateSpec, owner: string | undefined): void;
  /** Records an actor's state in the control store. */
  record(event: ActorStateChanged): void;
}

/** An actor the head placed. */
interface HeadActor {
  readonly entry: FoundActor["entry"];
  nodeId: NodeId;
  address: string;
  /** The creator's address. */
  readonly owner: string;
  readonly detached: boolean;
  readonly demand: Resources;
  readonly strategy?: SchedulingStrategy;
  readonly maxTaskRetries: number;
  /** `namespace/name`, when named. */
  readonly key?: string;
  /** Its creation as first sent (only for an actor that may restart). */
  readonly spec?: ActorCreateSpec;
  /** Restarts on other nodes so far. */
  restarts: number;
  /** Set while it waits for a node that can host its restart: settles once it has one or is dead. */
  waiting?: PromiseWithResolvers<void>;
}

/** The head's actors. */
export class HeadActors {
  readonly #host: HeadActorsHost;
  readonly #actors = new Map<ActorId, HeadActor>();
  readonly #names = new Map<string, ActorId>();
  /** Actors refused a name or dead for good, and why (the latest GONE_KEPT): `Actor A is dead: <why>`. */
  readonly #gone = new RecentMap<ActorId, string>(GONE_KEPT);

  constructor(host: HeadActorsHost) {
    this.#host = host;
  }

  /** Places a new actor (`from`: the node that asks, if not a driver); its name is taken at once. */
  place(from: NodeId | undefined, request: PlaceActorRequest): Decision {
    const { entry } = request;
    const namespace = request.namespace ?? "default";
    const key = request.name ? `${namespace}/${request.name}` : undefined;
    if (key && this.lookup(key)) {
      const reason = actorNameTaken(request.name!, namespace).message;
      this.#forget(entry.actorId, reason);
      return { type: "infeasible", id: entry.actorId, reason };
    }
    const d = this.#host.scheduler.placeActor({
      id: entry.actorId,
      demand: request.demand,
      strategy: request.strategy,
      from,
    });
    if (d.type !== "place") return d;
    this.restore(request, d.nodeId, d.address);
    return d;
  }

  /**
   * Records an actor living on `nodeId`: one just placed, or one placed
   * before this head started (a head restart) whose node joined again (its
   * restarts then count from zero again).
   */
  restore(request: PlaceActorRequest, nodeId: NodeId, address: string): void {
    const { entry } = request;
    const key = request.name ? `${request.namespace ?? "default"}/${request.name}` : undefined;
    this.#actors.set(entry.actorId, {
      entry,
      nodeId,
      address,
      owner: request.owner,
      detached: request.detached,
      demand: request.demand,
      strategy: request.strategy,
      maxTaskRetries: request.maxTaskRetries ?? 0,
      key,
      spec: request.spec,
      restarts: 0,
    });
    if (key) this.#names.set(key, entry.actorId);
  }

  /** The live actor named `key` (`namespace/name`); one waiting for a node to restart on, once it has one. */
  lookup(key: string): FoundActor | undefined | Promise<FoundActor | undefined> {
    const id = this.#names.get(key);
    const waiting = id === undefined ? undefined : this.#actors.get(id)?.waiting;
    if (waiting) return waiting.promise.then(() => this.lookup(key));
    return this.#live(id);
  }

  /** A live actor by id, or why it is gone; one waiting for a node to restart on, once it has one. */
  find(actorId: ActorId): FoundById | Promise<FoundById> {
    const waiting = this.#actors.get(actorId)?.waiting;
    if (waiting) return waiting.promise.then(() => this.find(actorId));
    const gone = this.#gone.get(actorId);
    return gone ? { refused: gone } : this.#live(actorId);
  }

  /** True when the head placed or learned `actorId` (alive, restarting, or ended here). */
  knows(actorId: ActorId): boolean {
    return this.#actors.has(actorId) || this.#gone.has(actorId);
  }

  /** An actor ended (killed, or dead on its node): its name and resources are free. */
  ended(actorId: ActorId, why?: string): void {
    const a = this.#actors.get(actorId);
    if (!a) return;
    this.#actors.delete(actorId);
    if (a.key !== undefined && this.#names.get(a.key) === actorId) this.#names.delete(a.key);
    this.#host.scheduler.actorGone(actorId);
    if (a.waiting) this.#host.scheduler.cancelWaiting(actorId);
    if (why !== undefined) this.#forget(actorId, why);
    this.#settle(a);
  }

  /** A driver left: its non-detached actors end (their nodes end them too). */
  ownerLeft(address: string): void {
    for (const [id, a] of this.#actors) {
      if (!a.detached && a.owner === address) this.ended(id, "its owner left the cluster");
    }
  }

  /**
   * Node `nodeId` died (the scheduler already let go of its actors' demand):
   * each actor that lived there restarts elsewhere while it has restarts
   * left, else it is dead. Call before telling the members, so that a
   * caller asking where an actor went hears its new home.
   */
  nodeDied(nodeId: NodeId, address: string): void {
    for (const [id, a] of [...this.#actors]) {
      if (a.nodeId !== nodeId) continue;
      const why = `its node ${nodeId} (${address}) died`;
      if (!a.detached && a.owner === address) {
        this.#dead(id, a, `${why} with its owner`);
        continue;
      }
      const max = a.spec?.settings.maxRestarts ?? 0;
      if (!a.spec || (max !== -1 && a.restarts >= max)) {
        this.#dead(id, a, max > 0 ? `${why} (after ${a.restarts} restart(s))` : why);
        continue;
      }
      this.#restart(id, a, a.spec, why);
    }
  }

  #restart(id: ActorId, a: HeadActor, spec: ActorCreateSpec, why: string): void {
    const d = this.#host.scheduler.placeActor({
      id,
      demand: a.demand,
      strategy: a.strategy,
      ifInfeasible: "wait", // a node that can host it may join (a replacement)
    });
    if (d.type === "waiting") {
      a.waiting = Promise.withResolvers();
      const timer = setTimeout(() => {
        if (!a.waiting || this.#actors.get(id) !== a) return;
        this.#host.scheduler.cancelWaiting(id);
        this.#dead(id, a, `${why} and no node could host its restart: ${d.reason}`);
      }, RESTART_WAIT_MS);
      Deno.unrefTimer(timer);
      a.waiting.promise.then(() => clearTimeout(timer));
      return;
    }
    this.#placed(id, a, spec, d, why);
  }

  /** Node joins placed parked requests: the actors among them restart there. */
  joined(decisions: readonly Decision[]): void {
    for (const d of decisions) {
      const a = this.#actors.get(d.id as ActorId);
      if (a?.waiting && a.spec) this.#placed(d.id as ActorId, a, a.spec, d, "its node died");
    }
  }

  #placed(id: ActorId, a: HeadActor, spec: ActorCreateSpec, d: Decision, why: string): void {
    if (d.type !== "place") {
      return this.#dead(id, a, `${why} and it cannot be restarted: ${d.reason}`);
    }
    a.restarts++;
    a.nodeId = d.nodeId;
    a.address = d.address;
    this.#record(a, "restarting", d.nodeId);
    const owner = this.#host.memberAlive(a.owner) ? a.owner : undefined;
    this.#host.recreate(d.address, { ...spec, restarts: a.restarts }, owner);
    this.#settle(a);
  }

  #dead(id: ActorId, a: HeadActor, why: string): void {
    this.ended(id, why);
    this.#record(a, "dead", a.nodeId, why);
    this.#settle(a);
  }

  /** Callers waiting for where `a` restarts ask again. */
  #settle(a: HeadActor): void {
    const waiting = a.waiting;
    a.waiting = undefined;
    waiting?.resolve();
  }

  #record(a: HeadActor, state: "restarting" | "dead", nodeId: NodeId, error?: string): void {
    const namespace = a.key?.slice(0, a.key.lastIndexOf("/"));
    this.#host.record({
      type: "actorState",
      actorId: a.entry.actorId,
      state,
      ts: Date.now(),
      className: a.entry.cls.name,
      name: a.spec?.settings.name,
      namespace,
      jobId: a.spec?.jobId,
      nodeId,
      restarts: a.restarts,
      error,
    });
  }

  #forget(actorId: ActorId, why: string): void {
    this.#gone.set(actorId, why);
  }

  /** The actor `id`, if its node is alive. */
  #live(id: ActorId | undefined): FoundActor | undefined {
    const a = id === undefined ? undefined : this.#actors.get(id);
    if (!a || !this.#host.alive(a.nodeId)) return undefined;
    return {
      entry: a.entry,
      nodeId: a.nodeId,
      address: a.address,
      maxTaskRetries: a.maxTaskRetries,
    };
  }
}
