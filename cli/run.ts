/**
 * `rayd run script.ts [--address HOST:PORT] [-- args]`: runs a driver script in
 * a child Deno process with all permissions, passing stdio through and ending
 * with the script's exit code.
 *
 * @module
 */
import { limitPositionals, parseAddress, parseFlags, stringFlag } from "./_args.ts";
import { CliError, type Command, fileError, usageError } from "./_command.ts";

/** What `rayd run` was asked to do. */
export interface RunArgs {
  /** Path or URL of the driver script. */
  script: string;
  /** Cluster address, passed to the script as `RAYD_ADDRESS`; none = embedded cluster. */
  address?: string;
  /** Arguments after `--`, given to the script as `Deno.args`. */
  scriptArgs: string[];
}

/**
 * Parses the arguments of `rayd run`.
 *
 * @param args everything after `run`
 * @returns the script, the address and the script's own arguments
 * @example
 * ```ts
 * const run = parseRunArgs(["job.ts", "--address", "10.0.0.1:6380", "--", "-n", "3"]);
 * console.assert(run.address === "10.0.0.1:6380" && run.scriptArgs.length === 2);
 * ```
 */
export function parseRunArgs(args: string[]): RunArgs {
  const { values, positionals, rest } = parseFlags(args, { address: { type: "string" } });
  const script = positionals[0];
  if (script === undefined) throw usageError("missing the script to run");
  limitPositionals(positionals, 1, " (pass arguments for the script after --)");
  const raw = stringFlag(values, "address");
  const address = raw === undefined ? undefined : parseAddress("--address", raw);
  return { script, address, scriptArgs: rest };
}

/**
 * Runs the script in a child `deno run -A` and waits for it. SIGTERM is passed
 * on to the child; SIGINT is ignored here, since the terminal delivers it to
 * the child too, so `rayd` still ends with the child's own exit code.
 *
 * @param run what to run, from {@link parseRunArgs}
 * @returns the child's exit code (128 + signal number when a signal ended it)
 */
export async function runScript(run: RunArgs): Promise<number> {
  if (!/^[a-z][a-z0-9+.-]*:/i.test(run.script)) await assertScriptExists(run.script);
  const child = new Deno.Command(denoExecutable(), {
    args: ["run", "-A", run.script, ...run.scriptArgs],
    env: run.address === undefined ? undefined : { RAYD_ADDRESS: run.address },
    stdin: "inherit",
    stdout: "inherit",
    stderr: "inherit",
  }).spawn();
  const forwardTerm = () => {
    try {
      child.kill("SIGTERM");
    } catch {
      // The child has already exited; its status is on the way.
    }
  };
  const ignoreInt = () => {};
  const unix = Deno.build.os !== "windows";
  if (unix) Deno.addSignalListener("SIGTERM", forwardTerm);
  Deno.addSignalListener("SIGINT", ignoreInt);
  try {
    return (await child.status).code;
  } finally {
    if (unix) Deno.removeSignalListener("SIGTERM", forwardTerm);
    Deno.removeSignalListener("SIGINT", ignoreInt);
  }
}

/** The `deno` to run scripts with: this one, unless `rayd` is a compiled binary. */
function denoExecutable(): string {
  return Deno.build.standalone ? "deno" : Deno.execPath();
}

async function assertScriptExists(path: string): Promise<void> {
  try {
    const info = await Deno.stat(path);
    if (info.isFile) return;
  } catch (error) {
    if (!(error instanceof Deno.errors.NotFound)) throw fileError("read", path, error);
    throw new CliError(`script not found: ${path}`);
  }
  throw new CliError(`script is not a file: ${path}`);
}

/** `rayd run`. */
export const runCommand: Command = {
  name: "run",
  summary: "Run a driver script against a cluster, or an embedded one",
  help: `Usage: rayd run SCRIPT [--address HOST:PORT] [-- ARGS...]

Runs SCRIPT with "deno run -A". Without --address the script's ray.init() starts
an embedded single-node cluster inside it; with --address it joins that cluster
(the address reaches the script as RAYD_ADDRESS). Standard input and output pass
through, and rayd ends with the script's exit code once the script's work is
done (ray.shutdown() at its end is optional).

Options:
  --address HOST:PORT  head node of the cluster to join
  -- ARGS...           everything after -- is given to the script as Deno.args
  -h, --help           show this help`,
  run: (args) => runScript(parseRunArgs(args)),
};
