/**
 * The node's actors: each lives in a worker started for it, outside the
 * task pool. Method calls skip the task scheduler: they queue here per actor
 * and per caller, leave in submission order once their ref arguments exist,
 * and go to the actor's worker in batches; their results are sealed like
 * task returns. Also keeps the named-actor registry, restarts actors whose
 * worker died, and kills them.
 *
 * States: PENDING_CREATION -> ALIVE -> RESTARTING -> ALIVE ... -> DEAD
 * (see LEGAL below and docs/ARCHITECTURE.md, "Actors").
 *
 * @module
 */
import type { JobId, NodeId, ObjectId, WorkerId } from "../common/mod.ts";
import {
  actorCallLost,
  actorDead,
  actorNameTaken,
  config,
  infeasibleTask,
  objectIdOf,
  RayActorError,
} from "../common/mod.ts";
import type { ActorBackend } from "../core/mod.ts";
import { errorFrame, fromFrame } from "../core/mod.ts";
import type { ActorStateChanged } from "../gcs/mod.ts";
import type { SharedArena } from "../object_store/mod.ts";
import type {
  ActorCall,
  ActorCreateSpec,
  ActorEntry,
  ActorId,
  ActorResult,
  Frame,
  FromWorker,
  RunActorCall,
} from "../protocol/mod.ts";
import { demandOf, type ObjectStatus, type Resources, unmet } from "../scheduler/mod.ts";
import { ActorChannel } from "../transport/mod.ts";
import { CallerLinks, type LinkCaller, type LinkTarget, refuseLink } from "./caller_links.ts";
import type { WaitHandle } from "./object_table.ts";
import type { Pollable } from "./spinner.ts";
import { WorkerHandle } from "./worker_handle.ts";

/** What the actor manager needs from its node. */
export interface ActorHost {
  readonly jobId: JobId;
  readonly nodeId: NodeId;
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
  /** Seals a call's return like a task's. */
  seal(id: ObjectId, frame: Frame, error: boolean, contained?: readonly ObjectId[]): void;
  /** Handles a message any worker may send (put, submit, wait, refs, ...). */
  serve(worker: WorkerHandle, msg: FromWorker): void;
  /** A worker appeared that may send waits. */
  attach(workerId: WorkerId): void;
  /** That worker is gone: drop its waits, holds and promises. */
  detach(workerId: WorkerId, detail: string): void;
  /** Takes resources for a live actor; false when they do not fit now. */
  hold(demand: Resources): boolean;
  /** Gives them back. */
  release(demand: Resources): void;
  /** The arguments of a call or constructor hold these objects... */
  holdArgs(ids: readonly ObjectId[]): void;
  /** ...until this. */
  releaseArgs(ids: readonly ObjectId[]): void;
  /** An actor changed state (for the control store). */
  changed(status: ActorStatus): void;
}

/** The life of an actor. */
export type ActorState = "PENDING_CREATION" | "ALIVE" | "RESTARTING" | "DEAD";

/** Legal transitions. */
const LEGAL: Readonly<Record<ActorState, readonly ActorState[]>> = {
  PENDING_CREATION: ["ALIVE", "RESTARTING", "DEAD"],
  ALIVE: ["RESTARTING", "DEAD"],
  RESTARTING: ["ALIVE", "RESTARTING", "DEAD"],
  DEAD: [],
};

interface CallerQueue {
  calls: ActorCall[];
  head: number;
  /** The head call waits for a ref argument. */
  waiting: boolean;
}

interface ActorRecord {
  readonly spec: ActorCreateSpec;
  readonly label: string;
  readonly nameKey?: string;
  readonly demand: Resources;
  state: ActorState;
  worker?: WorkerHandle;
  /** The shared-memory channel to the current worker (a new one per worker). */
  channel?: ActorChannel;
  /** Number of the next batch of calls sent to the current worker. */
  seq: number;
  depFrames?: Frame[];
  restarts: number;
  held: boolean;
  /** Calls per caller (driver or worker id), each in submission order. */
  readonly callers: Map<string, CallerQueue>;
  /** Calls sent to the worker and not finished, by slot, in the order sent. */
  readonly inFlight: Map<number, ActorCall>;
  /** Slot of the next call sent to the current worker. */
  nextSlot: number;
  /** Calls to send again first (in flight when the worker died, retries left). */
  resend: ActorCall[];
  death?: RayActorError;
  /** No handle remains: die once idle. */
  draining: boolean;
  /** Calls enqueued since the last dispatch. */
  queued: number;
  /** Callers' links, opened in the worker while it is ALIVE. */
  readonly links: CallerLinks;
  /** Draining: the worker was asked to say when its links are empty ("actorDrain")... */
  drainAsked: boolean;
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
}

