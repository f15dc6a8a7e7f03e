/**
 * Opening a Redis connection and checking that it is a Redis the store can
 * use, with a clear error for each way it can be wrong.
 *
 * @module
 */
import { longTimeout, type LongTimer, MAX_TIMER_MS } from "../common/mod.ts";
import { createClient } from "./_redis_client.ts";
import {
  connectTimedOut,
  ControlStoreError,
  hostUnresolved,
  notRedis,
  redisError,
  redisTooOld,
} from "./errors.ts";

/** The parts of a node-redis client the store uses. */
export interface Conn {
  readonly isReady: boolean;
  connect(): Promise<unknown>;
  sendCommand(args: string[]): Promise<unknown>;
  on(event: string, listener: (...args: any[]) => void): unknown;
  duplicate(): Conn;
  subscribe(channel: string, listener: (message: string, channel: string) => void): Promise<void>;
  unsubscribe(channel: string): Promise<void>;
  close(): Promise<void>;
  destroy(): void;
  /** The socket does not keep the process alive (each command's deadline timer does). */
  unref(): void;
}

/** How to open and check the connection. */
export interface OpenOptions {
  prefix: string;
  username?: string;
  password?: string;
  connectTimeoutMs: number;
  retryMaxMs: number;
  /** Lua source to load (SCRIPT LOAD). */
  script: string;
  /** Called, after the first successful connection, when it is lost and when it is back. */
  events: { down: (err: unknown) => void; up: () => void };
}

/** A checked connection. */
export interface RedisTarget {
  conn: Conn;
  /** SHA1 of the loaded script. */
  sha: string;
  /** The URL without credentials. */
  address: string;
}

const MIN_VERSION = [6, 2];

/**
 * Parses a Redis URL (`host:port` is taken as `redis://host:port`).
 *
 * @returns the URL to connect to and the address to show (no credentials)
 * @throws {TypeError} when it is not a `redis://` or `rediss://` URL
 */
export function parseRedisUrl(url: string): { href: string; address: string } {
  const withScheme = url.includes("://") ? url : `redis://${url}`;
  let u: URL;
  try {
    u = new URL(withScheme);
  } catch (err) {
    throw new TypeError(`Invalid Redis URL: expected redis://host:port, got "${url}"`, {
      cause: err,
    });
  }
  if ((u.protocol !== "redis:" && u.protocol !== "rediss:") || u.hostname === "") {
    throw new TypeError(`Invalid Redis URL: expected redis://host:port, got "${url}"`);
  }
  const db = u.pathname === "/" || u.pathname === "" ? "" : u.pathname;
  return { href: u.href, address: `${u.protocol}//${u.host}${db}` };
}

/**
 * Connects, then checks the server: PING answers PONG, INFO names a Redis
 * version of at least 6.2, a write to `<prefix>meta` succeeds, the script loads.
 *
 * @throws {ControlStoreError} saying what is wrong; the connection is closed then
 */
export async function openRedis(url: string, o: OpenOptions): Promise<RedisTarget> {
  const { href, address } = parseRedisUrl(url);
  let established = false;
  let firstError: unknown;
  const conn = createClient({
    url: href,
    RESP: 2,
    disableOfflineQueue: true,
    // Only when given: a password in the URL is kept otherwise.
    ...(o.username !== undefined ? { username: o.username } : {}),
    ...(o.password !== undefined ? { password: o.password } : {}),
    socket: {
      // The socket's own timer fires at once past MAX_TIMER_MS; the deadline below holds the rest.
      connectTimeout: Math.min(o.connectTimeoutMs, MAX_TIMER_MS),
      reconnectStrategy: (retries: number, cause: Error) =>
        established ? Math.min(50 * 2 ** Math.min(retries, 6), o.retryMaxMs) : cause,
    },
  }) as unknown as Conn;
  // An idle connection must not keep a driver alive once its script is done.
  conn.unref();
  conn.on("error", (err: unknown) => {
    if (established) o.events.down(err);
    else firstError ??= err;
  });
  conn.on("ready", () => {
    if (established) o.events.up();
  });

  const check = async (): Promise<string> => {
    await conn.connect();
    const pong = await conn.sendCommand(["PING"]);
    if (pong !== "PONG") throw notRedis(address, `PING answered ${preview(pong)}`);
    const info = await conn.sendCommand(["INFO", "server"]);
    const version = typeof info === "string"
      ? /redis_version:([0-9.]+)/.exec(info)?.[1]
      : undefined;
    if (!version) throw notRedis(address, `INFO answered ${preview(info)}`);
    const [major, minor] = version.split(".").map(Number);
    if (major < MIN_VERSION[0] || (major === MIN_VERSION[0] && minor < MIN_VERSION[1])) {
      throw redisTooOld(address, version);
    }
    const meta = o.prefix + "meta";
    await conn.sendCommand(["HSET", meta, "layout", "1"]);
    await conn.sendCommand(["HSETNX", meta, "createdAt", String(Date.now())]);
    const sha = await conn.sendCommand(["SCRIPT", "LOAD", o.script]);
    if (typeof sha !== "string") throw notRedis(address, `SCRIPT LOAD answered ${preview(sha)}`);
    return sha;
  };

  let timer: LongTimer | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = longTimeout(
      () => reject(connectTimedOut(address, o.connectTimeoutMs, firstError)),
      o.connectTimeoutMs,
    );
  });
  const checking = check();
  checking.catch(() => {});
  try {
    const sha = await Promise.race([checking, deadline]);
    established = true;
    return { conn, sha, address };
  } catch (err) {
    conn.destroy();
    timer?.clear();
    throw await explain(href, address, err, firstError);
  } finally {
    timer?.clear();
  }
}

