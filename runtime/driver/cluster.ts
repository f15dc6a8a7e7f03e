/**
 * Calls about the cluster and its actors that work in the driver and inside
 * tasks alike: nodes, resources, named actors, killing an actor.
 *
 * @module
 */
import { actorNotFound } from "../common/mod.ts";
import { actorEntryOf, type ActorHandle, backend, handleOf } from "../core/mod.ts";
import type { NodeInfo } from "../node/mod.ts";

/** The cluster's nodes (also inside a task). */
export async function nodes(): Promise<NodeInfo[]> {
  return (await backend("nodes").clusterState()).nodes.map((n) => ({
    ...n,
    resources: { ...n.resources },
  }));
}

/** Total resources of the cluster (also inside a task). */
export async function clusterResources(): Promise<Record<string, number>> {
  return { ...(await backend("clusterResources").clusterState()).total };
}

/** Resources not held by running tasks (also inside a task). */
export async function availableResources(): Promise<Record<string, number>> {
  return { ...(await backend("availableResources").clusterState()).available };
}

/**
 * A handle to the live actor named `name` (in `namespace`, default the job's).
 * @throws RayError when there is none
 */
export async function getActor<T = any>(
  name: string,
  options: { namespace?: string } = {},
): Promise<ActorHandle<T>> {
  if (typeof name !== "string" || name === "") {
    throw new TypeError(`Cannot get actor: expected a non-empty name, got ${String(name)}`);
  }
  const entry = await backend("getActor").actors.lookup(name, options.namespace);
  if (!entry) throw actorNotFound(name, options.namespace);
  return handleOf<T>(entry);
}

/**
 * Ends an actor at once: its queued and running calls reject with
 * RayActorError. With `noRestart: false` it restarts if its `maxRestarts` allows.
 */
export async function kill(handle: object, options: { noRestart?: boolean } = {}): Promise<void> {
  const be = backend("kill");
  const { actorId } = actorEntryOf(handle, "kill");
  await be.actors.kill(actorId, options.noRestart ?? true);
}
