/**
 * The `redis-server` a head starts for its control store when it is not given
 * `--redis-address`: Debian's package, found on PATH, in-memory only (no RDB
 * or AOF files; its log and working folder live in a private folder that is
 * removed when it stops), bound to the head's bind address, stopped by the
 * head on exit and, through the kernel's parent-death signal (`setpriv
 * --pdeathsig`), also when the head is killed. Private to cli/.
 *
 * @module
 */
import { CliError, FAILURE_EXIT_CODE } from "./_command.ts";

/** How long redis-server may take to answer PING. */
const START_TIMEOUT_MS = 10_000;
/** How long it may take to exit after SIGTERM before SIGKILL. */
const STOP_TIMEOUT_MS = 5_000;
/** How long one PING may take. */
const PING_TIMEOUT_MS = 1000;
/** Tries with a new free port when an automatically picked one was taken meanwhile. */
const PORT_TRIES = 5;

/** A redis-server this process started. */
export interface OwnRedisServer {
  /** `redis://[:password@]host:port`, for the control store (print it without the password). */
  readonly url: string;
  /** Its port. */
  readonly port: number;
  /** Its process id. */
  readonly pid: number;
  /** Resolves with its exit code when it exits, asked to or not. */
  readonly exited: Promise<number>;
  /** Stops it (SIGTERM, then SIGKILL after a timeout) and removes its folder. */
  stop(): Promise<void>;
}

/** What {@link startRedisServer} needs. */
export interface RedisServerOptions {
  /** Address to bind (the head's `--bind`). */
  bind: string;
  /** Port (0: a free one). */
  port: number;
  /** Its private folder (made here, removed by `stop`). */
  dir: string;
  /** PATH to look for redis-server and setpriv in (default: `$PATH`). */
  path?: string;
  /** Ends the start (the server is killed) when aborted. */
  signal?: AbortSignal;
  /**
   * The password clients must give (written to a 0600 config file in `dir`, never on the command
   * line). With one, Redis serves clients on other hosts; without, its protected mode refuses them.
   */
  password?: string;
}

/**
 * Finds an executable on a PATH.
 *
 * @param name the program
 * @param path the PATH value
 * @returns its full path, or `undefined`
 */
export function findOnPath(name: string, path = Deno.env.get("PATH") ?? ""): string | undefined {
  for (const dir of path.split(":")) {
    if (!dir) continue;
    try {
      const info = Deno.statSync(`${dir}/${name}`);
      if (info.isFile && ((info.mode ?? 0o111) & 0o111) !== 0) return `${dir}/${name}`;
    } catch {
      // not in this folder
    }
  }
  return undefined;
}

/**
 * The redis-server program on PATH.
 *
 * @param path the PATH value (default `$PATH`)
 * @returns its full path
 * @throws CliError (exit code 1) naming the package to install when it is missing
 */
export function redisServerProgram(path?: string): string {
  const program = findOnPath("redis-server", path);
  if (program === undefined) {
    throw new CliError(
      "redis-server not found on PATH: install it (apt-get install redis-server) " +
        "or pass --redis-address redis://HOST:PORT of a running Redis",
      { exitCode: FAILURE_EXIT_CODE },
    );
  }
  return program;
}

/**
 * Starts redis-server and waits until it answers PING.
 *
 * @param options bind address, port and folder
 * @returns the running server
 * @throws CliError (exit code 1) when redis-server is not installed or does not start
 */
export async function startRedisServer(options: RedisServerOptions): Promise<OwnRedisServer> {
  const program = redisServerProgram(options.path);
  const setpriv = findOnPath("setpriv", options.path);
  await Deno.mkdir(options.dir, { recursive: true, mode: 0o700 });
  let lastError: CliError | undefined;
  for (let attempt = 0; attempt < (options.port === 0 ? PORT_TRIES : 1); attempt++) {
    const port = options.port === 0 ? freePort(options.bind) : options.port;
    try {
      return await launch(program, setpriv, { ...options, port });
    } catch (err) {
      if (!(err instanceof CliError) || !/address already in use/i.test(err.message)) {
        await Deno.remove(options.dir, { recursive: true }).catch(() => {});
        throw err;
      }
      lastError = err;
    }
  }
  await Deno.remove(options.dir, { recursive: true }).catch(() => {});
  throw lastError!;
}

