/**
 * `rayd stop`: stops the daemons that `rayd start` left running on this
 * machine. The command line is checked; the work is later work.
 *
 * @module
 */
import { limitPositionals, parseFlags } from "./_args.ts";
import { type Command, notImplemented } from "./_command.ts";

/**
 * Checks the arguments of `rayd stop`, which takes none.
 *
 * @param args everything after `stop`
 */
export function parseStopArgs(args: string[]): void {
  limitPositionals(parseFlags(args, {}).positionals, 0);
}

/** `rayd stop`. */
export const stopCommand: Command = {
  name: "stop",
  summary: "Stop the daemons that rayd start left running on this machine",
  help: `Usage: rayd stop

Stops every rayd daemon that "rayd start" left running on this machine.

Options:
  -h, --help  show this help`,
  run: (args) => {
    parseStopArgs(args);
    return notImplemented();
  },
};
