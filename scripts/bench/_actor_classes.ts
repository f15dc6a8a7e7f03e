/**
 * The actor class and the caller task that the actor metrics use. Declared
 * at the top level so that workers can import them; until rayd has actors,
 * importing this module throws rayd's "Not implemented yet" error, which the
 * suite reports as a skipped metric. Private to scripts/bench/.
 *
 * @module
 */
import * as ray from "../../mod.ts";

/** A remote method call: `handle.noop.remote()`. */
export interface BenchActorMethod {
  /** Submits the call; returns its ref at once. */
  remote(): ray.ObjectRef<number>;
}

/** A handle to a BenchActor, as `ray.remote(class)` returns (docs/API.md, "Actors"). */
export interface BenchActorHandle {
  /** The no-op method. */
  readonly noop: BenchActorMethod;
}

/** What `ray.remote(class)` gives: `.remote()` creates an actor. */
export interface BenchActorClass {
  /** Creates one actor; returns its handle at once. */
  remote(): BenchActorHandle;
}

// The API's `remote` is typed for functions today; actors are typed here by
// what docs/API.md promises, so this file needs no change when they land.
const remoteClass = ray.remote as unknown as (cls: new () => object) => BenchActorClass;

/** An actor with one no-op method: the unit of every actor metric. */
export const BenchActor: BenchActorClass = remoteClass(
  class BenchActor {
    /** Does nothing and returns 0. */
    noop(): number {
      return 0;
    }
  },
);

/** One caller of n_n_actor_calls_async: `calls` calls spread round-robin over `actors`, then a get of all. */
export const actorCaller = ray.remote(
  async function actorCaller(actors: BenchActorHandle[], calls: number) {
    const refs = [];
    for (let i = 0; i < calls; i++) refs.push(actors[i % actors.length].noop.remote());
    await ray.get(refs);
    return calls;
  },
);
