/**
 * The node's actors: each lives in a worker of its own, which the node's
 * worker pool (runtime/pool) starts for it and reports the death of, or in
 * one shared with others (./actor_hosts.ts). Method calls skip the node:
 * callers write them to the actor's worker through call links
 * (runtime/links/caller_links.ts keeps which exist) and own the results.
 * Here: creation (arguments, resources), the named-actor registry, restarts
 * of actors whose worker died, kills, and death once no handle remains.
 *
 * States (the control store's ActorState): pending -> alive -> restarting
 * -> alive ... -> dead (see ACTOR_TRANSITIONS below and docs/ARCHITECTURE.md, "Actors").
 *
 * @module
 */
import type { ActorId, JobId, NodeId, ObjectId, WorkerId } from "../common/mod.ts";
import {
  actorDead,
  actorNameTaken,
  actorUnknown,
  config,
  infeasibleTask,
  type RayActorError,
} from "../common/mod.ts";
import { errorFrame, fromFrame } from "../core/mod.ts";
import type { ActorState, ActorStateChanged } from "../gcs/mod.ts";
import type { SharedArena } from "../object_store/mod.ts";
import type { ActorCall, ActorCreateSpec, ActorEntry, Frame, FromWorker } from "../protocol/mod.ts";
import type { ActorWorkerMessage, WorkerHandle, WorkerPool } from "../pool/mod.ts";
import { demandOf, type ObjectStatus, type Resources, unmet } from "../scheduler/mod.ts";
import { Doorbell } from "../transport/mod.ts";
import { CallerLinks, type LinkCaller, type LinkTarget, refuseLink } from "../links/mod.ts";
import { ActorHosts } from "./actor_hosts.ts";
import type { WaitHandle } from "./object_table.ts";

/** What the actor manager needs from its node. */
export interface ActorHost {
  /** The node's worker pool: a worker per actor, ended for good when the actor dies. */
  readonly workers: Pick<WorkerPool, "spawnActorWorker" | "retire">;
  /** The store, to read error frames. */
  readonly arena: SharedArena;
  /** Namespace of names given without one. */
  readonly namespace: string;
  /** Resources the node offers. */
  readonly total: Readonly<Resources>;
  /** The node's object table. */
  readonly table: {
    status(id: ObjectId): ObjectStatus;
    frame(id: ObjectId): Frame | undefined;
    wait(ids: readonly ObjectId[], need: number, timeoutMs: undefined, fetch: false): WaitHandle;
  };
  /** Takes resources for a live actor; false when they do not fit now. */
  hold(demand: Resources): boolean;
  /** Gives them back. */
  release(demand: Resources): void;
  /** The constructor's arguments hold these objects... */
  holdArgs(ids: readonly ObjectId[]): void;
  /** ...until this. */
  releaseArgs(ids: readonly ObjectId[]): void;
  /** An actor changed state (for the control store). */
  changed(status: ActorStatus): void;
  /** The cluster, for actors that live on other nodes (absent when embedded). */
  cluster(): ActorsElsewhere | undefined;
}

/**
 * The actors of a cluster, as a node's workers reach them: created where
 * the head places them (maybe this node), looked up and killed there.
 */
export interface ActorsElsewhere {
  /**
   * True when `actorId` lives on another node (its callers then call through their node), false
   * when the head placed it on this one, undefined when the cluster does not know it.
   */
  actorElsewhere(actorId: ActorId): Promise<boolean | undefined>;
  /** Sends a worker's call to an actor on another node; its results come to this node. */
  callViaNode(call: ActorCall): void;
  /** Creates a worker's actor on the node the head picks (never waits, never throws). */
  createFromWorker(spec: ActorCreateSpec): void;
  /** The live actor named `name`, anywhere in the cluster. */
  lookup(name: string, namespace?: string): Promise<ActorEntry | undefined>;
  /** Ends an actor of another node. */
  kill(actorId: ActorId, noRestart: boolean): Promise<void>;
  /** An actor of this node ended: the cluster forgets it (its name and resources are free). */
  ended(actorId: ActorId): void;
}

