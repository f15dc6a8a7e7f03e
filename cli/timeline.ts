/**
 * `rayd timeline`: Chrome trace events of finished tasks, read from a
 * control store in Redis.
 *
 * @module
 */
import { limitPositionals, parseAddress, parseFlags, parseRedisUrl, stringFlag } from "./_args.ts";
import { type Command, usageError, writeOutput } from "./_command.ts";
import { openControlStore } from "./_control_store.ts";
import { jobOf } from "./graph.ts";
import { timelineOf } from "../runtime/observability/mod.ts";

/** What `rayd timeline` was asked for. */
export interface TimelineArgs {
  /** File to write the trace to; none = standard output. */
  output?: string;
  /** `HOST:PORT` of a head node to ask. */
  address?: string;
  /** Redis holding the control store. */
  redisAddress?: string;
  /** The job (default: the newest job in the store). */
  job?: string;
}

/**
 * Parses the arguments of `rayd timeline`.
 *
 * @param args everything after `timeline`
 * @returns where to read the tasks from and where to write the trace
 * @example
 * ```ts
 * console.assert(parseTimelineArgs(["-o", "trace.json"]).output === "trace.json");
 * ```
 */
export function parseTimelineArgs(args: string[]): TimelineArgs {
  const { values, positionals } = parseFlags(args, {
    output: { type: "string", short: "o" },
    address: { type: "string" },
    "redis-address": { type: "string" },
    job: { type: "string" },
  });
  limitPositionals(positionals, 0);
  const parsed: TimelineArgs = { output: stringFlag(values, "output") };
  const address = stringFlag(values, "address");
  const redis = stringFlag(values, "redis-address");
  if (address !== undefined && redis !== undefined) {
    throw usageError("pass --address or --redis-address, not both");
  }
  if (address !== undefined) parsed.address = parseAddress("--address", address);
  if (redis !== undefined) parsed.redisAddress = parseRedisUrl("--redis-address", redis);
  const job = stringFlag(values, "job");
  if (job !== undefined) parsed.job = job;
  return parsed;
}

/** `rayd timeline`. */
export const timelineCommand: Command = {
  name: "timeline",
  summary: "Write finished tasks as Chrome trace events (chrome://tracing, Perfetto)",
  help: `Usage: rayd timeline --redis-address URL [--job ID] [-o FILE]

Writes the finished tasks of a job as Chrome trace events (a row per worker, a
slice per task), for chrome://tracing or https://ui.perfetto.dev. The tasks
are read from the control store in Redis (a driver keeps it there with
init({ redisAddress })). An embedded cluster's in-memory state lives only
inside its driver process: call ray.timeline("trace.json") there.

Options:
  -o, --output FILE    write the trace to FILE instead of standard output
  --redis-address URL  read the control store from the Redis at URL
  --address HOST:PORT  ask the head node at HOST:PORT
  --job ID             the job (default: the newest)
  -h, --help           show this help`,
  run: async (args, io) => {
    const parsed = parseTimelineArgs(args);
    if (parsed.redisAddress === undefined && parsed.address === undefined) {
      throw usageError(
        'nothing to read: pass --redis-address URL, or call ray.timeline("trace.json") in the driver',
      );
    }
    const store = await openControlStore(parsed);
    let events;
    try {
      events = await timelineOf(store, { jobId: await jobOf(store, parsed.job) });
    } finally {
      await store.close();
    }
    const text = JSON.stringify(events);
    if (parsed.output === undefined) {
      io.out(text);
      return 0;
    }
    await writeOutput(parsed.output, text);
    const slices = events.filter((e) => e.ph === "X").length;
    io.err(`wrote ${parsed.output} (${slices} task slices)`);
    return 0;
  },
};
