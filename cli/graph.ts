/**
 * `rayd graph`: the computation graph as Graphviz DOT or SVG, read from a
 * control store in Redis, or rendered from a DOT file a driver wrote with
 * `ray.graph()`.
 *
 * @module
 */
import {
  limitPositionals,
  parseAddress,
  parseFlags,
  parsePositiveInt,
  parseRedisUrl,
  stringFlag,
} from "./_args.ts";
import { CliError, type Command, fileError, usageError, writeOutput } from "./_command.ts";
import { openControlStore } from "./_control_store.ts";
import type { JobId } from "../runtime/common/mod.ts";
import type { ControlStore } from "../runtime/gcs/mod.ts";
import { graphOf, renderSvg } from "../runtime/observability/mod.ts";

/** What `rayd graph` was asked for. */
export interface GraphArgs {
  /** File to write; none = standard output. */
  output?: string;
  /** `svg` or `dot`, from the output file's extension (`dot` on standard output). */
  format: "svg" | "dot";
  /** A DOT file to render instead of reading a control store (`-` = standard input). */
  from?: string;
  /** `HOST:PORT` of a head node to ask. */
  address?: string;
  /** Redis holding the control store. */
  redisAddress?: string;
  /** The job to draw (default: the newest job in the store). */
  job?: string;
  /** Collapse past this many tasks (default: the `graphCollapseAbove` setting). */
  collapseAbove?: number;
}

/**
 * Parses the arguments of `rayd graph`.
 *
 * @param args everything after `graph`
 * @returns where to read the graph from, where to write it, and in which format
 * @example
 * ```ts
 * console.assert(parseGraphArgs(["-o", "graph.svg"]).format === "svg");
 * ```
 */
export function parseGraphArgs(args: string[]): GraphArgs {
  const { values, positionals } = parseFlags(args, {
    output: { type: "string", short: "o" },
    from: { type: "string" },
    address: { type: "string" },
    "redis-address": { type: "string" },
    job: { type: "string" },
    "collapse-above": { type: "string" },
  });
  limitPositionals(positionals, 0);
  const parsed: GraphArgs = { format: "dot" };
  const output = stringFlag(values, "output");
  if (output !== undefined) {
    const extension = /\.(svg|dot)$/i.exec(output)?.[1].toLowerCase();
    if (extension !== "svg" && extension !== "dot") {
      throw usageError(`invalid value for --output: expected a .svg or .dot file, got "${output}"`);
    }
    Object.assign(parsed, { output, format: extension });
  }
  const from = stringFlag(values, "from");
  const address = stringFlag(values, "address");
  const redis = stringFlag(values, "redis-address");
  if ([from, address, redis].filter((v) => v !== undefined).length > 1) {
    throw usageError("pass one of --from, --address, --redis-address");
  }
  if (from !== undefined) parsed.from = from;
  if (address !== undefined) parsed.address = parseAddress("--address", address);
  if (redis !== undefined) parsed.redisAddress = parseRedisUrl("--redis-address", redis);
  const job = stringFlag(values, "job");
  if (job !== undefined) parsed.job = job;
  const collapse = stringFlag(values, "collapse-above");
  if (collapse !== undefined) parsed.collapseAbove = parsePositiveInt("--collapse-above", collapse);
  if ((job !== undefined || collapse !== undefined) && from !== undefined) {
    throw usageError("--job and --collapse-above read a control store: not with --from");
  }
  return parsed;
}

/** The DOT text the arguments name: a file's, or a job's from the control store. */
async function readDot(args: GraphArgs): Promise<string> {
  if (args.from !== undefined) {
    try {
      return args.from === "-"
        ? await new Response(Deno.stdin.readable).text()
        : await Deno.readTextFile(args.from);
    } catch (err) {
      throw fileError("read", args.from, err);
    }
  }
  const store = await openControlStore(args);
  try {
    const jobId = await jobOf(store, args.job);
    return await graphOf(store, { jobId, collapseAbove: args.collapseAbove });
  } finally {
    await store.close();
  }
}

/** The SVG of `dot`; DOT text that Graphviz rejects is a failure naming the file. */
async function svgOf(dot: string, from: string | undefined): Promise<string> {
  try {
    return await renderSvg(dot);
  } catch (err) {
    const source = from === undefined ? "the graph" : from === "-" ? "standard input" : from;
    const why = ((err as Error).cause as Error | undefined)?.message ?? (err as Error).message;
    throw new CliError(`cannot render ${source}: Graphviz rejected the DOT text (${why.trim()})`, {
      exitCode: 1,
      cause: err,
    });
  }
}

/**
 * The job to show: the one asked for, else the newest in the store.
 *
 * @param store the control store
 * @param job the job id given on the command line
 * @returns the job id, or `undefined` when the store has no job
 * @throws CliError (exit code 2) when the job asked for is not in the store
 */
export async function jobOf(store: ControlStore, job?: string): Promise<JobId | undefined> {
  if (job !== undefined) {
    if (await store.getJob(job as JobId) !== undefined) return job as JobId;
    throw new CliError(`invalid value for --job: no job "${job}" in the control store`);
  }
  return (await store.listJobs({ limit: 1 }))[0]?.jobId;
}

/** `rayd graph`. */
export const graphCommand: Command = {
  name: "graph",
  summary: "Write the computation graph as Graphviz DOT or SVG",
  help: `Usage: rayd graph [--redis-address URL [--job ID] [--collapse-above N] | --from FILE.dot]
                  [-o FILE.svg|FILE.dot]

Writes the computation graph: tasks as boxes, objects as ovals, the driver as
op-root, dashed edges for "launched", solid edges for "produced / consumed".
SVG is laid out by Graphviz (compiled to WebAssembly; nothing to install).

The graph is read from the control store in Redis (a driver keeps it there
with init({ redisAddress })), or from a DOT file that a driver wrote with
ray.graph(). An embedded cluster's in-memory state lives only inside its
driver process: call ray.graph() there.

Options:
  -o, --output FILE       write to FILE: SVG for .svg, DOT text for .dot
                          (default: DOT text on standard output)
  --redis-address URL     read the control store from the Redis at URL
  --address HOST:PORT     ask the head node at HOST:PORT
  --job ID                the job to draw (default: the newest)
  --collapse-above N      past N tasks, draw one box per function and depth
  --from FILE             render the DOT in FILE (- = standard input)
  -h, --help              show this help`,
  run: async (args, io) => {
    const parsed = parseGraphArgs(args);
    if (parsed.from === undefined && parsed.redisAddress === undefined && !parsed.address) {
      throw usageError(
        "nothing to read: pass --redis-address URL, or --from FILE.dot " +
          "(written by ray.graph() in the driver)",
      );
    }
    const dot = await readDot(parsed);
    const text = parsed.format === "svg" ? await svgOf(dot, parsed.from) : dot;
    if (parsed.output === undefined) {
      io.out(text.trimEnd());
      return 0;
    }
    await writeOutput(parsed.output, text);
    io.err(`wrote ${parsed.output} (${parsed.format.toUpperCase()}, ${text.length} bytes)`);
    return 0;
  },
};