const NO_FRAMES: readonly Frame[] = Object.freeze([]);
const CALL_BATCH = config("actorCallBatch");
const CHANNEL_BYTES = config("channelBytes");

/** The node's actors. */
export class ActorManager implements ActorBackend {
  readonly #host: ActorHost;
  readonly #actors = new Map<ActorId, ActorRecord>();
  /** Handles made by `getIfExists` on another thread point at an actor created earlier. */
  readonly #aliases = new Map<ActorId, ActorId>();
  readonly #names = new Map<string, ActorId>();
  readonly #dirty = new Set<ActorRecord>();
  /** Actors with calls in flight. */
  readonly #busy = new Set<ActorRecord>();
  #waitingResources: ActorRecord[] = [];
  #flushQueued = false;
  #nextWorker = 1;
  #stopped = false;

  /** @param host the node's parts the actors use */
  constructor(host: ActorHost) {
    this.#host = host;
  }

  create(spec: ActorCreateSpec): ActorEntry | undefined {
    return this.#create(spec, true);
  }

  call(call: ActorCall): undefined {
    this.#enqueue("driver", call);
    return undefined;
  }

  kill(actorId: ActorId, noRestart: boolean): Promise<void> {
    const rec = this.#find(actorId);
    if (!rec || rec.state === "DEAD") return Promise.resolve();
    if (!noRestart && rec.worker) {
      rec.worker.fail("it was killed with ray.kill (noRestart: false)");
    } else {
      this.#die(rec, actorDead(rec.label, "it was killed with ray.kill"));
    }
    return Promise.resolve();
  }

  lookup(name: string, namespace?: string): Promise<ActorEntry | undefined> {
    const id = this.#names.get(`${namespace ?? this.#host.namespace}/${name}`);
    const rec = id && this.#actors.get(id);
    return Promise.resolve(rec ? entryOf(rec.spec) : undefined);
  }

