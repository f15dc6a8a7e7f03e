/**
 * The actors a node hosts for other processes, as they were placed: a head
 * that restarted knows no actor, and learns them from the nodes' rejoins.
 *
 * @module
 */
import type { ActorId } from "../common/mod.ts";
import { demandOf } from "../scheduler/mod.ts";
import type { HostedActor } from "./messages.ts";
import type { ActorMessage } from "./remote_actors.ts";

/** Actors created here for other processes, until killed for good. */
export class HostedActors {
  readonly #actors = new Map<ActorId, HostedActor>();
  readonly #originOf: (url: string) => string;

  /** @param originOf a module's URL at its origin (a shipped class runs from a local mirror) */
  constructor(originOf: (url: string) => string) {
    this.#originOf = originOf;
  }

  /** Notes an `actor` message this node takes. */
  note(m: ActorMessage): void {
    if (m.kind === "kill" && m.noRestart) this.#actors.delete(m.actorId);
    if (m.kind !== "create") return;
    const { owner } = m;
    // As its creator named it (the head sends it again for a restart, shipping the code itself).
    const spec = {
      ...m.spec,
      cls: { ...m.spec.cls, moduleUrl: this.#originOf(m.spec.cls.moduleUrl) },
    };
    const { settings } = spec;
    this.#actors.set(spec.actorId, {
      entry: { actorId: spec.actorId, cls: spec.cls, methods: spec.methods },
      owner,
      detached: settings.detached,
      demand: demandOf(settings.numCpus, settings.resources),
      name: settings.name,
      namespace: settings.namespace,
      strategy: settings.schedulingStrategy,
      maxTaskRetries: settings.maxTaskRetries,
      spec: (settings.maxRestarts ?? 0) === 0 ? undefined : spec,
    });
  }

  /** What a rejoin tells the head. */
  list(): HostedActor[] {
    return [...this.#actors.values()];
  }
}