/** The legal transitions: from each state, the states it may go to. */
export const ACTOR_TRANSITIONS: Readonly<Record<ActorState, readonly ActorState[]>> = {
  pending: ["alive", "restarting", "dead"],
  alive: ["restarting", "dead"],
  restarting: ["alive", "restarting", "dead"],
  dead: [],
};

/** Checks that an actor (`label`) may go from `from` to `to`; throws an Error naming both if not. */
export function checkTransition(label: string, from: ActorState, to: ActorState): void {
  if (!ACTOR_TRANSITIONS[from].includes(to)) {
    throw new Error(`Actor ${label}: illegal transition ${from} -> ${to}`);
  }
}

/** The manager's own record of an actor (its control-store record is `ActorRecord`). */
interface ManagedActor {
  readonly spec: ActorCreateSpec;
  readonly label: string;
  readonly nameKey?: string;
  readonly demand: Resources;
  state: ActorState;
  worker?: WorkerHandle;
  /** The current worker's doorbell, which callers ring (a new one per worker). */
  bell?: Doorbell;
  depFrames?: Frame[];
  restarts: number;
  held: boolean;
  death?: RayActorError;
  /** No handle remains: die once idle. */
  retiring: boolean;
  /** Callers' links, opened in the worker while it is alive. */
  readonly links: CallerLinks;
  /** Retiring: the worker was asked to say when its links are empty ("actorRetire")... */
  retireAsked: boolean;
  /** ...and said so. */
  linksIdle: boolean;
}

/** An actor as `rayd list actors` would show it. */
export interface ActorStatus {
  actorId: ActorId;
  className: string;
  state: ActorState;
  name?: string;
  namespace?: string;
  restarts: number;
  workerId?: WorkerId;
  error?: string;
  /** The creating driver's job, when not the node's (ActorCreateSpec.jobId). */
  jobId?: JobId;
}

const NO_FRAMES: readonly Frame[] = Object.freeze([]);
/** How long a call to an actor the head placed here waits for its creation to arrive. */
const CREATION_WAIT_MS = 10_000;

/** The node's actors. */
export class ActorManager {
  readonly #host: ActorHost;
  readonly #actors = new Map<ActorId, ManagedActor>();
  /** Handles made by `getIfExists` on another thread point at an actor created earlier. */
  readonly #aliases = new Map<ActorId, ActorId>();
  readonly #names = new Map<string, ActorId>();
  /** Links to actors the head placed here whose creation has not arrived yet. */
  readonly #expected = new Map<ActorId, (() => void)[]>();
  #waitingResources: ManagedActor[] = [];
  #stopped = false;
  readonly #hosts: ActorHosts;

  /** @param host the node's parts the actors use */
  constructor(host: ActorHost) {
    this.#host = host;
    const cpus = Math.ceil(host.total.CPU ?? 1);
    this.#hosts = new ActorHosts(host.workers, config("sharedActorsPerWorker"), cpus);
  }

  /**
   * Creates an actor for the driver (never waits for its constructor): a
   * taken name throws; with `getIfExists` the existing actor's entry is
   * returned.
   */
  create(spec: ActorCreateSpec): ActorEntry | undefined {
    return this.#create(spec, true);
  }

  /** Ends the actor; with `noRestart` false it restarts if its budget allows. */
  kill(actorId: ActorId, noRestart: boolean): Promise<void> {
    const rec = this.#find(actorId);
    if (!rec || rec.state === "dead") return Promise.resolve();
    const why = "it was killed with ray.kill (noRestart: false)";
    if (!noRestart && rec.worker && rec.spec.settings.shareWorker) {
      this.#hosts.leave(actorId, rec.worker, why); // its worker goes on with the others
      this.#onDeath(rec, rec.worker, why);
    } else if (!noRestart && rec.worker) {
      rec.worker.fail(why);
    } else {
      this.#die(rec, actorDead(rec.label, "it was killed with ray.kill"));
    }
    return Promise.resolve();
  }