  /** Handles an actor message from a worker of the pool or another actor. */
  fromWorker(
    worker: WorkerHandle,
    msg: Extract<FromWorker, { type: "actorCreate" | "actorLink" | "actorKill" | "actorLookup" }>,
  ): void {
    switch (msg.type) {
      case "actorCreate":
        this.#create(msg.spec, false);
        break;
      case "actorLink":
        this.link(worker, msg);
        break;
      case "actorKill":
        this.kill(msg.actorId, msg.noRestart).then(() =>
          worker.send({ type: "actorAnswer", reqId: msg.reqId })
        );
        break;
      case "actorLookup":
        this.lookup(msg.name, msg.namespace).then((entry) =>
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
    if (!rec || rec.spec.settings.detached || rec.state === "DEAD") return;
    rec.draining = true;
    this.#dieIfDrained(rec);
  }

  /** Starts actors that waited for resources, if they fit now (call after resources are freed). */
  retryWaiting(): void {
    if (this.#waitingResources.length === 0) return;
    const waiting = this.#waitingResources;
    this.#waitingResources = [];
    for (const rec of waiting) this.#place(rec);
  }

  /** The actors, for status queries and tests. */
  list(): ActorStatus[] {
    return [...this.#actors.values()].map(statusOf);
  }

  /** Ends every actor's worker (node shutdown). */
  shutdown(): void {
    this.#stopped = true;
    for (const rec of this.#actors.values()) {
      rec.worker?.terminate();
      rec.worker = undefined;
      rec.state = "DEAD";
    }
  }

  #create(spec: ActorCreateSpec, inDriver: boolean): ActorEntry | undefined {
    const { name } = spec.settings;
    const namespace = spec.settings.namespace ?? this.#host.namespace;
    const nameKey = name === undefined ? undefined : `${namespace}/${name}`;
    const label = `${spec.cls.name}(${spec.actorId})`;
    const rec: ActorRecord = {
      spec,
      label,
      nameKey,
      demand: demandOf(spec.settings.numCpus, spec.settings.resources),
      state: "PENDING_CREATION",
      seq: 0,
      restarts: 0,
      held: false,
      callers: new Map(),
      inFlight: new Map(),
      nextSlot: 0,
      resend: [],
      draining: false,
      queued: 0,
      links: new CallerLinks(),
      drainAsked: false,
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
      rec.state = "DEAD";
      rec.death = actorDead(label, `it was not created: ${err.message}`, err);
      this.#actors.set(spec.actorId, rec);
      return undefined;
    }
    this.#actors.set(spec.actorId, rec);
    if (nameKey !== undefined) this.#names.set(nameKey, spec.actorId);
    this.#host.holdArgs(spec.argRefs);
    this.#awaitArgs(rec);
    return undefined;
  }

  /** PENDING_CREATION: waits for the constructor's ref arguments, then for resources. */
  #awaitArgs(rec: ActorRecord): void {
    const { table } = this.#host;
    const missing = rec.spec.deps.filter((d) => table.status(d) === "missing");
    if (missing.length > 0) {
      table.wait(missing, missing.length, undefined, false).promise.then(
        () => this.#awaitArgs(rec),
        () => {},
      );
      return;
    }
    if (rec.state === "DEAD") return;
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

  #place(rec: ActorRecord): void {
    if (rec.state === "DEAD") return;
    if (!this.#host.hold(rec.demand)) {
      this.#waitingResources.push(rec);
      return;
    }
    rec.held = true;
    this.#startWorker(rec);
  }

  #startWorker(rec: ActorRecord): void {
    const id = `a${this.#nextWorker++}` as WorkerId;
    const worker: WorkerHandle = new WorkerHandle(
      id,
      { jobId: this.#host.jobId, nodeId: this.#host.nodeId, sab: this.#host.arena.sab },
      {
        message: (h, msg) => this.#onMessage(rec, h, msg),
        died: (h, detail, trusted) => this.#onDeath(rec, h, detail, trusted),
      },
    );
    rec.worker = worker;
    rec.channel = ActorChannel.create(CHANNEL_BYTES);
    rec.seq = 0;
    rec.nextSlot = 0;
    rec.drainAsked = false;
    rec.linksIdle = false;
    this.#host.attach(id);
    worker.send({
      type: "actorStart",
      spec: rec.spec,
      depFrames: rec.depFrames ?? NO_FRAMES,
      channel: rec.channel.sab,
    });
  }

  #onMessage(rec: ActorRecord, worker: WorkerHandle, msg: FromWorker): void {
    if (worker !== rec.worker || this.#stopped) return;
    this.#handle(rec, worker, msg);
    if (rec.worker === worker) this.#readResults(rec, false);
  }

  #handle(rec: ActorRecord, worker: WorkerHandle, msg: FromWorker): void {
    switch (msg.type) {
      case "started":
        break;
      case "actorCreated":
        if (msg.error === undefined) {
          this.#setState(rec, "ALIVE");
          const target = this.#linkTarget(rec);
          if (target) rec.links.openAll(target);
          this.#markDirty(rec);
        } else {
          this.#die(rec, this.#constructorFailed(rec, msg.error));
        }
        break;
      case "actorDone":
        this.#finished(rec, msg.results);
        break;
      case "actorRing":
        break;
      case "actorIdle":
        rec.linksIdle = true;
        this.#dieIfDrained(rec);
        break;
      case "closing":
        worker.fail("it closed itself (self.close())");
        break;
      default:
        this.#host.serve(worker, msg);
    }
  }

  /** Seals the returns of finished calls. */
  #finished(rec: ActorRecord, results: readonly ActorResult[]): void {
    for (const [slot, returns, failed, contained] of results) {
      const call = rec.inFlight.get(slot);
      if (!call) continue;
      rec.inFlight.delete(slot);
      for (let i = 0; i < returns.length; i++) {
        this.#host.seal(objectIdOf(call.taskId, i), returns[i], failed, contained?.[i]);
      }
      this.#host.releaseArgs(call.argRefs);
    }
    if (rec.inFlight.size === 0) this.#busy.delete(rec);
    this.#dieIfDrained(rec);
  }