/**
 * The error for a failed connect: a host that does not resolve, or a server
 * that answers a PING with something other than Redis's protocol, is said
 * as such instead of as the client's parser error.
 */
async function explain(
  href: string,
  address: string,
  err: unknown,
  firstError: unknown,
): Promise<ControlStoreError> {
  const cause = firstError ?? err;
  const text = cause instanceof Error ? cause.message : String(cause);
  const host = new URL(href).hostname;
  if (/ENOTFOUND|EAI_AGAIN|EAI_NONAME|failed to lookup address/i.test(text)) {
    return hostUnresolved(address, host, cause);
  }
  if (err instanceof ControlStoreError && err.code !== "unreachable") return err;
  if (/ECONNREFUSED|EHOSTUNREACH|ENETUNREACH/.test(text)) {
    return redisError("connect to", address, cause);
  }
  const sent = await firstBytes(host, Number(new URL(href).port || 6379));
  if (sent !== undefined && !/^[+\-:$*_#,(!=%~>|]/.test(sent)) {
    return notRedis(address, `it sent ${quote(sent)}`, cause);
  }
  return err instanceof ControlStoreError ? err : redisError("connect to", address, cause);
}

/** What the server sends back on a fresh connection to a PING (within 1 s), or undefined. */
async function firstBytes(hostname: string, port: number): Promise<string | undefined> {
  let conn: Deno.TcpConn | undefined;
  const timer = setTimeout(() => conn?.close(), 1000);
  try {
    conn = await Deno.connect({ hostname: hostname.replace(/^\[|\]$/g, ""), port });
    await conn.write(new TextEncoder().encode("PING\r\n"));
    const buf = new Uint8Array(48);
    const n = await conn.read(buf);
    if (!n) return undefined;
    return new TextDecoder("latin1").decode(buf.subarray(0, n));
  } catch {
    return undefined;
  } finally {
    clearTimeout(timer);
    try {
      conn?.close();
    } catch {
      // closed by the timer
    }
  }
}

/** Bytes as a quoted string: printable ASCII as is, the rest as \xNN. */
function quote(bytes: string): string {
  let out = "";
  for (const ch of bytes) {
    const c = ch.charCodeAt(0);
    out += c >= 0x20 && c < 0x7f && ch !== '"' && ch !== "\\"
      ? ch
      : "\\x" + c.toString(16).padStart(2, "0");
  }
  return `"${out}${bytes.length >= 48 ? "..." : ""}"`;
}

function preview(reply: unknown): string {
  const text = JSON.stringify(reply) ?? String(reply);
  return text.length > 60 ? text.slice(0, 60) + "..." : text;
}

/**
 * `p`, or the error `late()` returns once `ms` have passed (`p` goes on).
 *
 * @param p what to wait for
 * @param ms the deadline
 * @param late called once at the deadline; returns the error to reject with
 */
export function withDeadline<T>(p: Promise<T>, ms: number, late: () => Error): Promise<T> {
  let timer: LongTimer | undefined;
  const missed = new Promise<never>((_, reject) => {
    timer = longTimeout(() => reject(late()), ms);
  });
  return Promise.race([p, missed]).finally(() => timer?.clear());
}
