/**
 * A process's agent in the cluster: the `ClusterPort` of its node. It sends
 * tasks the node does not run to the node the head picks, pulls objects
 * the node waits for from the process holding them, serves its own objects
 * to peers, and holds the results of tasks it runs for other owners until
 * they let go.
 *
 * @module
 */
import {
  type ActorId,
  isPutId,
  type JobId,
  type NodeId,
  type ObjectId,
  objectLost,
  RayError,
  taskCancelled,
  type TaskId,
  taskIdOf,
  workerDied,
} from "../common/mod.ts";
import { type ActorBackend, errorFrame } from "../core/mod.ts";
import {
  type ActorMessage,
  hostActor,
  type LostCall,
  RemoteActors,
  type RemoteActorsHost,
} from "./remote_actors.ts";
import type { ActorsElsewhere, ClusterPort, ClusterSide } from "../node/mod.ts";
import {
  type ActorCall,
  type ActorCreateSpec,
  type CancelMode,
  type Frame,
  taskName,
  type TaskSpec,
} from "../protocol/mod.ts";
import { demandOf } from "../scheduler/mod.ts";
import type { Frame as WireFrame, Reply } from "../transport/mod.ts";
import type { HeadApi } from "./head.ts";
import type { CodeShipping } from "./code_shipping.ts";
import {
  type CancelMessage,
  type FetchRequest,
  type LocateRequest,
  MSG,
  type PlaceRequest,
  type PublishMessage,
  type Return,
} from "./messages.ts";
import { packRun, type RunMessage, unpackRun } from "./run_wire.ts";
import { holderOf, type Peers } from "./peers.ts";
import { flushEverywhere } from "./record_flush.ts";
import { serveFetch } from "./fetch.ts";
import { Puller, pullHost } from "./pulls.ts";
import { PullPriority } from "./admission.ts";
import { LoadReports } from "./load_reports.ts";
import { WaitsAnywhere } from "./waits_anywhere.ts";
import { Owners } from "./owners.ts";
import { HostedActors } from "./hosted_actors.ts";
import { Lineage } from "./lineage.ts";
import { HandOff, type LeavingMessage } from "./handoff.ts";

/** How long a retried task waits for a node that can run it. */
const RETRY_PLACE_MS = 60_000;
/** Tasks per placement request (a burst of submissions goes to the head in pieces). */
const PLACE_BATCH = 1024;

/** A task this process forwarded, and where it went. */
interface Forwarded {
  spec: TaskSpec;
  nodeId: NodeId;
  address: string;
  /** Set for an actor call: the actor, and the call as sent (sent again if its node dies). */
  actor?: ActorId;
  call?: ActorCall;
}

/** A task placed here by another owner. */
interface PlacedHere {
  readonly owner: string;
  readonly numReturns: number;
  readonly returns: Return[];
}

/** What an agent is. */
export interface AgentOptions {
  readonly role: "head" | "node" | "driver";
  /** Where peers reach this process. */
  readonly address: string;
  readonly head: HeadApi;
  /** This process's owner tag (from the head's `hello`): it owns the ids that start with it. */
  readonly ownerTag: string;
  readonly peers: Peers;
  /** Closes what the process opened besides the peer links (its port, the head's link). */
  readonly closeAlso?: () => void;
  /** Ships the code of `file:` modules to peers and takes theirs (code_shipping.ts). */
  readonly code: CodeShipping;
}

