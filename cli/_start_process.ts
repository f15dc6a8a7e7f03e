/**
 * What `rayd start` does once its flags are resolved: in the foreground
 * (`--block`) it gets the token, starts the head's redis-server when needed,
 * starts the cluster process, prints the ready line and runs until SIGTERM or
 * SIGINT; as a daemon it re-runs itself with `--block`, detached, its output
 * going to a log in the runtime folder, waits for that ready line and records
 * the daemon for `rayd stop`. Private to cli/.
 *
 * @module
 */
import { fileURLToPath } from "node:url";
import {
  commandLineOf,
  config,
  ensureRuntimeDir,
  generateToken,
  readToken,
  writeDaemonRecord,
  writeToken,
} from "../runtime/common/mod.ts";
import { type ClusterProcess, startClusterProcess } from "../runtime/cluster/mod.ts";
import { ConnectionClosedError, HandshakeError } from "../runtime/transport/mod.ts";
import { CliError, type CliIo, FAILURE_EXIT_CODE } from "./_command.ts";
import { type OwnRedisServer, startRedisServer } from "./_redis_server.ts";
import type { StartSettings } from "./start.ts";

/** How long a daemon may take to print its ready line. */
export const DAEMON_READY_TIMEOUT_MS = 120_000;
/** Lines of a failed daemon's log shown to the user. */
const LOG_TAIL_LINES = 20;

/** What a ready line says. */
export interface ReadyLine {
  /** `"head"` or `"node"`. */
  role: "head" | "node";
  /** The node id. */
  nodeId: string;
  /** `HOST:PORT` the node serves at. */
  address: string;
}

const READY = /^rayd: ready: (head node|node) (\S+) at (\S+)/m;

/**
 * Finds the ready line of `rayd start --block` in its output.
 *
 * @param text output (any number of lines)
 * @returns what the first ready line says, or `undefined` when there is none yet
 * @example
 * ```ts
 * const ready = parseReadyLine("rayd: ready: node 3f2a at 127.0.0.1:4100 (joined 127.0.0.1:6380)");
 * console.assert(ready?.nodeId === "3f2a" && ready.address === "127.0.0.1:4100");
 * ```
 */
export function parseReadyLine(text: string): ReadyLine | undefined {
  const m = READY.exec(text);
  if (!m) return undefined;
  return { role: m[1] === "node" ? "node" : "head", nodeId: m[2], address: m[3] };
}

/** The cluster token to start with, generating and writing one for a head without any. */
async function clusterToken(token: string | undefined, s: StartSettings, io: CliIo) {
  switch (s.token.source) {
    case "flag":
      return token!;
    case "env":
      return Deno.env.get("RAYD_TOKEN")!;
    case "file": {
      const local = await readToken(s.runtimeDir);
      if (local === undefined) {
        throw new CliError(
          `the token file ${s.token.file} is gone: pass --token or set RAYD_TOKEN`,
        );
      }
      return local;
    }
    case "generated": {
      const generated = generateToken();
      const file = await writeToken(generated, s.runtimeDir);
      io.err(
        `rayd: wrote a new cluster token to ${file} (user-only); drivers, nodes and commands on ` +
          "this machine read it there, others need it with --token or RAYD_TOKEN",
      );
      return generated;
    }
  }
}

/** Every error in `err`'s cause chain. */
function causes(err: unknown): unknown[] {
  const out: unknown[] = [];
  for (let e = err; e !== undefined && out.length < 10; e = (e as Error)?.cause) out.push(e);
  return out;
}

/** Turns the failures a user can fix into one clear line; others pass through. */
function explainStartError(err: unknown, s: StartSettings): unknown {
  const chain = causes(err);
  const handshake = chain.find((e) => e instanceof HandshakeError) as HandshakeError | undefined;
  if (handshake?.failure === "bad-token") {
    return new CliError(
      `the cluster at ${handshake.peer} refused this node's token (${handshake.message}): ` +
        "pass the head's token with --token or RAYD_TOKEN",
      { exitCode: FAILURE_EXIT_CODE, cause: err },
    );
  }
  if (chain.some((e) => e instanceof Deno.errors.AddrInUse)) {
    // The error does not say which port: the dashboard's, or the node's own.
    const [flag, port] = s.dashboardPort && portTaken(s.bind, s.dashboardPort)
      ? ["--dashboard-port", s.dashboardPort]
      : ["--port", s.port];
    return new CliError(
      `port ${port} on ${s.bind} is already in use: pass another ${flag} (0: any free port)`,
      { exitCode: FAILURE_EXIT_CODE, cause: err },
    );
  }
  const closed = chain.find((e) => e instanceof ConnectionClosedError);
  if (s.role === "node" && closed && /cannot connect/.test((closed as Error).message)) {
    return new CliError(
      `cannot reach the head at ${s.headAddress}: ${(closed as Error).message}`,
      { exitCode: FAILURE_EXIT_CODE, cause: err },
    );
  }
  return err;
}

