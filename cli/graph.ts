/**
 * `rayd graph [-o file.svg|file.dot]`: the computation graph as Graphviz DOT
 * or SVG. The command line is checked; the work is later work.
 *
 * @module
 */
import { limitPositionals, parseFlags, stringFlag } from "./_args.ts";
import { type Command, notImplemented, usageError } from "./_command.ts";

/** What `rayd graph` was asked for. */
export interface GraphArgs {
  /** File to write; none = DOT text on standard output. */
  output?: string;
  /** `svg` or `dot`, from the output file's extension (`dot` on standard output). */
  format: "svg" | "dot";
}

/**
 * Parses the arguments of `rayd graph`.
 *
 * @param args everything after `graph`
 * @returns where to write the graph, and in which format
 * @example
 * ```ts
 * console.assert(parseGraphArgs(["-o", "graph.svg"]).format === "svg");
 * ```
 */
export function parseGraphArgs(args: string[]): GraphArgs {
  const { values, positionals } = parseFlags(args, { output: { type: "string", short: "o" } });
  limitPositionals(positionals, 0);
  const output = stringFlag(values, "output");
  if (output === undefined) return { format: "dot" };
  const extension = /\.(svg|dot)$/i.exec(output)?.[1].toLowerCase();
  if (extension !== "svg" && extension !== "dot") {
    throw usageError(`invalid value for --output: expected a .svg or .dot file, got "${output}"`);
  }
  return { output, format: extension };
}

/** `rayd graph`. */
export const graphCommand: Command = {
  name: "graph",
  summary: "Write the computation graph as Graphviz DOT or SVG",
  help: `Usage: rayd graph [-o FILE.svg|FILE.dot]

Writes the computation graph: tasks as boxes, objects as ovals, the driver as
op-root, dashed edges for "submitted", solid edges for "produced / consumed".

Options:
  -o, --output FILE  write to FILE: SVG for .svg, DOT text for .dot
                     (default: DOT text on standard output)
  -h, --help         show this help`,
  run: (args) => {
    parseGraphArgs(args);
    return notImplemented();
  },
};
