/**
 * The text of the error in an error frame, as the control store keeps it for
 * `rayd list tasks`, the dashboard and the timeline; and the error of an
 * infeasible task. Private to node/.
 *
 * @module
 */
import { fromFrame } from "../core/mod.ts";
import type { SharedArena } from "../object_store/mod.ts";
import { type Frame, taskName, type TaskSpec } from "../protocol/mod.ts";
import { infeasibleTask, type RayError } from "../common/mod.ts";

/**
 * `Name: message` of the error `frame` holds (a RayTaskError's message
 * carries the remote stack), or `undefined` when it holds a value.
 *
 * @param frame an error frame (decoded only on failure, never on the success path)
 * @param arena the store a non-inline frame lives in
 * @returns the text
 */
export function errorText(frame: Frame, arena: SharedArena): string | undefined {
  try {
    fromFrame(frame, arena);
    return undefined;
  } catch (err) {
    return err instanceof Error ? `${err.name}: ${err.message}` : String(err);
  }
}

/** The error of a task asking for more of `resource` than `total` holds. */
export function infeasibleOn(
  spec: TaskSpec,
  resource: string,
  total: Readonly<Record<string, number>>,
): RayError {
  const want = resource === "CPU" ? spec.options.numCpus : spec.options.resources[resource];
  return infeasibleTask(taskName(spec), resource, want, total[resource] ?? 0);
}
