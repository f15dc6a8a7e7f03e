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
  parsePositiveInt,
  parseRedisUrl,
  stringFlag,
} from "./_args.ts";
import { type Command, usageError } from "./_command.ts";
import { openControlStore } from "./_control_store.ts";
import { formatTable } from "./_table.ts";
import {
  ACTOR_STATES,
  type ControlStore,
  NODE_STATES,
  OBJECT_STATES,
  TASK_STATES,
} from "../runtime/gcs/mod.ts";

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
  /** Only records in this state (one of the kind's `LIST_STATES`; given in any case). */
  state?: string;
  /** At most this many records. */
  limit?: number;
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
    state: { type: "string" },
    limit: { type: "string" },
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
  const limit = stringFlag(values, "limit");
  return {
    kind: kind as ListArgs["kind"],
    address: address === undefined ? undefined : parseAddress("--address", address),
    redisAddress: redisAddress === undefined
      ? undefined
      : parseRedisUrl("--redis-address", redisAddress),
    format: parseChoice("--format", stringFlag(values, "format") ?? "table", ["table", "json"]),
    state: parseState(kind as ListArgs["kind"], stringFlag(values, "state")),
    limit: limit === undefined ? undefined : parsePositiveInt("--limit", limit),
  };
}

/** The states records of each kind can be in: what `--state` accepts. */
export const LIST_STATES: Record<ListArgs["kind"], readonly string[]> = {
  nodes: NODE_STATES,
  workers: NODE_STATES,
  tasks: TASK_STATES,
  objects: OBJECT_STATES,
  actors: ACTOR_STATES,
};

function parseState(kind: ListArgs["kind"], raw: string | undefined): string | undefined {
  if (raw === undefined) return undefined;
  return parseChoice(`--state (${kind})`, raw.toLowerCase(), LIST_STATES[kind]);
}

const COLUMNS: Record<ListArgs["kind"], string[]> = {
  nodes: ["nodeId", "state", "address", "numWorkers", "resources"],
  workers: ["workerId", "nodeId", "state", "startedAt"],
  tasks: ["taskId", "name", "state", "attempt", "workerId", "ms", "error"],
  objects: ["objectId", "state", "size", "owner", "locations"],
  actors: ["actorId", "className", "name", "state", "restarts"],
};

/** Reads the records `args` asks for. */
export async function listRecords(
  store: ControlStore,
  args: ListArgs,
): Promise<Record<string, unknown>[]> {
  const filter = { state: args.state as never, limit: args.limit };
  switch (args.kind) {
    case "nodes":
      return (await store.listNodes(filter)) as unknown as Record<string, unknown>[];
    case "workers":
      return (await store.listWorkers(filter)) as unknown as Record<string, unknown>[];
    case "objects":
      return (await store.listObjects(filter)) as unknown as Record<string, unknown>[];
    case "actors":
      return (await store.listActors(filter)) as unknown as Record<string, unknown>[];
    case "tasks":
      return (await store.listTasks(filter)).map((t) => ({
        ...t,
        args: undefined,
        ms: t.endedAt !== undefined && t.submittedAt !== undefined
          ? t.endedAt - t.submittedAt
          : undefined,
      }));
  }
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
  --state STATE        only records in STATE (any case):
                         tasks: ${TASK_STATES.join(", ")}
                         actors: ${ACTOR_STATES.join(", ")}
                         nodes, workers: ${NODE_STATES.join(", ")}; objects: ${
    OBJECT_STATES.join(", ")
  }
  --limit N            at most N records, newest first (default 100)
  -h, --help           show this help`,
  run: async (args, io) => {
    const parsed = parseListArgs(args);
    const store = await openControlStore(parsed);
    try {
      const rows = await listRecords(store, parsed);
      io.out(
        parsed.format === "json"
          ? JSON.stringify(rows, null, 2)
          : formatTable(COLUMNS[parsed.kind], rows),
      );
      return 0;
    } finally {
      await store.close();
    }
  },
};