  /** The live actor named `name` in `namespace` (default: the job's). */
  lookup(name: string, namespace?: string): Promise<ActorEntry | undefined> {
    const id = this.#names.get(`${namespace ?? this.#host.namespace}/${name}`);
    const rec = id && this.#actors.get(id);
    return Promise.resolve(rec ? entryOf(rec.spec) : undefined);
  }

  /** Handles an actor message from a worker of the pool or another actor. */
  fromWorker(
    worker: WorkerHandle,
    msg: Extract<
      FromWorker,
      { type: "actorCreate" | "actorLink" | "actorKill" | "actorLookup" | "actorCallViaNode" }
    >,
  ): void {
    switch (msg.type) {
      case "actorCallViaNode": {
        const cluster = this.#host.cluster();
        if (!cluster) {
          throw new TypeError("a call through the node, and this node is in no cluster");
        }
        cluster.callViaNode(msg.call);
        break;
      }
      case "actorCreate": {
        // In a cluster the head places it, as a driver's (on this node, it comes back here).
        const cluster = this.#host.cluster();
        if (cluster) cluster.createFromWorker(msg.spec);
        else this.#create(msg.spec, false);
        break;
      }
      case "actorLink":
        this.link(worker, msg);
        break;
      case "actorKill":
        (this.#find(msg.actorId) ? this : this.#host.cluster() ?? this)
          .kill(msg.actorId, msg.noRestart).then(() =>
            worker.send({ type: "actorAnswer", reqId: msg.reqId })
          );
        break;
      case "actorLookup":
        (this.#host.cluster() ?? this).lookup(msg.name, msg.namespace).then((entry) =>
          worker.send({ type: "actorAnswer", reqId: msg.reqId, entry })
        );
        break;
    }
  }

  /**
   * Every handle to the actor is gone (the hook for reference counting): a
   * detached actor stays; any other finishes its queued calls, then dies.
   */
  handlesReleased(actorId: ActorId): void {
    const rec = this.#find(actorId);
    if (!rec || rec.spec.settings.detached || rec.state === "dead") return;
    rec.retiring = true;
    this.#dieIfRetired(rec);
  }

  /** Starts actors that waited for resources, if they fit now (call after resources are freed). */
  retryWaiting(): void {
    if (this.#waitingResources.length === 0) return;
    const waiting = this.#waitingResources;
    this.#waitingResources = [];
    for (const rec of waiting) this.#place(rec);
  }

  /** Actors whose worker starts or runs their constructor (creation or restart under way). */
  get starting(): number {
    let n = 0;
    for (const rec of this.#actors.values()) {
      if (rec.worker && (rec.state === "pending" || rec.state === "restarting")) n++;
    }
    return n;
  }

  /** The actors, for status queries and tests. */
  list(): ActorStatus[] {
    return [...this.#actors.values()].map(statusOf);
  }

  /** Every actor is DEAD (node shutdown: the pool ends their workers). */
  shutdown(): void {
    this.#stopped = true;
    this.#hosts.clear();
    for (const rec of this.#actors.values()) {
      rec.worker = undefined;
      rec.state = "dead";
    }
  }

  #create(spec: ActorCreateSpec, inDriver: boolean): ActorEntry | undefined {
    const { name } = spec.settings;
    const namespace = spec.settings.namespace ?? this.#host.namespace;
    const nameKey = name === undefined ? undefined : `${namespace}/${name}`;
    const label = `${spec.cls.name}(${spec.actorId})`;
    const rec: ManagedActor = {
      spec,
      label,
      nameKey,
      demand: demandOf(spec.settings.numCpus, spec.settings.resources),
      state: spec.restarts ? "restarting" : "pending", // restarted here after its node died
      restarts: spec.restarts ?? 0,
      held: false,
      retiring: false,
      links: new CallerLinks(spec.actorId),
      retireAsked: false,
      linksIdle: false,
    };
    const taken = nameKey === undefined ? undefined : this.#names.get(nameKey);
    if (taken !== undefined) {
      if (spec.settings.getIfExists) {
        this.#aliases.set(spec.actorId, taken);
        return entryOf(this.#actors.get(taken)!.spec);
      }
      const err = actorNameTaken(name!, namespace);
      if (inDriver) throw err;
      rec.state = "dead";
      rec.death = actorDead(label, `it was not created: ${err.message}`, err);
      this.#actors.set(spec.actorId, rec);
      return undefined;
    }
    this.#actors.set(spec.actorId, rec);
    if (nameKey !== undefined) this.#names.set(nameKey, spec.actorId);
    this.#host.changed(statusOf(rec)); // pending (or restarting): listed, and its calls named
    this.#created(spec.actorId);
    this.#host.holdArgs(spec.argRefs);
    this.#awaitArgs(rec);
    return undefined;
  }

  /** pending: waits for the constructor's ref arguments, then for resources. */
  #awaitArgs(rec: ManagedActor): void {
    const { table } = this.#host;
    const missing = rec.spec.deps.filter((d) => table.status(d) === "missing");
    if (missing.length > 0) {
      table.wait(missing, missing.length, undefined, false).promise.then(
        () => this.#awaitArgs(rec),
        () => {},
      );
      return;
    }
    if (rec.state === "dead") return;
    const failed = rec.spec.deps.find((d) => table.status(d) === "error");
    if (failed !== undefined) {
      return this.#die(rec, this.#dead(rec, "a constructor argument is an error", failed));
    }
    rec.depFrames = rec.spec.deps.map((d) => table.frame(d)!);
    const resource = unmet(rec.demand, this.#host.total);
    if (resource !== undefined) {
      const want = rec.demand[resource];
      const have = this.#host.total[resource] ?? 0;
      const cause = infeasibleTask(`actor ${rec.label}`, resource, want, have);
      return this.#die(rec, actorDead(rec.label, cause.message, cause));
    }
    this.#place(rec);
  }

  #place(rec: ManagedActor): void {
    if (rec.state === "dead") return;
    if (!this.#host.hold(rec.demand)) {
      this.#waitingResources.push(rec);
      return;
    }
    rec.held = true;
    this.#startWorker(rec);
  }

  #startWorker(rec: ManagedActor): void {
    const owner = {
      message: (w: WorkerHandle, msg: ActorWorkerMessage) => this.#onMessage(rec, w, msg),
      lost: (w: WorkerHandle) => {
        if (w === rec.worker) rec.worker = undefined;
      },
      died: (w: WorkerHandle, { cause }: { cause: string }) => this.#onDeath(rec, w, cause),
    };
    const worker = rec.spec.settings.shareWorker
      ? this.#hosts.take(rec.spec.actorId, owner)
      : this.#host.workers.spawnActorWorker(owner);
    [rec.worker, rec.bell, rec.retireAsked, rec.linksIdle] = [worker, new Doorbell(), false, false];
    worker.send({
      type: "actorStart",
      spec: rec.spec,
      depFrames: rec.depFrames ?? NO_FRAMES,
      bell: rec.bell.sab,
    });
  }

  /** A message of the actor's own from its worker (the pool routes the others). */
  #onMessage(rec: ManagedActor, worker: WorkerHandle, msg: ActorWorkerMessage): void {
    if (worker !== rec.worker || this.#stopped) return;
    switch (msg.type) {
      case "actorCreated":
        if (msg.error === undefined) {
          this.#setState(rec, "alive");
          const target = this.#linkTarget(rec);
          if (target) rec.links.openAll(target);
        } else {
          this.#die(rec, this.#constructorFailed(rec, msg.error));
        }
        break;
      case "actorIdle":
        rec.linksIdle = true;
        this.#dieIfRetired(rec);
        break;
      case "actorLinkBroken": {
        const { maxTaskRetries } = rec.spec.settings;
        const why = `the actor dropped ${msg.linkId}: ${msg.why}`;
        rec.links.unlinkOne(String(msg.linkId), { label: rec.label, why, maxTaskRetries });
        break;
      }
    }
  }

  /** The actor's worker died (the pool made it forget the worker, and the node let go of it). */
  #onDeath(rec: ManagedActor, worker: WorkerHandle, detail: string): void {
    if (rec.state === "dead" || this.#stopped) return;
    const why = `its worker ${worker.id} died: ${detail}`;
    const { maxRestarts } = rec.spec.settings;
    if (maxRestarts !== -1 && rec.restarts >= maxRestarts) {
      const budget = maxRestarts > 0 ? ` (after ${rec.restarts} restart(s))` : "";
      return this.#die(rec, actorDead(rec.label, why + budget));
    }
    rec.restarts++;
    this.#setState(rec, "restarting");
    this.#unlinkAll(rec, why);
    this.#startWorker(rec);
  }

  #setState(rec: ManagedActor, next: ActorState): void {
    checkTransition(rec.label, rec.state, next);
    rec.state = next;
    this.#host.changed(statusOf(rec));
  }