/** Whether another program listens on `port` of `bind`. */
function portTaken(bind: string, port: number): boolean {
  try {
    Deno.listen({ hostname: bind, port }).close();
    return false;
  } catch (err) {
    return err instanceof Deno.errors.AddrInUse;
  }
}

/**
 * Runs one node in the foreground until SIGTERM or SIGINT (exit 0), or until
 * it stops by itself, e.g. because its head is gone (exit 1). A signal while
 * it starts stops the start; a second signal exits at once.
 *
 * @param token the `--token` flag, if given
 * @param s the resolved settings
 * @param io where the ready line and messages go
 * @returns the exit code
 */
export async function runForeground(
  token: string | undefined,
  s: StartSettings,
  io: CliIo,
): Promise<number> {
  const stopping = new AbortController();
  const stopAsked = new Promise<string>((resolve) => {
    stopping.signal.addEventListener("abort", () => resolve(String(stopping.signal.reason)));
  });
  const handlers = (["SIGTERM", "SIGINT"] as const).map((name) => {
    const handler = () => {
      if (!stopping.signal.aborted) return stopping.abort(name);
      io.err(`rayd: ${name} again: exiting without a clean stop`);
      Deno.exit(FAILURE_EXIT_CODE);
    };
    Deno.addSignalListener(name, handler);
    return [name, handler] as const;
  });
  let redis: OwnRedisServer | undefined;
  let redisAddress: string | undefined;
  let launch: (() => Promise<ClusterProcess>) | undefined;
  const startup = (async () => {
    await ensureRuntimeDir(s.runtimeDir);
    const secret = await clusterToken(token, s, io);
    if (s.redis !== undefined && "address" in s.redis) redisAddress = s.redis.address;
    if (s.redis !== undefined && "port" in s.redis) {
      const dir = `${s.runtimeDir}/redis-${Deno.pid}`;
      const signal = stopping.signal;
      // A password of its own: the nodes on other hosts get it from the head, over the token link.
      const password = generateToken();
      redis = await startRedisServer({ bind: s.bind, port: s.redis.port, dir, signal, password });
      redisAddress = redis.url;
    }
    launch = () =>
      startClusterProcess({
        role: s.role,
        headAddress: s.headAddress,
        bind: s.bind,
        port: s.port,
        nodeIpAddress: s.nodeIpAddress,
        numWorkers: s.numWorkers,
        numCpus: s.numCpus,
        resources: s.resources,
        objectStoreMemory: s.objectStoreMemory,
        token: secret,
        redisAddress,
        healthCheck: s.healthCheck,
        dashboardPort: s.dashboardPort,
      }).catch((err) => {
        throw explainStartError(err, s);
      });
    return await launch();
  })();
  try {
    let starting = startup;
    for (;;) {
      const outcome = await serve(starting);
      if (typeof outcome === "number") return outcome;
      // Declared dead (cut off past the health checks): its old work went elsewhere, and it
      // comes back as a new node with nothing of before.
      io.err(`rayd: node ${outcome.nodeId} joins again as a new node`);
      starting = launch!();
    }
  } finally {
    for (const [name, handler] of handlers) Deno.removeSignalListener(name, handler);
    await (redis as OwnRedisServer | undefined)?.stop();
  }

  /** Serves one start of the node: an exit code, or the node the head declared dead. */
  async function serve(startup: Promise<ClusterProcess>): Promise<number | ClusterProcess> {
    const node = await Promise.race([startup, stopAsked.then(() => undefined)]);
    if (node === undefined) {
      io.err(`rayd: ${stopping.signal.reason}: stopped while starting`);
      startup.then((late) => late.stop(), () => {});
      return 0;
    }
    const where = s.role === "head"
      ? `head node ${node.nodeId} at ${node.address} (control store ${
        withoutPassword(redisAddress)
      }` +
        (node.dashboardUrl ? `, dashboard ${node.dashboardUrl})` : ")")
      : `node ${node.nodeId} at ${node.address} (joined the head at ${s.headAddress})`;
    io.out(`rayd: ready: ${where}`);
    const label = s.role === "head" ? "head node" : "node";
    const lostRedis = redis?.exited.then((code) => `redis-server exited with code ${code}`);
    const ended = await Promise.race([
      stopAsked,
      node.closed.then(() => undefined),
      ...(lostRedis ? [lostRedis] : []),
    ]);
    if (ended !== undefined && ended.startsWith("redis-server")) {
      io.err(`rayd: head node ${node.nodeId} stops: its control store's ${ended}`);
      await node.stop();
      return FAILURE_EXIT_CODE;
    }
    if (ended === undefined) {
      if (node.declaredDead) return node;
      const why = s.role === "node" ? `: lost its link to the head at ${s.headAddress}` : "";
      io.err(`rayd: ${label} ${node.nodeId} stopped${why}`);
      return FAILURE_EXIT_CODE;
    }
    if (ended === "SIGTERM") {
      // Drain: no new work comes here; what runs finishes (bounded), then the node stops.
      const ms = config("drainTimeoutMs");
      io.err(
        `rayd: SIGTERM: ${label} ${node.nodeId} takes no new work; ` +
          `its running tasks may finish (up to ${ms} ms)`,
      );
      if (!await node.drain(ms)) {
        io.err(
          `rayd: tasks still running or objects not yet taken by their owners after ${ms} ms: ` +
            "stopping anyway",
        );
      }
    }
    io.err(`rayd: ${ended}: stopping ${label} ${node.nodeId}`);
    await node.stop();
    return 0;
  }
}

