/**
 * The actor half of the Backend: where actor creations, method calls, kills
 * and lookups go (the node's actor manager in a driver, the node's main
 * thread by message in a worker).
 *
 * @module
 */
import type { ActorCall, ActorCreateSpec, ActorEntry, ActorId } from "../protocol/mod.ts";
import type { ObjectRef } from "./object_ref.ts";

/** Where actor operations go. */
export interface ActorBackend {
  /**
   * Creates an actor (never waits for its constructor). Where the answer is
   * known at once (in a driver), a taken name throws, and with `getIfExists`
   * the existing actor's entry is returned.
   */
  create(spec: ActorCreateSpec): ActorEntry | undefined;
  /**
   * Queues a method call (never waits). Returns its refs when the backend
   * makes them (a worker owns the results of its calls), else undefined.
   */
  call(call: ActorCall): ObjectRef[] | undefined;
  /** Ends the actor; with `noRestart` false it restarts if its budget allows. */
  kill(actorId: ActorId, noRestart: boolean): Promise<void>;
  /** The live actor named `name` in `namespace` (default: the job's). */
  lookup(name: string, namespace?: string): Promise<ActorEntry | undefined>;
}
