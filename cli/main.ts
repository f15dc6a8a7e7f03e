/**
 * `rayd`: the one program that runs every role of a rayd cluster. This file
 * only dispatches: each command lives in its own file beside it.
 *
 * ```sh
 * rayd --help
 * rayd run job.ts --address 10.0.0.1:6380 -- --rounds 3
 * ```
 *
 * @module
 */
import denoConfig from "../deno.json" with { type: "json" };
import {
  CliError,
  type CliIo,
  type Command,
  consoleIo,
  FAILURE_EXIT_CODE,
  usageError,
} from "./_command.ts";
import { graphCommand } from "./graph.ts";
import { listCommand } from "./list.ts";
import { microbenchmarkCommand } from "./microbenchmark.ts";
import { runCommand } from "./run.ts";
import { startCommand } from "./start.ts";
import { statusCommand } from "./status.ts";
import { stopCommand } from "./stop.ts";
import { timelineCommand } from "./timeline.ts";

export type { CliIo, Command } from "./_command.ts";

/** The version of rayd, from deno.json. */
export const VERSION: string = denoConfig.version;

/** Every command, in the order `rayd --help` lists them. */
export const COMMANDS: readonly Command[] = [
  startCommand,
  runCommand,
  stopCommand,
  statusCommand,
  listCommand,
  timelineCommand,
  graphCommand,
  microbenchmarkCommand,
];

/**
 * Runs `rayd` with `args` (without the program name) and returns the exit
 * code: 0 on success, 2 for a bad command line or a command not available yet,
 * 1 when the work fails, otherwise what the command returns. Every failure is
 * reported as one line on `io.err`, never as a stack trace.
 *
 * @param args the command line, e.g. `["run", "job.ts"]`
 * @param io where messages go (default: standard output and error)
 * @returns the exit code
 * @example
 * ```ts
 * const code = await main(["--version"]);
 * console.assert(code === 0);
 * ```
 */
export async function main(args: string[], io: CliIo = consoleIo): Promise<number> {
  const [first, ...rest] = args;
  if (first === undefined) {
    io.err(overview());
    return 2;
  }
  if (first === "-h" || first === "--help") {
    io.out(overview());
    return 0;
  }
  if (first === "-V" || first === "--version") {
    io.out(`rayd ${VERSION}`);
    return 0;
  }
  if (first === "help") return help(rest, io);
  const command = COMMANDS.find((c) => c.name === first);
  if (command === undefined) {
    const what = first.startsWith("-") ? "flag" : "command";
    return report("rayd", usageError(`unknown ${what}: ${first}`), io);
  }
  if (asksForHelp(rest)) {
    io.out(command.help);
    return 0;
  }
  try {
    return await command.run(rest, io);
  } catch (error) {
    return report(`rayd ${command.name}`, error, io);
  }
}

/** `rayd help [command]`. */
function help(args: string[], io: CliIo): number {
  if (args.length === 0) {
    io.out(overview());
    return 0;
  }
  const command = COMMANDS.find((c) => c.name === args[0]);
  if (command === undefined) {
    return report("rayd help", usageError(`unknown command: ${args[0]}`), io);
  }
  if (args.length > 1) {
    return report("rayd help", usageError(`unexpected argument: ${args[1]}`), io);
  }
  io.out(command.help);
  return 0;
}

/** Whether `-h` or `--help` comes before any `--`. */
function asksForHelp(args: string[]): boolean {
  const end = args.indexOf("--");
  return (end === -1 ? args : args.slice(0, end)).some((a) => a === "-h" || a === "--help");
}

/**
 * Prints an error as one line and returns its exit code: a CliError's own, 1
 * for anything else (a failure of the work, named by its class when it has one).
 */
function report(prefix: string, error: unknown, io: CliIo): number {
  if (!(error instanceof CliError)) {
    const text = error instanceof Error
      ? (error.name === "Error" ? "" : `${error.name}: `) + error.message
      : String(error);
    io.err(`${prefix}: ${text.trim().replace(/\s*\n\s*/g, " ")}`);
    return FAILURE_EXIT_CODE;
  }
  const hint = error.showHelpHint
    ? ` (see "${prefix === "rayd help" ? "rayd" : prefix} --help")`
    : "";
  io.err(`${prefix}: ${error.message}${hint}`);
  return error.exitCode;
}

/** The text of `rayd --help`. */
function overview(): string {
  const width = Math.max(...COMMANDS.map((c) => c.name.length)) + 2;
  const lines = COMMANDS.map((c) => `  ${c.name.padEnd(width)}${c.summary}`);
  return `rayd ${VERSION}: a Ray-style distributed task engine for Deno

Usage: rayd <command> [options]
       rayd help [<command>]
       rayd --version

Commands:
${lines.join("\n")}

Run "rayd <command> --help" for the options of one command.

Exit status: 0 on success, 1 when the work fails (a file, the control store),
2 for a bad command line; errors are reported as one line on standard error.`;
}

if (import.meta.main) {
  Deno.exit(await main(Deno.args));
}
