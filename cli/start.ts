/**
 * `rayd start`: starts a head node (`--head`) or a node that joins a cluster
 * (`--address`). The flags are parsed and checked; the daemon is later work.
 *
 * @module
 */
import {
  limitPositionals,
  parseAddress,
  parseFlags,
  parsePort,
  parsePositiveInt,
  parseRedisUrl,
  parseResources,
  stringFlag,
} from "./_args.ts";
import { type Command, notImplemented, usageError } from "./_command.ts";

/** What `rayd start` was asked to start. */
export interface StartArgs {
  /** Start a head node (control store client, global scheduler, dashboard). */
  head: boolean;
  /** `HOST:PORT` of the head to join; set exactly when `head` is false. */
  address?: string;
  /** Port the head listens on. */
  port?: number;
  /** Redis holding the control store (`redis://host:port`). */
  redisAddress?: string;
  /** Port of a `redis-server` that the head starts itself. */
  redisPort?: number;
  /** Number of workers on this node. */
  numWorkers?: number;
  /** Custom resources of this node, e.g. `{ GPU: 2 }`. */
  resources?: Record<string, number>;
  /** Cluster token. */
  token?: string;
  /** Port of the head's dashboard. */
  dashboardPort?: number;
  /** Stay in the foreground. */
  block: boolean;
}

const FLAGS = {
  head: { type: "boolean" },
  address: { type: "string" },
  port: { type: "string" },
  "redis-address": { type: "string" },
  "redis-port": { type: "string" },
  "num-workers": { type: "string" },
  resources: { type: "string" },
  token: { type: "string" },
  "dashboard-port": { type: "string" },
  block: { type: "boolean" },
} as const;

const HEAD_ONLY = ["port", "redis-address", "redis-port", "dashboard-port"] as const;

/**
 * Parses and checks the arguments of `rayd start`.
 *
 * @param args everything after `start`
 * @returns the node to start
 * @example
 * ```ts
 * const start = parseStartArgs(["--head", "--redis-port", "6379", "--block"]);
 * console.assert(start.head && start.redisPort === 6379 && start.block);
 * ```
 */
export function parseStartArgs(args: string[]): StartArgs {
  const { values, positionals } = parseFlags(args, FLAGS);
  limitPositionals(positionals, 0);
  const flag = (name: keyof typeof FLAGS) => stringFlag(values, name);
  const head = values.head === true;
  const rawAddress = flag("address");
  if (head === (rawAddress !== undefined)) {
    throw usageError("pass either --head (start a head node) or --address HOST:PORT (join one)");
  }
  if (!head) {
    const misplaced = HEAD_ONLY.find((name) => values[name] !== undefined);
    if (misplaced) throw usageError(`flag --${misplaced} is only for --head`);
  }
  if (flag("redis-address") !== undefined && flag("redis-port") !== undefined) {
    throw usageError("pass --redis-address or --redis-port, not both");
  }
  const opt = <T>(name: keyof typeof FLAGS, parse: (flag: string, raw: string) => T) => {
    const raw = flag(name);
    return raw === undefined ? undefined : parse(`--${name}`, raw);
  };
  return {
    head,
    address: opt("address", parseAddress),
    port: opt("port", parsePort),
    redisAddress: opt("redis-address", parseRedisUrl),
    redisPort: opt("redis-port", parsePort),
    numWorkers: opt("num-workers", parsePositiveInt),
    resources: opt("resources", parseResources),
    token: flag("token"),
    dashboardPort: opt("dashboard-port", parsePort),
    block: values.block === true,
  };
}

/** `rayd start`. */
export const startCommand: Command = {
  name: "start",
  summary: "Start a head node (--head) or a node joining a cluster (--address)",
  help: `Usage: rayd start --head [--port P] [--redis-address redis://H:P | --redis-port P]
                  [--num-workers N] [--resources JSON] [--token T] [--dashboard-port P] [--block]
       rayd start --address HOST:PORT [--num-workers N] [--resources JSON] [--token T] [--block]

Starts the daemon of one node. A head node holds the control store client
(Redis), the global scheduler and the dashboard; every node has a local
scheduler, an object store and workers. Daemons bind 127.0.0.1.

Options:
  --head                     start a head node
  --address HOST:PORT        join the cluster whose head is at HOST:PORT
  --port P                   port the head listens on
  --redis-address URL        use the Redis at URL (redis://host:port) for the control store
  --redis-port P             start redis-server on port P for the control store
  --num-workers N            workers on this node (default: the number of CPUs)
  --resources JSON           custom resources of this node, e.g. '{"GPU": 2}'
  --token T                  cluster token; joining a cluster needs the head's token
  --dashboard-port P         port of the head's dashboard
  --block                    stay in the foreground
  -h, --help                 show this help`,
  run: (args) => {
    parseStartArgs(args);
    return notImplemented();
  },
};
