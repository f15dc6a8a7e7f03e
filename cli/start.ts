/**
 * `rayd start`: starts a head node (`--head`) or a node that joins a cluster
 * (`--address`). The flags are parsed, checked and resolved into settings;
 * `--dry-run` prints them as JSON. With `--block` the node runs in the
 * foreground and prints one ready line; without it, it becomes a daemon that
 * `rayd stop` ends (cli/_start_process.ts).
 *
 * @module
 */
import { checkToken, readToken, runtimeDirPath, TOKEN_FILE } from "../runtime/common/mod.ts";
import {
  limitPositionals,
  parseAddress,
  parseAmount,
  parseBytes,
  parseFlags,
  parsePort,
  parsePositiveInt,
  parseRedisUrl,
  parseResources,
  stringFlag,
} from "./_args.ts";
import { type Command, usageError } from "./_command.ts";
import { redisServerProgram } from "./_redis_server.ts";
import { runForeground, startDaemon } from "./_start_process.ts";

export { parseReadyLine, type ReadyLine } from "./_start_process.ts";

/** What `rayd start` was asked to start, as given on the command line. */
export interface StartArgs {
  /** Start a head node (control store, global scheduler, dashboard). */
  head: boolean;
  /** `HOST:PORT` of the head to join (or `auto`); set exactly when `head` is false. */
  address?: string;
  /** Port this node listens on. */
  port?: number;
  /** Redis holding the control store (`redis://host:port`). */
  redisAddress?: string;
  /** Port of a `redis-server` that the head starts itself. */
  redisPort?: number;
  /** Address to listen on. */
  bind?: string;
  /** Address other machines reach this node at. */
  nodeIpAddress?: string;
  /** Number of workers on this node. */
  numWorkers?: number;
  /** CPUs this node offers to tasks. */
  numCpus?: number;
  /** Custom resources of this node, e.g. `{ GPU: 2 }`. */
  resources?: Record<string, number>;
  /** Most bytes of this node's object store. */
  objectStoreMemory?: number;
  /** Cluster token. */
  token?: string;
  /** Port of the head's dashboard. */
  dashboardPort?: number;
  /** How often the head checks each node's health. */
  healthCheckPeriodMs?: number;
  /** Missed checks after which the head declares a node dead. */
  healthCheckFailureThreshold?: number;
  /** Stay in the foreground. */
  block: boolean;
  /** Print the resolved settings and start nothing. */
  dryRun: boolean;
}

const FLAGS = {
  head: { type: "boolean" },
  address: { type: "string" },
  port: { type: "string" },
  "redis-address": { type: "string" },
  "redis-port": { type: "string" },
  bind: { type: "string" },
  "node-ip-address": { type: "string" },
  "num-workers": { type: "string" },
  "num-cpus": { type: "string" },
  resources: { type: "string" },
  "object-store-memory": { type: "string" },
  token: { type: "string" },
  "dashboard-port": { type: "string" },
  "health-check-period-ms": { type: "string" },
  "health-check-failure-threshold": { type: "string" },
  block: { type: "boolean" },
  "dry-run": { type: "boolean" },
} as const;

const HEAD_ONLY = [
  "redis-address",
  "redis-port",
  "dashboard-port",
  "health-check-period-ms",
  "health-check-failure-threshold",
] as const;

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
    address: rawAddress === "auto" ? "auto" : opt("address", parseAddress),
    port: opt("port", parsePort),
    redisAddress: opt("redis-address", parseRedisUrl),
    redisPort: opt("redis-port", parsePort),
    bind: opt("bind", parseHost),
    nodeIpAddress: opt("node-ip-address", parseHost),
    numWorkers: opt("num-workers", parsePositiveInt),
    numCpus: opt("num-cpus", parseAmount),
    resources: opt("resources", parseResources),
    objectStoreMemory: opt("object-store-memory", parseBytes),
    token: flag("token"),
    dashboardPort: opt("dashboard-port", parsePort),
    healthCheckPeriodMs: opt("health-check-period-ms", parsePositiveInt),
    healthCheckFailureThreshold: opt("health-check-failure-threshold", parsePositiveInt),
    block: values.block === true,
    dryRun: values["dry-run"] === true,
  };
}

function parseHost(flag: string, raw: string): string {
  const ok = /^[0-9a-zA-Z.-]+$/.test(raw) || /^\[?[0-9a-fA-F:.]+\]?$/.test(raw);
  if (!ok) throw usageError(`invalid value for ${flag}: expected a host name or IP, got "${raw}"`);
  return raw.replace(/^\[(.*)\]$/, "$1");
}

