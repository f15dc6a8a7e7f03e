/**
 * The actor half of a worker's Backend: creations, kills and lookups go to
 * the node at once; method calls go straight to the actors through call
 * links (runtime/links/call_links.ts).
 *
 * @module
 */
import { type ActorId, runtimeShutDown } from "../common/mod.ts";
import type { ActorBackend, ObjectRef } from "../core/mod.ts";
import type { ActorCall, ActorCreateSpec, ActorEntry, FromWorker } from "../protocol/mod.ts";
import type { CallLinks } from "../links/mod.ts";

/** A worker's route to the node's actor manager. */
export class ActorClient implements ActorBackend {
  readonly #post: (msg: FromWorker) => void;
  readonly #links: CallLinks;
  readonly #pending = new Map<number, PromiseWithResolvers<ActorEntry | undefined>>();
  #nextReq = 1;

  /**
   * @param post sends a message to the node
   * @param links where method calls go
   */
  constructor(post: (msg: FromWorker) => void, links: CallLinks) {
    this.#post = post;
    this.#links = links;
  }

  create(spec: ActorCreateSpec): undefined {
    this.#post({ type: "actorCreate", spec });
    return undefined;
  }

  call(call: ActorCall): ObjectRef[] {
    return this.#links.call(call);
  }

  async kill(actorId: ActorId, noRestart: boolean): Promise<void> {
    // Calls made before the kill reach the actor first (they may still fail).
    this.#links.pump();
    const { reqId, promise } = this.#request();
    this.#post({ type: "actorKill", reqId, actorId, noRestart });
    await promise;
  }

  lookup(name: string, namespace?: string): Promise<ActorEntry | undefined> {
    const { reqId, promise } = this.#request();
    this.#post({ type: "actorLookup", reqId, name, namespace });
    return promise;
  }

  /** The node answered request `reqId`. */
  answered(reqId: number, entry: ActorEntry | undefined): void {
    this.#pending.get(reqId)?.resolve(entry);
    this.#pending.delete(reqId);
  }

  /** Rejects what still waits for the node. */
  shutdown(): void {
    for (const p of this.#pending.values()) p.reject(runtimeShutDown());
    this.#pending.clear();
  }

  #request(): { reqId: number; promise: Promise<ActorEntry | undefined> } {
    const reqId = this.#nextReq++;
    const p = Promise.withResolvers<ActorEntry | undefined>();
    this.#pending.set(reqId, p);
    return { reqId, promise: p.promise };
  }
}
