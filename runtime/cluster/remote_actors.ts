/**
 * Actors of a driver in a cluster, and those a node's tasks create: created
 * on the node the head picks (a node's may come back to it: then it is a
 * local actor there), called over the peer links, their results returned
 * to the caller like a forwarded task's. On the hosting node, the calls are
 * the node's own driver calls (through call links to the actor's worker),
 * whose results are held for the remote owner until it lets go.
 *
 * @module
 */
import {
  actorCallLost,
  actorDead,
  type ActorId,
  actorNameTaken,
  type NodeId,
  type ObjectId,
  objectIdOf,
  RayActorError,
  type TaskId,
} from "../common/mod.ts";
import { ObjectRef } from "../core/mod.ts";
import type { ActorBackend } from "../core/mod.ts";
import type { ActorsElsewhere, ClusterSide } from "../node/mod.ts";
import type { ActorCall, ActorCreateSpec, ActorEntry, Frame, TaskSpec } from "../protocol/mod.ts";
import { demandOf } from "../scheduler/mod.ts";
import type { HeadApi } from "./head.ts";
import { MSG } from "./messages.ts";
import type { CodeRefs, FoundActor } from "./messages.ts";
import { holderOf } from "./peers.ts";

/** What the remote actors need of their agent. */
export interface RemoteActorsHost {
  readonly address: string;
  readonly head: HeadApi;
  /** Sends a peer message (in order, with the code it names; see code_shipping.ts). */
  send(address: string, type: number, message: ActorMessage): void;
  side(): ClusterSide;
  /** Creates an actor the head placed on this very node, as the node's own. */
  createHere(spec: ActorCreateSpec): void;
  /** The node's own actors. */
  local(): ActorBackend;
  /** A module URL as it is at its origin (a mirrored module's original URL; see code_shipping.ts). */
  originOf(url: string): string;
  /** Results of `spec` (the call `call`, as sent) will come like a forwarded task's. */
  expect(spec: TaskSpec, call: ActorCall): void;
  /** ... from `nodeId` at `address`. */
  expectAt(taskId: TaskId, nodeId: NodeId, address: string): void;
  /** Fails an expected call (its actor could not be reached). */
  failExpected(spec: TaskSpec, error: Error): void;
  /** `args` inline (copied out of the store), the objects `argRefs` names published. */
  wireArgs<A extends { readonly args: Frame | ObjectId }>(
    value: A,
    argRefs: readonly ObjectId[],
  ): A;
  /** Pulls `id` here. */
  need(id: ObjectId): void;
  /** A non-detached actor of `owner` lives here: it ends when that owner leaves. */
  hosted(owner: string, actorId: ActorId): void;
  /** Registers a task placed here whose results go to `owner`. */
  placedHere(taskId: TaskId, owner: string, numReturns: number): void;
}

/** Where an actor lives. */
interface Home {
  readonly nodeId: NodeId;
  readonly address: string;
  readonly entry: ActorEntry;
  /** Retries of each call in flight when its node dies (-1: forever). */
  readonly maxTaskRetries: number;
}

/** A call that was on its way to (or running on) a node that died. */
export interface LostCall {
  /** The call as a task spec: `attempt` counts its retries. */
  readonly spec: TaskSpec;
  /** The call as sent. */
  readonly call: ActorCall;
}

/** `actorCreate` / `actorCall` / `actorKill` as sent. */
export type ActorMessage =
  | {
    readonly kind: "create";
    readonly owner: string;
    readonly spec: ActorCreateSpec;
    /** The code graph of the class's module (see code_shipping.ts). */
    readonly code?: CodeRefs;
    /** Who serves that code, when not the owner (the head, restarting an actor). */
    readonly codeFrom?: string;
  }
  | { readonly kind: "call"; readonly owner: string; readonly call: ActorCall }
  | { readonly kind: "kill"; readonly actorId: ActorId; readonly noRestart: boolean };

/** The caller's side: every actor it creates or looks up lives on a node the head knows. */
export class RemoteActors implements ActorBackend, ActorsElsewhere {
  readonly #host: RemoteActorsHost;
  readonly #homes = new Map<ActorId, Promise<Home>>();
  /** The homes known so far, by the id calls name (a node's death moves them). */
  readonly #settled = new Map<ActorId, Home>();
  /** Nodes the head said died: a home there learned late is asked for again. */
  readonly #deadNodes = new Set<NodeId>();
  /** Each actor's `maxTaskRetries`, once its home was known. */
  readonly #retries = new Map<ActorId, number>();
  readonly #names = new Map<ActorId, string>();
  /** Names this process knows are taken (actors it made or found), to refuse a second at once. */
  readonly #named = new Map<string, ActorId>();
  readonly #entries = new Map<ActorId, ActorEntry>();

  constructor(host: RemoteActorsHost) {
    this.#host = host;
  }

  create(spec: ActorCreateSpec): ActorEntry | undefined {
    return this.#create(spec, true);
  }