  /** dead: ends the worker, frees the name and resources, fails every call not finished. */
  #die(rec: ManagedActor, error: RayActorError): void {
    if (rec.state === "dead") return;
    this.#setState(rec, "dead");
    rec.death = error;
    const worker = rec.worker;
    rec.worker = undefined;
    if (worker && rec.spec.settings.shareWorker) {
      this.#hosts.leave(rec.spec.actorId, worker, "dead");
    } else if (worker) this.#host.workers.retire(worker, error.message);
    this.#unlinkAll(rec, error.message, errorFrame(error));
    if (rec.held) {
      rec.held = false;
      this.#host.release(rec.demand);
    }
    if (rec.nameKey !== undefined && this.#names.get(rec.nameKey) === rec.spec.actorId) {
      this.#names.delete(rec.nameKey);
    }
    this.#host.releaseArgs(rec.spec.argRefs);
    if (!this.#stopped) this.#host.cluster()?.ended(rec.spec.actorId); // its name is free again
  }

  #dieIfRetired(rec: ManagedActor): void {
    if (!rec.retiring || rec.state !== "alive") return;
    if (rec.links.size > 0 && !rec.linksIdle) {
      // Calls may still wait in callers' links: the worker says when they are done.
      if (!rec.retireAsked) rec.worker?.send({ type: "actorRetire", actorId: rec.spec.actorId });
      rec.retireAsked = true;
      return;
    }
    this.#die(rec, actorDead(rec.label, "no handle to it remains"));
  }

  /**
   * A caller's link: opened in the actor's worker while it is alive (now or
   * once it is); a caller of an actor that is dead or unknown hears so.
   */
  link(caller: LinkCaller, msg: Extract<FromWorker, { type: "actorLink" }>): void {
    const rec = this.#find(msg.actorId);
    const cluster = rec ? undefined : this.#host.cluster();
    if (cluster) {
      // Unknown here: the callers of an actor on another node call through the node.
      cluster.actorElsewhere(msg.actorId).then((where) => {
        const label = String(msg.actorId);
        if (where) {
          return refuseLink(caller, msg, { label, why: "", maxTaskRetries: 0, remote: true });
        }
        if (where === false && !this.#find(msg.actorId)) {
          // Placed here (a restart, say) and its creation is still on its way.
          return this.#whenCreated(msg.actorId, () => this.#linkHere(caller, msg));
        }
        this.#linkHere(caller, msg); // placed here meanwhile, or unknown
      });
      return;
    }
    this.#linkHere(caller, msg);
  }

  /** Runs `then` once actor `actorId` is created here, or after CREATION_WAIT_MS. */
  #whenCreated(actorId: ActorId, then: () => void): void {
    const waiting = this.#expected.get(actorId);
    if (waiting) return void waiting.push(then);
    this.#expected.set(actorId, [then]);
    Deno.unrefTimer(setTimeout(() => this.#created(actorId), CREATION_WAIT_MS));
  }

  #created(actorId: ActorId): void {
    const waiting = this.#expected.get(actorId);
    if (!waiting) return;
    this.#expected.delete(actorId);
    for (const then of waiting) then();
  }

  #linkHere(caller: LinkCaller, msg: Extract<FromWorker, { type: "actorLink" }>): void {
    const rec = this.#find(msg.actorId);
    if (!rec || rec.state === "dead") {
      const death = rec?.death ?? actorUnknown(msg.actorId);
      const label = rec?.label ?? String(msg.actorId);
      return refuseLink(caller, msg, {
        label,
        why: death.message,
        maxTaskRetries: 0,
        death: errorFrame(death),
      });
    }
    rec.links.add(caller, msg, this.#linkTarget(rec));
    rec.linksIdle = false;
    rec.retireAsked = false;
  }

  /** Where links to `rec` open, while it is alive. */
  #linkTarget(rec: ManagedActor): LinkTarget | undefined {
    if (rec.state !== "alive" || !rec.worker || !rec.bell) return undefined;
    const { maxTaskRetries } = rec.spec.settings;
    return { worker: rec.worker, bell: rec.bell.sab, maxTaskRetries, label: rec.label };
  }

  /** The actor's worker is gone: every caller hears (with `death` when the actor is dead for good). */
  #unlinkAll(rec: ManagedActor, why: string, death?: Uint8Array): void {
    const { maxTaskRetries } = rec.spec.settings;
    rec.links.unlinkAll({ label: rec.label, why, maxTaskRetries, death });
  }

  /** A worker is gone: the actors drop its links. */
  callerGone(workerId: WorkerId): void {
    for (const rec of this.#actors.values()) {
      const alive = rec.state === "alive" ? rec.worker : undefined;
      if (rec.links.size > 0 && rec.links.callerGone(workerId, alive)) this.#dieIfRetired(rec);
    }
  }

  /** The worker running `actorId` now, if any. */
  workerOf(actorId: ActorId): WorkerHandle | undefined {
    const worker = this.#find(actorId)?.worker;
    return worker?.alive ? worker : undefined;
  }

  #find(actorId: ActorId): ManagedActor | undefined {
    return this.#actors.get(actorId) ?? this.#actors.get(this.#aliases.get(actorId)!);
  }

  #dead(rec: ManagedActor, what: string, errorObject: ObjectId): RayActorError {
    try {
      fromFrame(this.#host.table.frame(errorObject)!, this.#host.arena);
      return actorDead(rec.label, what);
    } catch (cause) {
      return actorDead(rec.label, what, cause);
    }
  }

  #constructorFailed(rec: ManagedActor, error: Frame): RayActorError {
    try {
      fromFrame(error, this.#host.arena);
      return actorDead(rec.label, "its constructor failed");
    } catch (cause) {
      const summary = cause instanceof Error ? `${cause.name}: ${cause.message}` : String(cause);
      return actorDead(rec.label, `its constructor threw ${summary}`, cause);
    }
  }
}

/** The control-store event that records an actor's status. */
export function actorStateEvent(a: ActorStatus, jobId: JobId, nodeId: NodeId): ActorStateChanged {
  return {
    type: "actorState",
    actorId: a.actorId,
    state: a.state,
    ts: Date.now(),
    className: a.className,
    name: a.name,
    namespace: a.namespace,
    jobId,
    nodeId,
    workerId: a.workerId,
    restarts: a.restarts,
    error: a.error,
  };
}

function entryOf(spec: ActorCreateSpec): ActorEntry {
  return { actorId: spec.actorId, cls: spec.cls, methods: spec.methods };
}

function statusOf(rec: ManagedActor): ActorStatus {
  return {
    actorId: rec.spec.actorId,
    className: rec.spec.cls.name,
    state: rec.state,
    name: rec.spec.settings.name,
    namespace: rec.nameKey?.slice(0, rec.nameKey.lastIndexOf("/")),
    restarts: rec.restarts,
    workerId: rec.worker?.id,
    error: rec.death?.message,
    ...(rec.spec.jobId === undefined ? {} : { jobId: rec.spec.jobId }),
  };
}
