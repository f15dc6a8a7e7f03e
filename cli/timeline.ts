/**
 * `rayd timeline [-o file]`: Chrome trace events of finished tasks. The
 * command line is checked; the work is later work.
 *
 * @module
 */
import { limitPositionals, parseFlags, stringFlag } from "./_args.ts";
import { type Command, notImplemented } from "./_command.ts";

/** What `rayd timeline` was asked for. */
export interface TimelineArgs {
  /** File to write the trace to; none = standard output. */
  output?: string;
}

/**
 * Parses the arguments of `rayd timeline`.
 *
 * @param args everything after `timeline`
 * @returns where to write the trace
 * @example
 * ```ts
 * console.assert(parseTimelineArgs(["-o", "trace.json"]).output === "trace.json");
 * ```
 */
export function parseTimelineArgs(args: string[]): TimelineArgs {
  const { values, positionals } = parseFlags(args, { output: { type: "string", short: "o" } });
  limitPositionals(positionals, 0);
  return { output: stringFlag(values, "output") };
}

/** `rayd timeline`. */
export const timelineCommand: Command = {
  name: "timeline",
  summary: "Write finished tasks as Chrome trace events (chrome://tracing, Perfetto)",
  help: `Usage: rayd timeline [-o FILE]

Writes the cluster's finished tasks as Chrome trace events, for chrome://tracing
or Perfetto.

Options:
  -o, --output FILE  write the trace to FILE instead of standard output
  -h, --help         show this help`,
  run: (args) => {
    parseTimelineArgs(args);
    return notImplemented();
  },
};
