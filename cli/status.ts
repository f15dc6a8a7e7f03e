/**
 * `rayd status`: nodes, resources in use and queued tasks of the cluster. The
 * command line is checked; the work is later work.
 *
 * @module
 */
import { limitPositionals, parseFlags } from "./_args.ts";
import { type Command, notImplemented } from "./_command.ts";

/**
 * Checks the arguments of `rayd status`, which takes none.
 *
 * @param args everything after `status`
 */
export function parseStatusArgs(args: string[]): void {
  limitPositionals(parseFlags(args, {}).positionals, 0);
}

/** `rayd status`. */
export const statusCommand: Command = {
  name: "status",
  summary: "Show nodes, resources in use and queued tasks",
  help: `Usage: rayd status

Shows the cluster's nodes, the resources in use and the queued tasks.

Options:
  -h, --help  show this help`,
  run: (args) => {
    parseStatusArgs(args);
    return notImplemented();
  },
};