  /**
   * Reads the results waiting in the actor's channel, each batch only once
   * the messages its worker posted before it arrived (when the worker is
   * gone, batches that wait for messages that will never come are dropped).
   */
  #readResults(rec: ActorRecord, final: boolean, trusted = rec.worker?.received ?? 0): void {
    const channel = rec.channel;
    const worker = rec.worker;
    if (!channel || !worker) return;
    channel.clearNudge();
    for (;;) {
      let batch;
      try {
        // When the worker is gone, batches written after a message that never
        // came are dropped: their calls count as lost, like those still running.
        batch = channel.nextResults(final ? trusted : worker.received, final);
      } catch (err) {
        worker.fail(`its channel held garbage (${(err as Error).message})`);
        return;
      }
      if (!batch) return;
      this.#finished(rec, batch.results);
      if (rec.worker !== worker) return;
    }
  }

  /** Sends the calls queued so far now (a driver's get is about to wait for them). */
  flushQueued(): void {
    if (this.#dirty.size > 0) this.#flushDirty();
  }

  /** Channels of actors with calls in flight, and how to read each (for a spinning get). */
  pollables(): Pollable[] {
    const out: Pollable[] = [];
    for (const rec of this.#busy) {
      const channel = rec.channel;
      if (channel) out.push({ channel, read: () => this.#readResults(rec, false) });
    }
    return out;
  }

  #onDeath(rec: ActorRecord, worker: WorkerHandle, detail: string, trusted?: number): void {
    if (worker !== rec.worker) return;
    this.#readResults(rec, true, trusted);
    if (worker !== rec.worker) return;
    rec.worker = undefined;
    this.#host.detach(worker.id, detail);
    this.callerGone(worker.id);
    if (rec.state === "DEAD" || this.#stopped) return;
    const why = `its worker ${worker.id} died: ${detail}`;
    const { maxRestarts, maxTaskRetries } = rec.spec.settings;
    if (maxRestarts !== -1 && rec.restarts >= maxRestarts) {
      const budget = maxRestarts > 0 ? ` (after ${rec.restarts} restart(s))` : "";
      return this.#die(rec, actorDead(rec.label, why + budget));
    }
    rec.restarts++;
    this.#setState(rec, "RESTARTING");
    this.#unlinkAll(rec, why);
    const resend: ActorCall[] = [];
    for (const call of rec.inFlight.values()) {
      if (maxTaskRetries === -1 || call.attempt < maxTaskRetries) {
        call.attempt++;
        resend.push(call);
      } else {
        this.#fail(call, actorCallLost(rec.label, call.method, why));
      }
    }
    rec.inFlight.clear();
    this.#busy.delete(rec);
    rec.resend = resend.concat(rec.resend);
    this.#startWorker(rec);
  }

  #enqueue(callerId: string, call: ActorCall): void {
    this.#host.holdArgs(call.argRefs);
    const rec = this.#find(call.actorId);
    if (!rec) {
      const err = new RayActorError(`Actor ${call.actorId} is unknown to this node`);
      return this.#fail(call, err);
    }
    if (rec.state === "DEAD") return this.#fail(call, rec.death!);
    let queue = rec.callers.get(callerId);
    if (!queue) rec.callers.set(callerId, queue = { calls: [], head: 0, waiting: false });
    queue.calls.push(call);
    if (rec.state !== "ALIVE") return;
    // Many calls at once (a loop of .remote()): send a batch now, so that the
    // actor works while the caller is still submitting.
    if (++rec.queued >= CALL_BATCH) this.#dispatch(rec);
    else this.#markDirty(rec);
  }

  #markDirty(rec: ActorRecord): void {
    this.#dirty.add(rec);
    if (this.#flushQueued) return;
    this.#flushQueued = true;
    queueMicrotask(() => this.#flushDirty());
  }

  #flushDirty(): void {
    this.#flushQueued = false;
    for (const r of this.#dirty) this.#dispatch(r);
    this.#dirty.clear();
  }

  /** Sends what may go to an ALIVE actor: calls to resend, then each caller's calls in order. */
  #dispatch(rec: ActorRecord): void {
    rec.queued = 0;
    if (rec.state !== "ALIVE" || !rec.worker) return;
    const { table } = this.#host;
    const batch: RunActorCall[] = [];
    const send = (call: ActorCall): void => {
      const slot = rec.nextSlot++;
      rec.inFlight.set(slot, call);
      this.#busy.add(rec);
      const depFrames = call.deps.length === 0 ? NO_FRAMES : call.deps.map((d) => table.frame(d)!);
      batch.push([
        call.taskId,
        call.method,
        call.args,
        call.numReturns,
        call.deps,
        depFrames,
        slot,
      ]);
    };
    for (const call of rec.resend) send(call);
    rec.resend = [];
    for (const [callerId, q] of rec.callers) {
      while (!q.waiting && q.head < q.calls.length) {
        const call = q.calls[q.head];
        const args = call.deps.length === 0 ? "ready" : this.#argsStatus(rec, q, call);
        if (args === "wait") break;
        q.head++;
        if (args === "ready") send(call);
      }
      if (q.head === q.calls.length && !q.waiting) rec.callers.delete(callerId);
      else if (q.head > 1024) q.calls = q.calls.slice(q.head), q.head = 0;
    }
    if (batch.length === 0) return;
    const seq = rec.seq++;
    if (!rec.channel!.sendWork(seq, batch)) {
      rec.worker.send({ type: "actorRun", seq, calls: batch });
    }
  }

  /**
   * Whether a call's ref arguments exist: a missing one makes its caller's
   * queue wait; an error one fails the call with that same error, as for
   * tasks ("failed").
   */
  #argsStatus(rec: ActorRecord, q: CallerQueue, call: ActorCall): "ready" | "wait" | "failed" {
    const { table } = this.#host;
    const missing: ObjectId[] = [];
    for (const d of call.deps) {
      const status = table.status(d);
      if (status === "error") {
        this.#host.releaseArgs(call.argRefs);
        this.#sealAll(call, table.frame(d)!);
        return "failed";
      }
      if (status === "missing") missing.push(d);
    }
    if (missing.length === 0) return "ready";
    q.waiting = true;
    table.wait(missing, missing.length, undefined, false).promise.then(() => {
      q.waiting = false;
      this.#markDirty(rec);
    }, () => {});
    return "wait";
  }

  #setState(rec: ActorRecord, next: ActorState): void {
    if (!LEGAL[rec.state].includes(next)) {
      throw new Error(`Actor ${rec.label}: illegal transition ${rec.state} -> ${next}`);
    }
    rec.state = next;
    this.#host.changed(statusOf(rec));
  }

  /** DEAD: ends the worker, frees the name and resources, fails every call not finished. */
  #die(rec: ActorRecord, error: RayActorError): void {
    if (rec.state === "DEAD") return;
    this.#setState(rec, "DEAD");
    rec.death = error;
    const worker = rec.worker;
    rec.worker = undefined;
    if (worker) {
      worker.terminate();
      this.#host.detach(worker.id, error.message);
      this.callerGone(worker.id);
    }
    this.#unlinkAll(rec, error.message, errorFrame(error));
    if (rec.held) {
      rec.held = false;
      this.#host.release(rec.demand);
    }
    if (rec.nameKey !== undefined && this.#names.get(rec.nameKey) === rec.spec.actorId) {
      this.#names.delete(rec.nameKey);
    }
    this.#host.releaseArgs(rec.spec.argRefs);
    for (const call of rec.resend) this.#fail(call, error);
    for (const call of rec.inFlight.values()) this.#fail(call, error);
    for (const q of rec.callers.values()) {
      for (let i = q.head; i < q.calls.length; i++) this.#fail(q.calls[i], error);
    }
    rec.resend = [];
    rec.inFlight.clear();
    this.#busy.delete(rec);
    rec.callers.clear();
  }

  #dieIfDrained(rec: ActorRecord): void {
    if (!rec.draining || rec.inFlight.size > 0 || rec.resend.length > 0) return;
    if (rec.callers.size > 0 || rec.state !== "ALIVE") return;
    if (rec.links.size > 0 && !rec.linksIdle) {
      // Calls may still wait in callers' links: the worker says when they are done.
      if (!rec.drainAsked) rec.worker?.send({ type: "actorDrain" });
      rec.drainAsked = true;
      return;
    }
    this.#die(rec, actorDead(rec.label, "no handle to it remains"));
  }

  /**
   * A caller's link: opened in the actor's worker while it is ALIVE (now or
   * once it is); a caller of an actor that is dead or unknown hears so.
   */
  link(caller: LinkCaller, msg: Extract<FromWorker, { type: "actorLink" }>): void {
    const rec = this.#find(msg.actorId);
    if (!rec || rec.state === "DEAD") {
      const death = rec?.death ?? new RayActorError(`Actor ${msg.actorId} is unknown to this node`);
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
    rec.drainAsked = false;
  }

  /** Where links to `rec` open, while it is ALIVE. */
  #linkTarget(rec: ActorRecord): LinkTarget | undefined {
    if (rec.state !== "ALIVE" || !rec.worker || !rec.channel) return undefined;
    const { maxTaskRetries } = rec.spec.settings;
    return { worker: rec.worker, channel: rec.channel.sab, maxTaskRetries, label: rec.label };
  }

  /** The actor's worker is gone: every caller hears (with `death` when the actor is dead for good). */
  #unlinkAll(rec: ActorRecord, why: string, death?: Uint8Array): void {
    const { maxTaskRetries } = rec.spec.settings;
    rec.links.unlinkAll({ label: rec.label, why, maxTaskRetries, death });
  }

  /** A worker is gone: the actors drop its links. */
  callerGone(workerId: WorkerId): void {
    for (const rec of this.#actors.values()) {
      const alive = rec.state === "ALIVE" ? rec.worker : undefined;
      if (rec.links.size > 0 && rec.links.callerGone(workerId, alive)) this.#dieIfDrained(rec);
    }
  }

  #fail(call: ActorCall, error: RayActorError): void {
    this.#host.releaseArgs(call.argRefs);
    this.#sealAll(call, errorFrame(error));
  }

  #sealAll(call: ActorCall, frame: Frame): void {
    for (let i = 0; i < call.numReturns; i++) {
      this.#host.seal(objectIdOf(call.taskId, i), frame, true);
    }
  }

  #find(actorId: ActorId): ActorRecord | undefined {
    return this.#actors.get(actorId) ?? this.#actors.get(this.#aliases.get(actorId)!);
  }

  #dead(rec: ActorRecord, what: string, errorObject: ObjectId): RayActorError {
    try {
      fromFrame(this.#host.table.frame(errorObject)!, this.#host.arena);
      return actorDead(rec.label, what);
    } catch (cause) {
      return actorDead(rec.label, what, cause);
    }
  }

  #constructorFailed(rec: ActorRecord, error: Frame): RayActorError {
    try {
      fromFrame(error, this.#host.arena);
      return actorDead(rec.label, "its constructor failed");
    } catch (cause) {
      const summary = cause instanceof Error ? `${cause.name}: ${cause.message}` : String(cause);
      return actorDead(rec.label, `its constructor threw ${summary}`, cause);
    }
  }
}

const GCS_STATES = {
  PENDING_CREATION: "pending",
  ALIVE: "alive",
  RESTARTING: "restarting",
  DEAD: "dead",
} as const;

/** The control-store event that records an actor's status. */
export function actorStateEvent(a: ActorStatus, jobId: JobId, nodeId: NodeId): ActorStateChanged {
  return {
    type: "actorState",
    actorId: a.actorId,
    state: GCS_STATES[a.state],
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

function statusOf(rec: ActorRecord): ActorStatus {
  return {
    actorId: rec.spec.actorId,
    className: rec.spec.cls.name,
    state: rec.state,
    name: rec.spec.settings.name,
    namespace: rec.nameKey?.slice(0, rec.nameKey.lastIndexOf("/")),
    restarts: rec.restarts,
    workerId: rec.worker?.id,
    error: rec.death?.message,
  };
}