/** The agent of one process. */
export class Agent implements ClusterPort {
  readonly address: string;
  readonly #options: AgentOptions;
  #side!: ClusterSide;
  /** Tasks forwarded and not finished, by id. */
  readonly #forwarded = new Map<TaskId, Forwarded>();
  /** Forwarded tasks waiting for their placement. */
  #toPlace: TaskSpec[] = [];
  /** Tasks the head placed back here (not offered again). */
  readonly #keep = new Set<TaskId>();
  /** Tasks run here for other owners. */
  readonly #placedHere = new Map<TaskId, PlacedHere>();
  /** Results of forwarded tasks, at the address that made them. */
  readonly #remote = new Map<ObjectId, string>();
  /** The objects this process owns: where their copies are; and the way to other owners. */
  readonly owners: Owners;
  readonly #pulls: Puller;
  /** Retried tasks no node could take yet, since when. */
  readonly #unplacedSince = new Map<TaskId, number>();
  /** Finished forwarded tasks whose results live on their nodes: run again if those die. */
  readonly #lineage = new Lineage((taskId) => this.#side.forwardedDone(taskId));
  /** Results of forwarded tasks someone here waits for. */
  readonly #wanted = new Set<ObjectId>();
  /** Results of forwarded tasks that other forwarded tasks take: published when they come. */
  readonly #promised = new Set<ObjectId>();
  /** Finished returns to tell their owners this turn. */
  readonly #finishedFor = new Map<string, Return[]>();
  /** Heartbeats, prompt reports after tasks end, and draining (load_reports.ts). */
  readonly reports = new LoadReports(() => this.#side, (r) => this.#options.head.report(r));
  #closed = false;
  /** `wait` with fetchLocal false: objects anywhere (waits_anywhere.ts). */
  readonly #anywhere = new WaitsAnywhere({
    exists: (id) =>
      !this.#side.isMissing(id) || this.#remote.has(id) ||
      (this.#forwarded.has(taskIdOf(id)) || this.#side.isLocal(id) ? false : undefined),
    locate: (id) => this.owners.locate(id),
  });
  /** Non-detached actors hosted here, by their owner's address. */
  readonly #hosted = new Map<string, Set<ActorId>>();
  /** Every actor created here for another process, as placed (a restarted head learns them). */
  readonly hostedActors = new HostedActors((url) => this.#options.code.originOf(url));
  /** The node's own actors (hosting the actors of remote drivers). */
  #local: ActorBackend | undefined;
  /** Actors on other nodes: all of a driver's, and those a worker here calls. */
  readonly #remoteActors: RemoteActors;

  constructor(options: AgentOptions) {
    this.#options = options;
    this.address = options.address;
    const need = (id: ObjectId) => this.need(id, PullPriority.args);
    this.handOff = new HandOff({ ...options, remote: this.#remote, side: () => this.#side, need });
    this.#remoteActors = new RemoteActors(this.#actorsHost());
    const { peers, head, ownerTag: tag } = options;
    const sizeOf = this.#sizeHere;
    this.owners = new Owners({ address: this.address, tag, peers, head, sizeOf });
    this.#pulls = new Puller(pullHost(this, peers, this.owners, () => this.#side, {
      known: (id) => this.#remote.get(id),
      notAt: (id, at) => this.#remote.get(id) === at && this.#remote.delete(id),
      heldAt: (at, ids) => this.#heldAt(at, ids),
      pulled: (id) => {
        this.#publish(id);
        this.handOff.pulled(id);
      },
      closed: () => this.#closed,
    }));
  }

  /** The port to give the node (see ClusterPortFactory). */
  bind(side: ClusterSide): ClusterPort {
    this.#side = side;
    return this;
  }

  actorsOf(local: ActorBackend): ActorBackend {
    this.#local = local;
    return this.#options.role === "driver" ? this.#remoteActors : local;
  }

  /** The cluster's actors as this node's workers reach them (placed by the head). */
  get elsewhere(): ActorsElsewhere {
    return this.#remoteActors;
  }

