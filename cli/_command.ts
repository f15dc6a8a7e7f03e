/**
 * What every `rayd` command is: its help text and a `run` that returns an exit
 * code. Private to cli/.
 *
 * @module
 */

/** Where a command writes its own output; tests pass one that records lines. */
export interface CliIo {
  /** Writes one line (or block) to standard output. */
  out(text: string): void;
  /** Writes one line (or block) to standard error. */
  err(text: string): void;
}

/** The process's standard output and error. */
export const consoleIo: CliIo = {
  out: (text) => console.log(text),
  err: (text) => console.error(text),
};

/** One `rayd` subcommand. */
export interface Command {
  /** The word after `rayd`, e.g. `"run"`. */
  readonly name: string;
  /** One line shown in `rayd --help`. */
  readonly summary: string;
  /** The full text of `rayd <name> --help`: usage lines, then options. */
  readonly help: string;
  /**
   * Parses `args` (everything after the command name) and does the work.
   *
   * @param args the command's arguments
   * @param io where to write output
   * @returns the process exit code
   */
  run(args: string[], io: CliIo): Promise<number>;
}

/** Exit code for a bad command line or a command that is not available. */
export const USAGE_EXIT_CODE = 2;

/** Exit code for a command whose work failed (a file, the control store, ...). */
export const FAILURE_EXIT_CODE = 1;

/**
 * A failure that `rayd` reports as one line, `rayd <command>: <message>`, and
 * ends with `exitCode`.
 */
export class CliError extends Error {
  /** The exit code the process ends with. */
  readonly exitCode: number;
  /** Whether to point the user at `--help` after the message. */
  readonly showHelpHint: boolean;

  /**
   * Builds the error.
   *
   * @param message what went wrong, lower case after the `rayd <command>:` prefix
   * @param options exit code (default 2), whether to hint at `--help`, and the cause
   */
  constructor(
    message: string,
    options: { exitCode?: number; showHelpHint?: boolean; cause?: unknown } = {},
  ) {
    super(message, { cause: options.cause });
    this.name = "CliError";
    this.exitCode = options.exitCode ?? USAGE_EXIT_CODE;
    this.showHelpHint = options.showHelpHint ?? false;
  }
}

/**
 * A command line that cannot be understood: exit code 2 and a hint to read `--help`.
 *
 * @param message what is wrong, naming the offending flag or argument
 * @returns the error to throw
 */
export function usageError(message: string): CliError {
  return new CliError(message, { showHelpHint: true });
}

/**
 * A file the command was given that cannot be read or written: exit code 1.
 *
 * @param verb what the command tried
 * @param path the file
 * @param error what the file system said
 * @returns the error to throw
 */
export function fileError(verb: "read" | "write", path: string, error: unknown): CliError {
  // Deno's messages end with "readfile '<path>'", which the message names already.
  const detail = error instanceof Error
    ? error.message.replace(/: [a-z]+ '.*'$/, "")
    : String(error);
  return new CliError(`cannot ${verb} ${path}: ${detail}`, {
    exitCode: FAILURE_EXIT_CODE,
    cause: error,
  });
}

/**
 * Writes a command's output file.
 *
 * @param path the file given with `-o`
 * @param text what to write
 * @throws CliError with exit code 1 naming the file and the reason
 */
export async function writeOutput(path: string, text: string): Promise<void> {
  try {
    await Deno.writeTextFile(path, text);
  } catch (error) {
    throw fileError("write", path, error);
  }
}

/**
 * The failure of a command whose flags parse but whose work is not written yet.
 *
 * @returns never; always throws a CliError with exit code 2
 */
export function notImplemented(): never {
  throw new CliError(`not implemented yet (see README, "Status")`);
}