/** Where the cluster token of a node comes from (the token itself is never printed). */
export type TokenSource = "flag" | "env" | "file" | "generated";

/** Everything a node is started with, after defaults, environment and checks. */
export interface StartSettings {
  /** `"head"` or `"node"`. */
  role: "head" | "node";
  /** The head this node joins (`HOST:PORT`); only for `"node"`. */
  headAddress?: string;
  /** Address the node listens on. */
  bind: string;
  /** Port it listens on (0: any free port). */
  port: number;
  /** Address other machines reach it at. */
  nodeIpAddress: string;
  /** Workers it starts. */
  numWorkers: number;
  /** CPUs it offers to tasks. */
  numCpus: number;
  /** Its custom resources. */
  resources: Record<string, number>;
  /** Most bytes of its object store. */
  objectStoreMemory: number;
  /** Where its token comes from, and the file when it is `"file"` or `"generated"`. */
  token: { source: TokenSource; file?: string };
  /** The control store (head only): a running Redis, or one the head starts on `port` (0: free). */
  redis?: { address: string } | { port: number };
  /** The dashboard's port (head only; 0: any free port). */
  dashboardPort?: number;
  /** Health checks of the nodes (head only). */
  healthCheck?: { periodMs: number; failureThreshold: number };
  /** Stays in the foreground. */
  block: boolean;
  /** The per-user runtime folder (token, pid files). */
  runtimeDir: string;
}

/** The port a head listens on when `--port` is not given. */
export const DEFAULT_HEAD_PORT = 6380;
/** The dashboard's port when `--dashboard-port` is not given. */
export const DEFAULT_DASHBOARD_PORT = 8265;
/** Health checks like Ray's: every 3 s, dead after 5 missed. */
export const DEFAULT_HEALTH_CHECK = { periodMs: 3000, failureThreshold: 5 } as const;

/** What `resolveStartSettings` reads besides the arguments (the process's own by default). */
export interface StartEnvironment {
  /** Reads an environment variable. */
  env(name: string): string | undefined;
  /** The token a local head wrote, if any. */
  localToken(): Promise<string | undefined>;
  /** Logical CPUs of this machine. */
  cpus: number;
  /** Bytes of memory of this machine. */
  memory: number;
}

const processEnvironment: StartEnvironment = {
  env: (name) => Deno.env.get(name),
  localToken: () => readToken(),
  cpus: navigator.hardwareConcurrency || 1,
  memory: Deno.systemMemoryInfo().total,
};

/**
 * Resolves what `rayd start` will run: defaults, `RAYD_ADDRESS`/`RAYD_TOKEN`, the
 * local token file, and the checks that need more than one flag.
 *
 * @param start the parsed arguments
 * @param environment the environment, the token file and the machine's size
 * @returns the settings
 */
export async function resolveStartSettings(
  start: StartArgs,
  environment: StartEnvironment = processEnvironment,
): Promise<StartSettings> {
  const { env } = environment;
  const bind = start.bind ?? "127.0.0.1";
  const wildcard = bind === "0.0.0.0" || bind === "::";
  if (wildcard && start.nodeIpAddress === undefined) {
    throw usageError(
      `--bind ${bind} listens on every address: pass --node-ip-address to say which one ` +
        "other machines reach this node at",
    );
  }
  let headAddress: string | undefined;
  if (!start.head) {
    headAddress = start.address;
    if (headAddress === "auto") {
      const fromEnv = env("RAYD_ADDRESS");
      if (!fromEnv) throw usageError("--address auto needs RAYD_ADDRESS to be set");
      headAddress = parseAddress("RAYD_ADDRESS", fromEnv);
    }
  }
  const runtimeDir = runtimeDirPath(env);
  const token = await resolveToken(start, environment, runtimeDir);
  const numWorkers = start.numWorkers ?? environment.cpus;
  const settings: StartSettings = {
    role: start.head ? "head" : "node",
    headAddress,
    bind,
    port: start.port ?? (start.head ? DEFAULT_HEAD_PORT : 0),
    nodeIpAddress: start.nodeIpAddress ?? bind,
    numWorkers,
    numCpus: start.numCpus ?? numWorkers,
    resources: start.resources ?? {},
    objectStoreMemory: start.objectStoreMemory ?? Math.floor(environment.memory * 0.3),
    token,
    block: start.block,
    runtimeDir,
  };
  if (start.head) {
    settings.redis = start.redisAddress !== undefined
      ? { address: start.redisAddress }
      : { port: start.redisPort ?? 0 };
    settings.dashboardPort = start.dashboardPort ?? DEFAULT_DASHBOARD_PORT;
    settings.healthCheck = {
      periodMs: start.healthCheckPeriodMs ?? DEFAULT_HEALTH_CHECK.periodMs,
      failureThreshold: start.healthCheckFailureThreshold ?? DEFAULT_HEALTH_CHECK.failureThreshold,
    };
  }
  return settings;
}