  /** A worker's actor: never throws (a taken name is the head's to say; its calls then fail). */
  createFromWorker(spec: ActorCreateSpec): void {
    this.#create(spec, false);
  }

  #create(spec: ActorCreateSpec, knownNames: boolean): ActorEntry | undefined {
    const entry: ActorEntry = { actorId: spec.actorId, cls: spec.cls, methods: spec.methods };
    const { settings } = spec;
    const namespace = settings.namespace ?? "default";
    const key = settings.name === undefined ? undefined : `${namespace}/${settings.name}`;
    const mine = key === undefined || !knownNames ? undefined : this.#named.get(key);
    if (mine !== undefined) {
      // A name this process knows is taken (it made or found that actor): at once, as embedded.
      if (settings.getIfExists) {
        this.#setHome(spec.actorId, this.#homes.get(mine)!); // calls by this id go there too
        return this.#entries.get(mine);
      }
      throw actorNameTaken(settings.name!, namespace);
    }
    const jobId = spec.jobId ?? this.#host.side().jobId; // its creator's job on every node
    const wire = this.#host.wireArgs({ ...spec, jobId }, spec.argRefs);
    const label = `${spec.cls.name}(${spec.actorId})`;
    const place = async (): Promise<Home> => {
      if (key !== undefined && settings.getIfExists) {
        const found = await this.#host.head.lookupActor(settings.name!, namespace);
        if (found) return homeOf(found);
      }
      const { maxRestarts, maxTaskRetries } = settings;
      const cls = { ...wire.cls, moduleUrl: this.#host.originOf(wire.cls.moduleUrl) };
      const d = await this.#host.head.placeActor({
        entry,
        owner: this.#host.address,
        detached: settings.detached,
        demand: demandOf(settings.numCpus, settings.resources),
        name: settings.name,
        namespace: settings.namespace,
        strategy: settings.schedulingStrategy,
        maxTaskRetries,
        spec: maxRestarts === 0 ? undefined : { ...wire, cls },
      });
      if (d.type !== "place") throw actorDead(label, d.reason);
      if (d.address === this.#host.address) this.#host.createHere({ ...spec, jobId });
      else {
        this.#host.send(d.address, MSG.actor, {
          kind: "create",
          owner: this.#host.address,
          spec: wire,
        });
      }
      return { nodeId: d.nodeId, address: d.address, entry, maxTaskRetries };
    };
    const home = place();
    home.catch(() => {
      if (key !== undefined && this.#named.get(key) === spec.actorId) this.#named.delete(key);
    }); // the error is seen by each call
    this.#setHome(spec.actorId, home);
    this.#names.set(spec.actorId, spec.cls.name);
    if (key !== undefined) this.#remember(key, entry);
    return entry;
  }

  call(call: ActorCall): ObjectRef[] {
    const spec = callSpec(call, this.#names.get(call.actorId) ?? "Actor");
    const refs: ObjectRef[] = [];
    for (let i = 0; i < call.numReturns; i++) refs.push(new ObjectRef(objectIdOf(call.taskId, i)));
    const wire = this.#host.wireArgs(call, call.argRefs);
    this.#host.expect(spec, wire);
    this.#send(spec, wire);
    return refs;
  }

  /** Sends `call` to its actor's home once known (after the calls sent before it). */
  #send(spec: TaskSpec, call: ActorCall): void {
    const home = this.#homes.get(call.actorId) ?? this.#find(call.actorId);
    home.then(
      (h) => {
        this.#host.expectAt(call.taskId, h.nodeId, h.address);
        // A handle from getIfExists on an actor made elsewhere: the calls go to that actor.
        const { actorId } = h.entry;
        this.#host.send(h.address, MSG.actor, {
          kind: "call",
          owner: this.#host.address,
          call: actorId === call.actorId ? call : { ...call, actorId },
        });
      },
      (err) => this.#host.failExpected(spec, err),
    );
  }

  /**
   * Node `nodeId` died: the actors that lived there are asked for again (the
   * head restarted them elsewhere, or says they are dead), and each call
   * `lost` there (in the order made) is sent again while its actor's
   * `maxTaskRetries` allows, else it fails with RayActorError naming the node.
   */
  nodeDied(nodeId: NodeId, address: string, lost: readonly LostCall[]): void {
    this.#deadNodes.add(nodeId);
    const moved = new Map<ActorId, Promise<Home>>();
    for (const [id, h] of this.#settled) {
      if (h.nodeId !== nodeId) continue;
      this.#settled.delete(id);
      const actorId = h.entry.actorId;
      let again = moved.get(actorId);
      if (!again) moved.set(actorId, again = this.#ask(actorId));
      this.#setHome(id, again);
    }
    for (const { spec, call } of lost) {
      const max = this.#retries.get(call.actorId) ?? 0;
      if (max !== -1 && spec.attempt >= max) {
        const label = `${this.#names.get(call.actorId) ?? "Actor"}(${call.actorId})`;
        const why = `its node ${nodeId} (${address}) died`;
        this.#host.failExpected(spec, actorCallLost(label, call.method, why));
        continue;
      }
      (spec as { attempt: number }).attempt++;
      this.#send(spec, call);
    }
  }

  /** Sends a restarted actor's creation (the head decided; see head_actors.ts) to `address`. */
  recreate(address: string, spec: ActorCreateSpec, owner: string | undefined): void {
    const msg: ActorMessage = {
      kind: "create",
      owner: owner ?? this.#host.address,
      spec,
      codeFrom: this.#host.address,
    };
    if (address === this.#host.address) hostActor(msg, this.#host, this.#host.local());
    else this.#host.send(address, MSG.actor, msg);
  }

  async kill(actorId: ActorId, noRestart: boolean): Promise<void> {
    const home = await (this.#homes.get(actorId) ?? this.#find(actorId)).catch(() => undefined);
    if (!home) return;
    const id = home.entry.actorId;
    // The head frees its name and resources first: a getActor after this kill does not find it.
    if (noRestart) this.ended(id);
    this.#host.send(home.address, MSG.actor, { kind: "kill", actorId: id, noRestart });
  }

  /** Actor `actorId` ended (killed, or dead on this node): the head forgets it. */
  ended(actorId: ActorId): void {
    for (const [key, id] of this.#named) if (id === actorId) this.#named.delete(key);
    this.#host.head.actorEnded(actorId);
  }

  async lookup(name: string, namespace?: string): Promise<ActorEntry | undefined> {
    const found = await this.#host.head.lookupActor(name, namespace ?? "default");
    if (!found) return undefined;
    this.#setHome(found.entry.actorId, Promise.resolve(homeOf(found)));
    this.#names.set(found.entry.actorId, found.entry.cls.name);
    this.#remember(`${namespace ?? "default"}/${name}`, found.entry);
    return found.entry;
  }

  #remember(key: string, entry: ActorEntry): void {
    this.#named.set(key, entry.actorId);
    this.#entries.set(entry.actorId, entry);
  }

  /** True when `actorId` lives on another node the head knows (asked once, then remembered). */
  async actorElsewhere(actorId: ActorId): Promise<boolean | undefined> {
    const home = this.#homes.get(actorId) ?? this.#find(actorId);
    return await home.then((h) => h.address !== this.#host.address, () => undefined);
  }

  /** A call of a worker here to an actor of another node: its results come here. */
  callViaNode(call: ActorCall): void {
    this.call(call);
  }

  /** An actor whose handle came in a value: asks the head where it lives. */
  #find(actorId: ActorId): Promise<Home> {
    this.#setHome(actorId, this.#ask(actorId));
    return this.#homes.get(actorId)!;
  }

  #ask(actorId: ActorId): Promise<Home> {
    return this.#host.head.findActor(actorId).then((found) => {
      if (!found) throw new RayActorError(`Actor ${actorId} is not known to the cluster`);
      const label = this.#names.has(actorId) ? `${this.#names.get(actorId)}(${actorId})` : actorId;
      if ("refused" in found) throw actorDead(label, found.refused);
      return homeOf(found);
    });
  }

  #setHome(actorId: ActorId, found: Promise<Home>): void {
    // An answer sent before the head saw the node die may be read after its notice.
    const home = found.then((h) => this.#deadNodes.has(h.nodeId) ? this.#ask(h.entry.actorId) : h);
    this.#homes.set(actorId, home);
    home.then((h) => {
      this.#retries.set(actorId, h.maxTaskRetries);
      if (this.#homes.get(actorId) === home) this.#settled.set(actorId, h);
    }, () => this.#settled.delete(actorId));
  }
}

function homeOf(found: FoundActor): Home {
  const { nodeId, address, entry } = found;
  return { nodeId, address, entry, maxTaskRetries: found.maxTaskRetries ?? 0 };
}

/** The hosting node's side of `msg`. */
export function hostActor(msg: ActorMessage, host: RemoteActorsHost, local: ActorBackend): void {
  const side = host.side();
  switch (msg.kind) {
    case "create":
      for (const d of msg.spec.deps) if (side.isMissing(d)) host.need(d);
      if (!msg.spec.settings.detached) host.hosted(msg.owner, msg.spec.actorId);
      local.create(msg.spec);
      return;
    case "call":
      host.placedHere(msg.call.taskId, msg.owner, msg.call.numReturns);
      side.callActor(msg.call, holderOf(msg.owner));
      return;
    case "kill":
      local.kill(msg.actorId, msg.noRestart).catch(() => {});
      return;
  }
}

/** A call as a task spec (for its records and failures). */
function callSpec(call: ActorCall, clsName: string): TaskSpec {
  return {
    taskId: call.taskId,
    fn: { moduleUrl: "", key: call.method, name: `${clsName}.${call.method}` },
    args: call.args,
    deps: call.deps,
    argRefs: call.argRefs,
    options: {
      numReturns: call.numReturns,
      numCpus: 0,
      resources: {},
      maxRetries: 0,
      retryExceptions: false,
      schedulingStrategy: "DEFAULT",
    },
    attempt: 0,
  };
}
