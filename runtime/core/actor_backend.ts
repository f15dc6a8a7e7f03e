/**
 * The actor half of the Backend: where actor creations, kills and lookups
 * go (the node's actor manager in a driver, the node's main thread by
 * message in a worker), and method calls (call links, in both).
 *
 * @module
 */
import type { ActorId } from "../common/mod.ts";
import type { ActorCall, ActorCreateSpec, ActorEntry } from "../protocol/mod.ts";
import type { ObjectRef } from "./object_ref.ts";

/** Where actor operations go. */
export interface ActorBackend {
  /**
   * Creates an actor (never waits for its constructor). Where the answer is
   * known at once (in a driver), a taken name throws, and with `getIfExists`
   * the existing actor's entry is returned.
   */
  create(spec: ActorCreateSpec): ActorEntry | undefined;
  /** Makes a method call (never waits); returns its refs, one per return (owned by this thread). */
  call(call: ActorCall): ObjectRef[];
  /** Ends the actor; with `noRestart` false it restarts if its budget allows. */
  kill(actorId: ActorId, noRestart: boolean): Promise<void>;
  /** The live actor named `name` in `namespace` (default: the job's). */
  lookup(name: string, namespace?: string): Promise<ActorEntry | undefined>;
}