async function resolveToken(
  start: StartArgs,
  environment: StartEnvironment,
  runtimeDir: string,
): Promise<StartSettings["token"]> {
  const check = (token: string, what: string) => {
    try {
      checkToken(token, what);
    } catch (e) {
      throw usageError((e as Error).message);
    }
  };
  if (start.token !== undefined) {
    check(start.token, "--token");
    return { source: "flag" };
  }
  const fromEnv = environment.env("RAYD_TOKEN");
  if (fromEnv) {
    check(fromEnv, "RAYD_TOKEN");
    return { source: "env" };
  }
  const file = `${runtimeDir}/${TOKEN_FILE}`;
  if (start.head) return { source: "generated", file };
  if (await environment.localToken()) return { source: "file", file };
  throw usageError(
    "joining a cluster needs its token: pass --token or set RAYD_TOKEN " +
      `(a head on this machine writes it to ${file})`,
  );
}

/** `rayd start`. */
export const startCommand: Command = {
  name: "start",
  summary: "Start a head node (--head) or a node joining a cluster (--address)",
  help: `Usage: rayd start --head [--port P] [--redis-address redis://H:P | --redis-port P]
                  [--dashboard-port P] [--health-check-period-ms MS]
                  [--health-check-failure-threshold N] [NODE FLAGS]
       rayd start --address HOST:PORT|auto [NODE FLAGS]
NODE FLAGS: [--bind ADDR] [--node-ip-address ADDR] [--num-workers N] [--num-cpus N]
            [--resources JSON] [--object-store-memory BYTES] [--token T] [--block] [--dry-run]

Starts the daemon of one node. A head node also holds the control store
(Redis), the global scheduler and the dashboard; every node has a local
scheduler, an object store and workers. Daemons bind 127.0.0.1 unless told
otherwise. With --block the node stays in the foreground, prints one line
"rayd: ready: ..." with its node id and address once it serves, and stops on
SIGTERM or SIGINT; without it, rayd start returns once the node is ready and
leaves it running in the background (log and pid file in the runtime folder,
$RAYD_RUNTIME_DIR or $XDG_RUNTIME_DIR/rayd); "rayd stop" ends it. A head
without --redis-address starts its own redis-server (apt-get install
redis-server), in memory only, and stops it on exit. A head without a token
generates one and writes it to the runtime folder.

Options:
  --head                     start a head node
  --address HOST:PORT        join the cluster whose head is at HOST:PORT ("auto": $RAYD_ADDRESS)
  --port P                   port this node listens on (head default ${DEFAULT_HEAD_PORT}; others: any)
  --redis-address URL        use the Redis at URL (redis://host:port) for the control store
  --redis-port P             start redis-server on port P (default: a free port)
  --dashboard-port P         port of the head's dashboard (default ${DEFAULT_DASHBOARD_PORT}; 0: any)
  --health-check-period-ms MS
                             how often the head checks each node (default 3000)
  --health-check-failure-threshold N
                             missed checks before a node is declared dead (default 5)
  --bind ADDR                address to listen on (default 127.0.0.1)
  --node-ip-address ADDR     address other machines reach this node at (default: --bind)
  --num-workers N            workers on this node (default: the number of CPUs)
  --num-cpus N               CPUs offered to tasks (default: --num-workers)
  --resources JSON           custom resources of this node, e.g. '{"GPU": 2}'
  --object-store-memory B    most bytes of the object store, e.g. 2GiB (default 30% of memory)
  --token T                  cluster token (or $RAYD_TOKEN); a head without one makes one
  --block                    stay in the foreground; print a "ready" line once serving
  --dry-run                  print the resolved settings as JSON and start nothing
  -h, --help                 show this help`,
  run: async (args, io) => {
    const start = parseStartArgs(args);
    const settings = await resolveStartSettings(start);
    if (start.dryRun) {
      io.out(JSON.stringify(settings, null, 2));
      return 0;
    }
    // Before anything else, so a missing redis-server is one line in daemon mode too.
    if (settings.redis !== undefined && "port" in settings.redis) redisServerProgram();
    if (!start.block) return await startDaemon(args, settings, io);
    return await runForeground(start.token, settings, io);
  },
};