async function launch(
  program: string,
  setpriv: string | undefined,
  options: RedisServerOptions,
): Promise<OwnRedisServer> {
  const { bind, port, dir } = options;
  const log = `${dir}/redis.log`;
  await Deno.writeTextFile(log, "", { mode: 0o600 });
  const config = `${dir}/redis.conf`;
  const auth = options.password ? `requirepass ${options.password}\n` : "";
  await Deno.writeTextFile(config, auth, { mode: 0o600 });
  const redisArgs = [
    config,
    ...["--port", String(port), "--bind", bind, "--daemonize", "no"],
    ...["--save", "", "--appendonly", "no", "--dir", dir, "--logfile", log],
  ];
  // With setpriv the kernel ends redis-server when this process dies, even by SIGKILL.
  const [command, args] = setpriv
    ? [setpriv, ["--pdeathsig", "TERM", "--", program, ...redisArgs]]
    : [program, redisArgs];
  // In a session of its own, so a Ctrl-C meant for the head does not stop Redis under it:
  // the head stops its node first, then Redis.
  const child = new Deno.Command(command, {
    args,
    cwd: dir,
    stdin: "null",
    stdout: "null",
    stderr: "null",
    detached: true,
  }).spawn();
  let exited = false;
  const status = child.status.finally(() => exited = true);
  const host = bind === "0.0.0.0" ? "127.0.0.1" : bind === "::" ? "::1" : bind;
  const server: OwnRedisServer = {
    url: `redis://${options.password ? `:${options.password}@` : ""}` +
      `${host.includes(":") ? `[${host}]` : host}:${port}`,
    port,
    pid: child.pid,
    exited: status.then((s) => s.code),
    stop: async () => {
      if (!exited) {
        signal(child.pid, "SIGTERM");
        const timer = setTimeout(() => signal(child.pid, "SIGKILL"), STOP_TIMEOUT_MS);
        await status;
        clearTimeout(timer);
      }
      await Deno.remove(dir, { recursive: true }).catch(() => {});
    },
  };
  const deadline = Date.now() + START_TIMEOUT_MS;
  while (!exited && !options.signal?.aborted && Date.now() < deadline) {
    if (await answersPing(host, port)) return server;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  if (options.signal?.aborted && !exited) {
    await server.stop();
    throw new CliError(`redis-server start on ${bind}:${port} stopped: ${options.signal.reason}`);
  }
  const why = exited ? `exited with code ${(await status).code}` : "did not answer PING";
  const tail = await logTail(log);
  if (!exited) {
    signal(child.pid, "SIGKILL");
    await status;
  }
  throw new CliError(
    `redis-server on ${bind}:${port} ${why} within ${START_TIMEOUT_MS / 1000} s` +
      (tail ? `: ${tail}` : ""),
    { exitCode: FAILURE_EXIT_CODE },
  );
}

function signal(pid: number, name: Deno.Signal): void {
  try {
    Deno.kill(pid, name);
  } catch {
    // already gone
  }
}

/** A port free on `bind` right now. */
function freePort(bind: string): number {
  const listener = Deno.listen({ hostname: bind, port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  listener.close();
  return port;
}

/** Whether a Redis answers PING (or asks for a password) at host:port within a second. */
async function answersPing(hostname: string, port: number): Promise<boolean> {
  let conn: Deno.TcpConn | undefined;
  // Something else may hold the port and never answer: give up after a second.
  const timer = setTimeout(() => {
    try {
      conn?.close();
    } catch { /* closed already */ }
  }, PING_TIMEOUT_MS);
  try {
    conn = await Deno.connect({ hostname, port });
    await conn.write(new TextEncoder().encode("PING\r\n"));
    const buf = new Uint8Array(64);
    const n = await conn.read(buf);
    const text = new TextDecoder().decode(buf.subarray(0, n ?? 0));
    return text.startsWith("+PONG") || text.startsWith("-NOAUTH");
  } catch {
    return false;
  } finally {
    clearTimeout(timer);
    try {
      conn?.close();
    } catch { /* closed already */ }
  }
}

/** The last lines of redis-server's log that say what went wrong, as one line. */
async function logTail(log: string): Promise<string> {
  const text = await Deno.readTextFile(log).catch(() => "");
  return text.trim().split("\n").slice(-3).map((line) =>
    line.replace(/^\d+:\w( \S+){4} [*#.-] /, "")
  )
    .join("; ");
}
