/**
 * `rayd list nodes|workers|tasks|objects|actors`: state queries from the
 * control store. The command line is checked; the queries are later work.
 *
 * @module
 */
import {
  limitPositionals,
  parseAddress,
  parseChoice,
  parseFlags,
  parseRedisUrl,
  stringFlag,
} from "./_args.ts";
import { type Command, notImplemented, usageError } from "./_command.ts";

/** The kinds of state `rayd list` shows. */
export const LIST_KINDS = ["nodes", "workers", "tasks", "objects", "actors"] as const;

/** What `rayd list` was asked to show. */
export interface ListArgs {
  /** Which table of the control store to list. */
  kind: typeof LIST_KINDS[number];
  /** `HOST:PORT` of a head node to ask. */
  address?: string;
  /** Redis holding the control store, read directly. */
  redisAddress?: string;
  /** Output format (default `table`). */
  format: "table" | "json";
}

/**
 * Parses the arguments of `rayd list`.
 *
 * @param args everything after `list`
 * @returns what to list, from where, in which format
 * @example
 * ```ts
 * const list = parseListArgs(["tasks", "--format", "json"]);
 * console.assert(list.kind === "tasks" && list.format === "json");
 * ```
 */
export function parseListArgs(args: string[]): ListArgs {
  const { values, positionals } = parseFlags(args, {
    address: { type: "string" },
    "redis-address": { type: "string" },
    format: { type: "string" },
  });
  const kind = positionals[0];
  if (!(LIST_KINDS as readonly (string | undefined)[]).includes(kind)) {
    const what = kind === undefined ? "missing what to list" : `cannot list "${kind}"`;
    throw usageError(`${what}: expected ${LIST_KINDS.join(" | ")}`);
  }
  limitPositionals(positionals, 1);
  const address = stringFlag(values, "address");
  const redisAddress = stringFlag(values, "redis-address");
  if (address !== undefined && redisAddress !== undefined) {
    throw usageError("pass --address or --redis-address, not both");
  }
  return {
    kind: kind as ListArgs["kind"],
    address: address === undefined ? undefined : parseAddress("--address", address),
    redisAddress: redisAddress === undefined
      ? undefined
      : parseRedisUrl("--redis-address", redisAddress),
    format: parseChoice("--format", stringFlag(values, "format") ?? "table", ["table", "json"]),
  };
}

/** `rayd list`. */
export const listCommand: Command = {
  name: "list",
  summary: "List nodes, workers, tasks, objects or actors from the control store",
  help: `Usage: rayd list nodes|workers|tasks|objects|actors
                 [--address HOST:PORT | --redis-address URL] [--format table|json]

Lists one kind of state kept in the cluster's control store.

Options:
  --address HOST:PORT  ask the head node at HOST:PORT
  --redis-address URL  read the control store from the Redis at URL (redis://host:port)
  --format FORMAT      table (default) or json
  -h, --help           show this help`,
  run: (args) => {
    parseListArgs(args);
    return notImplemented();
  },
};
