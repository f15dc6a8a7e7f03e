/**
 * Starts a private `redis-server` (Debian's package, from PATH) on a free
 * loopback port for a test, and stops it by pid. When redis-server is not on
 * PATH, `REDIS_SERVER` is undefined and a loud SKIPPED line is printed once.
 *
 * @module
 */
import { createClient } from "../../runtime/gcs/_redis_client.ts";

function onPath(name: string): string | undefined {
  for (const dir of (Deno.env.get("PATH") ?? "").split(":")) {
    if (!dir) continue;
    try {
      const path = `${dir}/${name}`;
      if (Deno.statSync(path).isFile) return path;
    } catch {
      // not in this directory
    }
  }
  return undefined;
}

/** Path of redis-server, or undefined when it is not on PATH. */
export const REDIS_SERVER: string | undefined = onPath("redis-server");

if (!REDIS_SERVER) {
  console.warn(
    "\n" + "=".repeat(72) +
      "\nSKIPPED: redis-server not on PATH: the Redis control-store tests do not run" +
      "\n(apt-get install -y redis-server)\n" + "=".repeat(72) + "\n",
  );
}

/** A free TCP port on 127.0.0.1. */
export function freePort(): number {
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (l.addr as Deno.NetAddr).port;
  l.close();
  return port;
}

/** How to start the server. */
export interface RedisServerOptions {
  /** Extra arguments (`--requirepass`, `--appendonly yes`, ...). */
  args?: string[];
  /** Working directory for RDB/AOF files (a fresh temp dir when omitted). */
  dir?: string;
}

/** A running (or stopped, restartable) redis-server. */
export class RedisServer {
  readonly port: number;
  readonly dir: string;
  readonly args: string[];
  #child?: Deno.ChildProcess;

  /** @param port its port @param dir its working directory @param args extra arguments */
  constructor(port: number, dir: string, args: string[]) {
    this.port = port;
    this.dir = dir;
    this.args = args;
  }

  /** `redis://127.0.0.1:<port>`. */
  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  /** Its pid while running. */
  get pid(): number | undefined {
    return this.#child?.pid;
  }

  /** Starts it and waits until it answers PING. */
  async start(): Promise<void> {
    const args = [
      ...["--port", String(this.port), "--bind", "127.0.0.1", "--save", ""],
      ...["--appendonly", "no", "--dir", this.dir, "--logfile", ""],
      ...this.args,
    ];
    this.#child = new Deno.Command(REDIS_SERVER!, { args, stdout: "null", stderr: "null" })
      .spawn();
    const until = Date.now() + 10_000;
    while (Date.now() < until) {
      if (await this.#answers()) return;
      await new Promise((r) => setTimeout(r, 20));
    }
    await this.stop();
    throw new Error(`redis-server on port ${this.port} did not start within 10 s`);
  }

  #answers(): Promise<boolean> {
    return answersPing("127.0.0.1", this.port);
  }

  /** Stops it by pid and waits for it to exit. */
  async stop(signal: Deno.Signal = "SIGTERM"): Promise<void> {
    const child = this.#child;
    if (!child) return;
    this.#child = undefined;
    try {
      Deno.kill(child.pid, signal);
    } catch {
      // already gone
    }
    await child.status;
  }

  /** Stops it and removes its working directory. */
  async dispose(): Promise<void> {
    await this.stop();
    await Deno.remove(this.dir, { recursive: true }).catch(() => {});
  }

  /** Runs one command on a fresh connection and returns the raw reply. */
  async command(args: string[], password?: string): Promise<unknown> {
    const c = createClient({ url: this.url, RESP: 2, password });
    c.on("error", () => {});
    await c.connect();
    try {
      return await c.sendCommand(args);
    } finally {
      c.destroy();
    }
  }
}

/** Starts a redis-server on a free loopback port, in-memory only unless told otherwise. */
export async function startRedis(options: RedisServerOptions = {}): Promise<RedisServer> {
  const dir = options.dir ?? await Deno.makeTempDir({ prefix: "rayd_redis_" });
  const server = new RedisServer(freePort(), dir, options.args ?? []);
  await server.start();
  return server;
}

/** Polls `check` until it returns true or `ms` pass. */
export async function waitFor(check: () => boolean | Promise<boolean>, ms = 5000): Promise<void> {
  const until = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > until) throw new Error(`Condition not met within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** True when a Redis answers PING at host:port (or asks for its password: it is up). */
export async function answersPing(hostname: string, port: number): Promise<boolean> {
  try {
    const conn = await Deno.connect({ hostname, port });
    try {
      await conn.write(new TextEncoder().encode("PING\r\n"));
      const buf = new Uint8Array(64);
      const n = await conn.read(buf);
      const text = new TextDecoder().decode(buf.subarray(0, n ?? 0));
      return text.startsWith("+PONG") || text.startsWith("-NOAUTH");
    } finally {
      conn.close();
    }
  } catch {
    return false;
  }
}
