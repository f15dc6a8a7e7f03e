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
  type ActorId,
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
import type { CodeRefs } from "./messages.ts";
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
  /** Results of `spec` (a call of `actorId`) will come like a forwarded task's. */
  expect(spec: TaskSpec, actorId: ActorId): void;
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

/** Where a driver's actor lives. */
interface Home {
  readonly nodeId: NodeId;
  readonly address: string;
  readonly entry: ActorEntry;
}

/** `actorCreate` / `actorCall` / `actorKill` as sent. */
export type ActorMessage =
  | {
    readonly kind: "create";
    readonly owner: string;
    readonly spec: ActorCreateSpec;
    /** The code graph of the class's module (see code_shipping.ts). */
    readonly code?: CodeRefs;
  }
  | { readonly kind: "call"; readonly owner: string; readonly call: ActorCall }
  | { readonly kind: "kill"; readonly actorId: ActorId; readonly noRestart: boolean };

/** The caller's side: every actor it creates or looks up lives on a node the head knows. */
export class RemoteActors implements ActorBackend, ActorsElsewhere {
  readonly #host: RemoteActorsHost;
  readonly #homes = new Map<ActorId, Promise<Home>>();
  readonly #names = new Map<ActorId, string>();

  constructor(host: RemoteActorsHost) {
    this.#host = host;
  }

  create(spec: ActorCreateSpec): ActorEntry | undefined {
    const entry: ActorEntry = { actorId: spec.actorId, cls: spec.cls, methods: spec.methods };
    const { settings } = spec;
    const jobId = spec.jobId ?? this.#host.side().jobId; // its creator's job on every node
    const wire = this.#host.wireArgs({ ...spec, jobId }, spec.argRefs);
    const here = this.#host.address;
    const home = this.#host.head.placeActor({
      entry,
      owner: this.#host.address,
      detached: settings.detached,
      demand: demandOf(settings.numCpus, settings.resources),
      name: settings.name,
      namespace: settings.namespace,
    }).then((d) => {
      if (d.type !== "place") {
        throw new RayActorError(`Actor ${spec.cls.name} cannot be placed: ${d.reason}`);
      }
      if (d.address === here) this.#host.createHere({ ...spec, jobId });
      else {this.#host.send(d.address, MSG.actor, {
          kind: "create",
          owner: this.#host.address,
          spec: wire,
        });}
      return { nodeId: d.nodeId, address: d.address, entry };
    });
    home.catch(() => {}); // seen by each call
    this.#homes.set(spec.actorId, home);
    this.#names.set(spec.actorId, spec.cls.name);
    return entry;
  }

  call(call: ActorCall): ObjectRef[] {
    const spec = callSpec(call, this.#names.get(call.actorId) ?? "Actor");
    const refs: ObjectRef[] = [];
    for (let i = 0; i < call.numReturns; i++) refs.push(new ObjectRef(objectIdOf(call.taskId, i)));
    const home = this.#homes.get(call.actorId) ?? this.#find(call.actorId);
    const wire = this.#host.wireArgs(call, call.argRefs);
    this.#host.expect(spec, call.actorId);
    home.then(
      (h) => {
        this.#host.expectAt(call.taskId, h.nodeId, h.address);
        this.#host.send(h.address, MSG.actor, {
          kind: "call",
          owner: this.#host.address,
          call: wire,
        });
      },
      (err) => this.#host.failExpected(spec, err),
    );
    return refs;
  }

  async kill(actorId: ActorId, noRestart: boolean): Promise<void> {
    const home = await this.#homes.get(actorId)?.catch(() => undefined);
    if (home) this.#host.send(home.address, MSG.actor, { kind: "kill", actorId, noRestart });
  }

  async lookup(name: string, namespace?: string): Promise<ActorEntry | undefined> {
    const found = await this.#host.head.lookupActor(name, namespace ?? "default");
    if (!found) return undefined;
    const home = Promise.resolve({
      nodeId: found.nodeId,
      address: found.address,
      entry: found.entry,
    });
    this.#homes.set(found.entry.actorId, home);
    this.#names.set(found.entry.actorId, found.entry.cls.name);
    return found.entry;
  }

  /** True when `actorId` lives on another node the head knows (asked once, then remembered). */
  async actorElsewhere(actorId: ActorId): Promise<boolean> {
    const home = this.#homes.get(actorId) ?? this.#find(actorId);
    return await home.then((h) => h.address !== this.#host.address, () => false);
  }

  /** A call of a worker here to an actor of another node: its results come here. */
  callViaNode(call: ActorCall): void {
    this.call(call);
  }

  /** An actor whose handle came in a value: asks the head where it lives. */
  #find(actorId: ActorId): Promise<Home> {
    const home = this.#host.head.findActor(actorId).then((found) => {
      if (!found) throw new RayActorError(`Actor ${actorId} is not known to the cluster`);
      return { nodeId: found.nodeId, address: found.address, entry: found.entry };
    });
    this.#homes.set(actorId, home);
    return home;
  }
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
