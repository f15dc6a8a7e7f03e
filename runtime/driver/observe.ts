/**
 * The driver's views of its job: `timeline` (Chrome trace events) and
 * `graph` (Graphviz DOT or SVG).
 *
 * @module
 */
import type { ObjectRef } from "../core/mod.ts";
import type { GraphOptions, TraceEvent } from "../observability/mod.ts";
import { driverNode, engine } from "./session.ts";

/**
 * Chrome trace events of the job's finished tasks (open them in Perfetto or
 * chrome://tracing): a row per worker, a slice per task with its id, outcome,
 * wait before it ran and argument sizes when known.
 *
 * @param path when given, the events are also written there as JSON
 * @returns the events
 */
export async function timeline(path?: string): Promise<TraceEvent[]> {
  const n = driverNode("timeline");
  const { timelineOf } = await engine();
  await n.flushRecords(); // in cluster mode the nodes' records too
  const events = await timelineOf(n.gcs, { jobId: n.jobId });
  if (path !== undefined) await Deno.writeTextFile(path, JSON.stringify(events));
  return events;
}

/**
 * The job's computation graph so far, as Graphviz DOT: `op-root` for the
 * driver, a box per task, an oval per object, dashed edges for "launched",
 * solid edges for "produced / consumed". Past `collapseAbove` tasks (default
 * 60), tasks of one function at one depth are drawn as one box with a count.
 *
 * @param options when to collapse
 * @returns DOT text (render it with `rayd graph --from FILE.dot -o FILE.svg`)
 */
export async function graph(options: GraphCallOptions = {}): Promise<string> {
  const n = driverNode("graph");
  const format = options.format ?? "dot";
  if (format !== "dot" && format !== "svg") {
    throw new TypeError(`Invalid graph format: expected "dot" or "svg", got "${format}"`);
  }
  const { graphOf, renderSvg } = await engine();
  await n.flushRecords(); // in cluster mode the nodes' records too
  const dot = await graphOf(n.gcs, {
    collapseAbove: options.collapseAbove,
    objects: options.refs?.map((r) => r.id),
    jobId: n.jobId,
  });
  return format === "svg" ? await renderSvg(dot) : dot;
}

/** Options of `graph`. */
export interface GraphCallOptions extends Pick<GraphOptions, "collapseAbove"> {
  /** Only the part behind these refs: their tasks, what those depended on, what they launched. */
  refs?: readonly ObjectRef<unknown>[];
  /** `"dot"` (default) or `"svg"`: laid out by Graphviz (WebAssembly). */
  format?: "dot" | "svg";
}
