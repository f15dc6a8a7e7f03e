/**
 * `rayd microbenchmark [--json] [--filter REGEX] [--quick]`: the benchmark
 * suite of docs/BENCHMARKS.md.
 * The suite itself is scripts/bench/suite.ts.
 *
 * @module
 */
import { limitPositionals, parseFlags, stringFlag } from "./_args.ts";
import { type Command, usageError } from "./_command.ts";
import { METRIC_NAMES, runSuite } from "../scripts/bench/suite.ts";

/** What `rayd microbenchmark` was asked for. */
export interface MicrobenchmarkArgs {
  /** Print the results as JSON instead of a table. */
  json: boolean;
  /** Run only the metrics whose names match. */
  filter?: RegExp;
  /** Shorten every run (smoke tests only). */
  quick: boolean;
}

/**
 * Parses the arguments of `rayd microbenchmark`.
 *
 * @param args everything after `microbenchmark`
 * @returns the output format
 * @example
 * ```ts
 * const bench = parseMicrobenchmarkArgs(["--json", "--filter", "^single_client"]);
 * console.assert(bench.json && bench.filter?.test("single_client_put_calls"));
 * ```
 */
export function parseMicrobenchmarkArgs(args: string[]): MicrobenchmarkArgs {
  const { values, positionals } = parseFlags(args, {
    json: { type: "boolean" },
    filter: { type: "string" },
    quick: { type: "boolean" },
  });
  limitPositionals(positionals, 0);
  const raw = stringFlag(values, "filter");
  let filter: RegExp | undefined;
  try {
    filter = raw === undefined ? undefined : new RegExp(raw);
  } catch (error) {
    throw usageError(`invalid value for --filter: ${(error as Error).message}`);
  }
  if (filter && !METRIC_NAMES.some((name) => filter.test(name))) {
    throw usageError(`invalid value for --filter: "${raw}" matches no metric`);
  }
  return { json: values.json === true, filter, quick: values.quick === true };
}

/** `rayd microbenchmark`. */
export const microbenchmarkCommand: Command = {
  name: "microbenchmark",
  summary: "Run the benchmark suite",
  help: `Usage: rayd microbenchmark [--json] [--filter REGEX] [--quick]

Runs the benchmark suite (tasks/s, puts and gets, actor calls, ...) on an
embedded cluster and prints a table, one metric a line.

Options:
  --json          print one JSON object instead of the table
  --filter REGEX  run only the metrics whose names match REGEX
  --quick         shorten every run (smoke tests only; quote only full runs)
  -h, --help      show this help`,
  run: async (args, io) => {
    const parsed = parseMicrobenchmarkArgs(args);
    const report = await runSuite({ ...parsed, out: (line) => io.out(line) });
    const failed = Object.values(report.results).some((r) => "error" in r);
    return failed ? 1 : 0;
  },
};