/** How to run this program again: `[executable, arguments before the command]`. */
function selfCommand(): [string, string[]] {
  if (Deno.build.standalone) return [Deno.execPath(), []];
  const main = new URL("./main.ts", import.meta.url);
  if (main.protocol !== "file:") return [Deno.execPath(), ["run", "-A", main.href]];
  const config = fileURLToPath(new URL("../deno.json", import.meta.url));
  return [Deno.execPath(), ["run", "-A", "--config", config, fileURLToPath(main)]];
}

/**
 * Starts one node as a daemon: re-runs `rayd start` with `--block` in its own
 * session, its output appended to `daemon-<pid>.log` in the runtime folder,
 * waits for its ready line, records it for `rayd stop` and prints that line.
 *
 * @param args the arguments of `rayd start`
 * @param s the resolved settings
 * @param io where messages go
 * @returns 0 when the daemon is ready; 1 with the end of its log when it failed
 */
export async function startDaemon(args: string[], s: StartSettings, io: CliIo): Promise<number> {
  const dir = await ensureRuntimeDir(s.runtimeDir);
  const [program, prefix] = selfCommand();
  // The shell names the log by its own pid, which `exec` hands on to rayd.
  const child = new Deno.Command("/bin/sh", {
    args: [
      "-c",
      'umask 077; dir=$1; shift; exec "$@" >>"$dir/daemon-$$.log" 2>&1',
      "sh",
      dir,
      program,
      ...prefix,
      "start",
      ...args,
      "--block",
    ],
    stdin: "null",
    stdout: "null",
    stderr: "null",
    detached: true,
  }).spawn();
  child.unref();
  const log = `${dir}/daemon-${child.pid}.log`;
  let exit: Deno.CommandStatus | undefined;
  child.status.then((status) => exit = status);
  const deadline = Date.now() + DAEMON_READY_TIMEOUT_MS;
  let ready: ReadyLine | undefined;
  let text = "";
  while (ready === undefined && exit === undefined && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 50));
    text = await readLog(log);
    ready = parseReadyLine(text);
  }
  if (ready === undefined) {
    const why = exit !== undefined
      ? `exited with code ${exit.code}`
      : `printed no ready line within ${DAEMON_READY_TIMEOUT_MS / 1000} s and was killed`;
    if (exit === undefined) {
      try {
        Deno.kill(child.pid, "SIGKILL");
      } catch { /* gone meanwhile */ }
    }
    text = await readLog(log);
    io.err(`rayd start: the daemon (pid ${child.pid}) ${why} before it was ready; end of ${log}:`);
    for (const line of text.trimEnd().split("\n").slice(-LOG_TAIL_LINES)) io.err(`  ${line}`);
    return FAILURE_EXIT_CODE;
  }
  await writeDaemonRecord({
    pid: child.pid,
    role: ready.role,
    address: ready.address,
    nodeId: ready.nodeId,
    startedAt: Date.now(),
    command: commandLineOf(child.pid),
  }, dir);
  for (const line of text.split("\n")) {
    if (parseReadyLine(line)) {
      io.out(line);
      break;
    }
    if (line.trim() !== "") io.err(line);
  }
  io.err(`rayd: running in the background as pid ${child.pid} (log ${log}); "rayd stop" ends it`);
  return 0;
}

/** The daemon's log so far ("" until its shell made it). */
async function readLog(log: string): Promise<string> {
  try {
    return await Deno.readTextFile(log);
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) return "";
    throw err;
  }
}

/** A Redis URL as it may be printed: without its password. */
function withoutPassword(url: string | undefined): string | undefined {
  if (url === undefined) return undefined;
  try {
    const u = new URL(url);
    u.password = "";
    u.username = "";
    return u.href.replace(/\/$/, "");
  } catch {
    return url;
  }
}