  #actorsHost(): RemoteActorsHost {
    return {
      address: this.address,
      head: this.#options.head,
      send: (address, type, message) => this.#options.code.send(address, type, message),
      side: () => this.#side,
      createHere: (spec) => this.#local!.create(spec),
      local: () => this.#local!,
      originOf: (url) => this.#options.code.originOf(url),
      expect: (spec, call) => {
        const f = { spec, nodeId: "" as NodeId, address: "", actor: call.actorId, call };
        this.#forwarded.set(spec.taskId, f);
        this.#side.holdArgs(spec.taskId, spec.argRefs);
      },
      expectAt: (taskId, nodeId, address) => {
        const f = this.#forwarded.get(taskId);
        if (f) Object.assign(f, { nodeId, address });
      },
      failExpected: (spec, error) => this.#failWith(spec, error),
      wireArgs: (args, argRefs) => this.#wireArgs(args, argRefs),
      need: (id) => this.need(id, PullPriority.args),
      hosted: (owner, actorId) =>
        void this.#hosted.set(owner, (this.#hosted.get(owner) ?? new Set()).add(actorId)),
      placedHere: (taskId, owner, numReturns) =>
        this.#placedHere.set(taskId, { owner, numReturns, returns: [] }),
    };
  }

  /** Sends a restarted actor's creation to the node at `address` (the head's agent does). */
  recreateActor(address: string, spec: ActorCreateSpec, owner: string | undefined): void {
    this.#remoteActors.recreate(address, spec, owner);
  }

  /** The node's id (once bound). */
  get nodeId(): NodeId {
    return this.#side.nodeId as NodeId;
  }

  get outstanding(): number {
    return this.#forwarded.size + this.#pulls.size;
  }

  takes(spec: TaskSpec): boolean {
    if (this.#keep.has(spec.taskId)) return false;
    if (this.#options.role === "driver") return true;
    const s = spec.options.schedulingStrategy;
    return s === "SPREAD" || (typeof s === "object" && s.nodeId !== this.nodeId);
  }

  spillback(spec: TaskSpec): boolean {
    return !this.#keep.has(spec.taskId) && !this.#closed;
  }

  forward(spec: TaskSpec): void {
    (spec as { jobId?: JobId }).jobId ??= this.#side.jobId; // its driver's job on every node
    this.#forwarded.set(spec.taskId, { spec, nodeId: "" as NodeId, address: "" });
    this.#toPlace.push(spec);
    if (this.#toPlace.length === 1) queueMicrotask(() => this.#toPlace.length && this.#place());
    else if (this.#toPlace.length >= PLACE_BATCH) this.#place();
  }

  waitAnywhere(ids: readonly ObjectId[], need: number, timeoutMs: number | undefined) {
    return this.#anywhere.wait(ids, need, timeoutMs);
  }

  need(id: ObjectId, priority?: PullPriority): void {
    if (this.#closed) return;
    if (this.#forwarded.has(taskIdOf(id))) {
      // A result of a task this process forwarded: its `finished` brings it or says where it is.
      this.#wanted.add(id);
      return;
    }
    this.#pulls.need(id, priority);
  }

  sealed(id: ObjectId): void {
    this.#anywhere.changed(id);
    if (isPutId(id)) return;
    this.reports.soon();
    const taskId = taskIdOf(id);
    const placed = this.#placedHere.get(taskId);
    if (!placed) return;
    const inline = this.#side.inlineOf(id);
    if (inline) {
      // Small: it travels to the owner with the news, and nothing here holds it for the owner.
      this.#holdFor(placed.owner, inline.contained);
      placed.returns.push([id, inline.bytes, inline.error, inline.contained]);
      const holder = holderOf(placed.owner);
      queueMicrotask(() => this.#side.release(id, holder)); // after the node's own sealing
    } else {
      this.#publish(id);
      placed.returns.push([id, undefined, undefined, undefined, this.#side.sizeOf(id)]);
    }
    if (placed.returns.length < placed.numReturns) return;
    this.#placedHere.delete(taskId);
    this.#keep.delete(taskId);
    this.#side.forwardedDone(taskId); // an actor call's arguments (a task's are let go already)
    this.#tellOwner(placed.owner, placed.returns);
  }

  /** Queues a finished task's returns for its owner; sent once per turn per owner. */
  #tellOwner(owner: string, returns: readonly Return[]): void {
    const queued = this.#finishedFor.get(owner);
    if (queued) return void queued.push(...returns);
    this.#finishedFor.set(owner, [...returns]);
    if (this.#finishedFor.size > 1) return;
    queueMicrotask(() => {
      for (const [to, list] of this.#finishedFor) {
        this.#options.peers.send(to, MSG.finished, { from: this.address, returns: list });
      }
      this.#finishedFor.clear();
    });
  }

  unreferenced(id: ObjectId): void {
    const at = this.#remote.get(id);
    this.#lineage.drop(taskIdOf(id));
    if (at !== undefined) {
      this.#remote.delete(id);
      this.#options.peers.send(at, MSG.release, { from: this.address, ids: [id] });
    }
    this.owners.remove(id);
    this.owners.freed(id);
  }

  cancel(taskId: TaskId, mode: CancelMode): void {
    const f = this.#forwarded.get(taskId);
    if (f?.address) this.#options.code.send(f.address, MSG.cancel, [taskId, mode]);
    else if (f && !f.actor) this.#failWith(f.spec, taskCancelled(taskName(f.spec))); // not placed yet
  }

  state() {
    return this.#options.head.state();
  }

  flushRecords(): Promise<void> {
    return flushEverywhere(this.#side, () => this.state(), this.#options.peers, this.address);
  }

  async close(): Promise<void> {
    this.#closed = true;
    this.#pulls.close();
    this.owners.close();
    this.reports.stop();
    await this.#options.peers.close();
    this.#options.closeAlso?.();
    await this.#options.code.close();
  }

  /** Answers a peer's request. */
  onRequest(frame: WireFrame): Reply | Promise<Reply> {
    if (frame.type === MSG.code) return this.#options.code.serve(frame.message);
    if (frame.type === MSG.fetch) {
      const hold = (from: string, ids: readonly ObjectId[]) => this.#holdFor(from, ids);
      return serveFetch(this.#side, hold, frame.message as FetchRequest);
    }
    if (frame.type === MSG.flushRecords) {
      return this.#side.flushRecords().then(() => ({ message: 0 }));
    }
    if (frame.type === MSG.locate) {
      return this.owners.serveLocate(frame.message as LocateRequest).then((message) => ({
        message,
      }));
    }
    throw new TypeError(`frame type ${frame.type} is not a request this process serves`);
  }

  /** Takes a peer's one-way message. */
  onMessage(frame: WireFrame): void {
    const m = frame.message as Record<string, unknown>;
    switch (frame.type) {
      case MSG.run:
      case MSG.actor:
      case MSG.cancel: // in order, once the code they name runs here
        return this.#options.code.receive(frame.type, m, (x) => this.#inOrder(frame.type, x));
      case MSG.finished:
        return this.#finished(m.from as string, m.returns as Return[]);
      case MSG.publish:
        return this.owners.takePublish(m as unknown as PublishMessage);
      case MSG.leaving:
        return this.handOff.leaving(m as unknown as LeavingMessage);
      case MSG.release:
        for (const id of m.ids as ObjectId[]) this.#side.release(id, holderOf(m.from as string));
        return;
      default:
        throw new TypeError(`frame type ${frame.type} is not a message this process takes`);
    }
  }

  #inOrder(type: number, m: unknown): void {
    if (type === MSG.run) return this.#run(m as RunMessage);
    if (type === MSG.actor) {
      this.hostedActors.note(m as ActorMessage);
      return hostActor(m as ActorMessage, this.#actorsHost(), this.#local!);
    }
    const [taskId, mode] = m as CancelMessage;
    if (this.#placedHere.has(taskId)) this.#side.cancel(taskId, mode);
  }

  /** Objects this node holds for others, taken by them when it drains (handoff.ts). */
  readonly handOff: HandOff;

  /** The head says a node died (or a driver left): its tasks move, its holds and actors here go. */
  nodeDied(nodeId: NodeId, address: string): void {
    this.#options.peers.forget(address);
    this.owners.died(nodeId, address);
    for (const actorId of this.#hosted.get(address) ?? []) this.#local?.kill(actorId, true);
    this.#hosted.delete(address);
    this.#side.dropHolder(holderOf(address));
    for (const [id, at] of this.#remote) {
      if (at !== address) continue;
      this.#remote.delete(id);
      if (this.#side.isMissing(id)) this.#lost(id, nodeId, address);
    }
    const lost: LostCall[] = [];
    for (const f of this.#forwarded.values()) {
      if (f.nodeId !== nodeId || !f.call) continue;
      lost.push({ spec: f.spec, call: f.call });
      f.nodeId = "" as NodeId; // until its actor's new home is known
      f.address = "";
    }
    this.#remoteActors.nodeDied(nodeId, address, lost); // retried in order, or failed
    for (const f of [...this.#forwarded.values()]) {
      if (f.nodeId !== nodeId || f.actor) continue;
      const { spec } = f;
      const { maxRetries } = spec.options;
      if (maxRetries === -1 || spec.attempt < maxRetries) {
        spec.attempt++;
        this.forward(spec);
        continue;
      }
      this.#forwarded.delete(spec.taskId);
      this.#side.failForwarded(
        spec,
        workerDied(taskName(spec), `on node ${nodeId}`, `node ${nodeId} (${address}) died`),
      );
      this.#side.forwardedDone(spec.taskId);
    }
  }

  /** The only copy of `id` known here was on a dead node: run its task again, or fail it. */
  #lost(id: ObjectId, nodeId: NodeId, address: string): void {
    const taskId = taskIdOf(id);
    const spec = this.#lineage.get(taskId);
    const { maxRetries } = spec?.options ?? { maxRetries: 0 };
    if (spec && (maxRetries === -1 || spec.attempt < maxRetries)) {
      this.#lineage.take(taskId);
      this.#wanted.add(id); // its `finished` brings it
      spec.attempt++;
      this.forward(spec);
      return;
    }
    if (this.#forwarded.has(taskId)) return void this.#wanted.add(id); // already running again
    const why = this.#lineage.whyLost(id, `its node ${nodeId} (${address}) died`);
    this.#side.sealFetched(id, errorFrame(objectLost(id, why)), true, []);
  }

  async #place(): Promise<void> {
    const batch = this.#toPlace;
    this.#toPlace = [];
    const requests: PlaceRequest[] = batch.map((spec) => ({
      taskId: spec.taskId,
      demand: demandOf(spec.options.numCpus, spec.options.resources),
      strategy: spec.options.schedulingStrategy,
      locality: spec.deps.length > 0 ? this.owners.locality(spec.deps, this.#sizeHere) : undefined,
    }));
    let decisions;
    try {
      decisions = await this.#options.head.place(requests);
    } catch (err) {
      for (const spec of batch) this.#fail(spec, `the head did not place it: ${err}`);
      return;
    }
    const byNode = new Map<string, TaskSpec[]>();
    batch.forEach((spec, i) => {
      const d = decisions[i];
      if (d.type !== "place") return this.#unplaced(spec, d.reason);
      if (d.nodeId === this.nodeId) {
        // Back to this node: run it here like any local task.
        this.#forwarded.delete(spec.taskId);
        this.#keep.add(spec.taskId);
        this.#side.forwardedDone(spec.taskId);
        this.#side.acceptPlaced(spec, "");
        return;
      }
      const f = this.#forwarded.get(spec.taskId);
      if (!f) return; // cancelled meanwhile
      f.nodeId = d.nodeId;
      f.address = d.address;
      const list = byNode.get(d.address);
      if (list) list.push(spec);
      else byNode.set(d.address, [spec]);
    });
    for (const [address, specs] of byNode) {
      const wire = specs.map((s) => this.#wireArgs(s, s.argRefs));
      this.#options.code.send(address, MSG.run, packRun(this.address, wire));
    }
  }

  /** `value` as it travels: its `args` inline, the objects `argRefs` names published. */
  #wireArgs<A extends { readonly args: Frame | ObjectId }>(
    value: A,
    argRefs: readonly string[],
  ): A {
    for (const id of argRefs as ObjectId[]) {
      if (this.#side.isLocal(id)) this.#publish(id);
      else if (this.#forwarded.has(taskIdOf(id))) this.#promised.add(id);
    }
    const { args } = value;
    if (typeof args === "string" || args instanceof Uint8Array) return value;
    return { ...value, args: this.#side.arena.view(args).slice() };
  }

  /** No node can run `spec` now: a first try fails at once, a retry waits (RETRY_PLACE_MS). */
  #unplaced(spec: TaskSpec, reason: string): void {
    const since = this.#unplacedSince.get(spec.taskId) ?? Date.now();
    if (spec.attempt === 0 || Date.now() - since > RETRY_PLACE_MS) {
      this.#unplacedSince.delete(spec.taskId);
      return this.#fail(spec, reason);
    }
    this.#unplacedSince.set(spec.taskId, since);
    setTimeout(() => {
      if (!this.#forwarded.has(spec.taskId) || this.#closed) return;
      this.#toPlace.push(spec);
      if (this.#toPlace.length === 1) queueMicrotask(() => this.#place());
    }, 200);
  }

  #fail(spec: TaskSpec, reason: string): void {
    const why = `${taskName(spec)} (${spec.taskId}) cannot be placed`;
    this.#failWith(spec, new RayError(`Task ${why}: ${reason.replace(/^Cannot place.*?: /, "")}`));
  }

  #failWith(spec: TaskSpec, error: Error): void {
    if (!this.#forwarded.delete(spec.taskId)) return;
    this.#side.failForwarded(spec, error);
    this.#side.forwardedDone(spec.taskId);
  }

  #run(message: RunMessage): void {
    const { owner } = message;
    for (const spec of unpackRun(message)) {
      const { numReturns } = spec.options;
      this.#placedHere.set(spec.taskId, { owner, numReturns, returns: [] });
      this.#keep.add(spec.taskId);
      this.#side.acceptPlaced(spec, holderOf(owner));
    }
  }

  #finished(from: string, returns: readonly Return[]): void {
    let task: TaskId | undefined; // the returns of one task come one after another
    let stale = false;
    for (const [id, bytes, error, contained, size] of returns) {
      const taskId = taskIdOf(id);
      if (taskId !== task) {
        task = taskId;
        const f = this.#forwarded.get(taskId);
        // A run not waited for (placed elsewhere since, or ended): not taken, none counts twice.
        stale = !f || (f.address !== "" && f.address !== from);
        if (!stale) {
          this.#forwarded.delete(taskId);
          // A result that stays on its node: its task is kept to run again if that node dies.
          if (!bytes && !f!.actor) this.#lineage.keep(f!.spec);
          else this.#side.forwardedDone(taskId);
        }
      }
      if (stale) continue;
      if (bytes) {
        this.#wanted.delete(id);
        this.#heldAt(from, contained!);
        this.#side.sealFetched(id, bytes, error!, contained!);
        if (this.#promised.delete(id)) this.#publish(id);
        continue;
      }
      this.#remote.set(id, from);
      // The owner's directory has it now (the holder's publish may come after this).
      if (this.owners.owns(id)) {
        this.owners.directory.update(from, { added: [[id, size ?? 0]], removed: [] });
      }
      this.#anywhere.changed(id);
      if (this.#wanted.delete(id)) this.need(id);
    }
  }

  /** Refs inside an object going to `receiver`: those stored here are held for it, published. */
  #holdFor(receiver: string, contained: readonly ObjectId[]): ObjectId[] {
    const held: ObjectId[] = [];
    for (const inner of contained) {
      if (!this.#side.isLocal(inner)) continue;
      this.#side.hold(inner, holderOf(receiver));
      this.#publish(inner);
      held.push(inner);
    }
    return held;
  }

  /** `at` holds these refs for this process: released there when nothing here holds them. */
  #heldAt(at: string, ids: readonly ObjectId[]): void {
    for (const id of ids) {
      if (this.#remote.has(id)) {
        this.#options.peers.send(at, MSG.release, { from: this.address, ids: [id] });
      } else this.#remote.set(id, at);
    }
  }

  /** A copy of `id` is here: its owner learns of it (peers may pull it from here). */
  #publish(id: ObjectId): void {
    this.owners.add(id);
  }

  readonly #sizeHere = (id: ObjectId): number => this.#side.sizeOf(id);
}
