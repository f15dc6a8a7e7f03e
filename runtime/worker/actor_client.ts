/**
 * The actor half of a worker's Backend: creations, kills and lookups go to
 * the node at once; method calls are batched per turn of the event loop, in
 * submission order.
 *
 * @module
 */
import { config, runtimeShutDown } from "../common/mod.ts";
import type { ActorBackend } from "../core/mod.ts";
import type {
  ActorCall,
  ActorCreateSpec,
  ActorEntry,
  ActorId,
  FromWorker,
} from "../protocol/mod.ts";
import { callTuple } from "../protocol/mod.ts";

const CALL_BATCH = config("actorCallBatch");

/** A worker's route to the node's actor manager. */
export class ActorClient implements ActorBackend {
  readonly #post: (msg: FromWorker) => void;
  readonly #pending = new Map<number, PromiseWithResolvers<ActorEntry | undefined>>();
  #calls: ActorCall[] = [];
  #flushQueued = false;
  #nextReq = 1;

  /** @param post sends a message to the node */
  constructor(post: (msg: FromWorker) => void) {
    this.#post = post;
  }

  create(spec: ActorCreateSpec): undefined {
    this.flush();
    this.#post({ type: "actorCreate", spec });
    return undefined;
  }

  call(call: ActorCall): void {
    // Many calls at once (a loop of .remote()): send a batch now, so that the
    // node and the actors work while this caller is still submitting.
    if (this.#calls.push(call) >= CALL_BATCH) return this.flush();
    if (this.#flushQueued) return;
    this.#flushQueued = true;
    queueMicrotask(() => this.flush());
  }

  async kill(actorId: ActorId, noRestart: boolean): Promise<void> {
    this.flush();
    const { reqId, promise } = this.#request();
    this.#post({ type: "actorKill", reqId, actorId, noRestart });
    await promise;
  }

  lookup(name: string, namespace?: string): Promise<ActorEntry | undefined> {
    this.flush();
    const { reqId, promise } = this.#request();
    this.#post({ type: "actorLookup", reqId, name, namespace });
    return promise;
  }

  /** The node answered request `reqId`. */
  answered(reqId: number, entry: ActorEntry | undefined): void {
    this.#pending.get(reqId)?.resolve(entry);
    this.#pending.delete(reqId);
  }

  /** Sends the calls batched so far. */
  flush(): void {
    this.#flushQueued = false;
    if (this.#calls.length === 0) return;
    this.#post({ type: "actorCalls", calls: this.#calls.map(callTuple) });
    this.#calls = [];
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
