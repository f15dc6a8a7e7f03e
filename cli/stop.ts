/**
 * `rayd stop`: stops the daemons that `rayd start` left running on this
 * machine. Each daemon is recorded by a pid file in the per-user runtime
 * folder; `stop` sends it SIGTERM (a daemon drains, then exits), waits, and
 * sends SIGKILL to what is still running after the timeout. A record whose
 * process is gone (or whose pid now belongs to another program) is removed.
 *
 * @module
 */
import {
  commandLineOf,
  type DaemonRecord,
  readDaemonRecords,
  runtimeDirPath,
} from "../runtime/common/mod.ts";
import { limitPositionals, parseFlags, parsePositiveInt, stringFlag } from "./_args.ts";
import type { CliIo, Command } from "./_command.ts";

/** What `rayd stop` was asked. */
export interface StopArgs {
  /** How long to wait after SIGTERM before SIGKILL. */
  timeoutMs: number;
}

/** How long `rayd stop` waits for a daemon to drain before it kills it. */
export const DEFAULT_STOP_TIMEOUT_MS = 10_000;

/**
 * Checks the arguments of `rayd stop`.
 *
 * @param args everything after `stop`
 * @returns the timeout
 */
export function parseStopArgs(args: string[]): StopArgs {
  const { values, positionals } = parseFlags(args, { "timeout-ms": { type: "string" } });
  limitPositionals(positionals, 0);
  const raw = stringFlag(values, "timeout-ms");
  return {
    timeoutMs: raw === undefined ? DEFAULT_STOP_TIMEOUT_MS : parsePositiveInt("--timeout-ms", raw),
  };
}

/** Whether process `pid` is the daemon `record` names (same pid, same command line). */
function isRunning(record: DaemonRecord): boolean {
  const command = commandLineOf(record.pid);
  if (command === undefined) {
    if (Deno.build.os === "linux") return false;
    try {
      Deno.kill(record.pid, "SIGCONT");
      return true;
    } catch {
      return false;
    }
  }
  return record.command === undefined || record.command === command;
}

function send(pid: number, signal: Deno.Signal): void {
  try {
    Deno.kill(pid, signal);
  } catch (e) {
    if (!(e instanceof Deno.errors.NotFound)) throw e;
  }
}

/**
 * Stops every daemon recorded in `dir`; writes one line per daemon.
 *
 * @param options the timeout, the runtime folder and where to write
 * @returns how many daemons were stopped
 */
export async function stopDaemons(
  options: { timeoutMs: number; dir?: string; io: CliIo },
): Promise<number> {
  const dir = options.dir ?? runtimeDirPath();
  const records = await readDaemonRecords(dir);
  const running: { path: string; record: DaemonRecord }[] = [];
  for (const { path, record } of records) {
    if (record && isRunning(record)) {
      running.push({ path, record });
    } else {
      await Deno.remove(path).catch(() => {});
      const what = record ? `pid ${record.pid} is not running` : "it could not be read";
      options.io.err(`removed the stale record ${path} (${what})`);
    }
  }
  if (running.length === 0) {
    options.io.out(`no rayd daemons running on this machine (records in ${dir})`);
    return 0;
  }
  for (const { record } of running) send(record.pid, "SIGTERM");
  const deadline = Date.now() + options.timeoutMs;
  for (const { path, record } of running) {
    while (isRunning(record) && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    const killed = isRunning(record);
    if (killed) send(record.pid, "SIGKILL");
    await Deno.remove(path).catch(() => {});
    const how = killed ? `killed (still running ${options.timeoutMs} ms after SIGTERM)` : "stopped";
    options.io.out(`${how} ${record.role} ${record.address} (pid ${record.pid})`);
  }
  return running.length;
}

/** `rayd stop`. */
export const stopCommand: Command = {
  name: "stop",
  summary: "Stop the daemons that rayd start left running on this machine",
  help: `Usage: rayd stop [--timeout-ms MS]

Stops every rayd daemon that "rayd start" (without --block) left running on
this machine: SIGTERM (the daemon drains, then exits), then SIGKILL for any
still running after the timeout. Prints one line per daemon.

Options:
  --timeout-ms MS  how long to wait before SIGKILL (default ${DEFAULT_STOP_TIMEOUT_MS})
  -h, --help       show this help`,
  run: async (args, io) => {
    const { timeoutMs } = parseStopArgs(args);
    await stopDaemons({ timeoutMs, io });
    return 0;
  },
};
