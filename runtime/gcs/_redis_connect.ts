/**
 * Opening a Redis connection and checking that it is a Redis the store can
 * use, with a clear error for each way it can be wrong.
 *
 * @module
 */
import { longTimeout, type LongTimer, MAX_TIMER_MS } from "../common/mod.ts";
import { createClient } from "./_redis_client.ts";
import { connectTimedOut, ControlStoreError, notRedis, redisError, redisTooOld } from "./errors.ts";

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
    username: o.username,
    password: o.password,
    socket: {
      // The socket's own timer fires at once past MAX_TIMER_MS; the deadline below holds the rest.
      connectTimeout: Math.min(o.connectTimeoutMs, MAX_TIMER_MS),
      reconnectStrategy: (retries: number, cause: Error) =>
        established ? Math.min(50 * 2 ** Math.min(retries, 6), o.retryMaxMs) : cause,
    },
  }) as unknown as Conn;
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
    if (err instanceof ControlStoreError) throw err;
    throw redisError("connect to", address, firstError ?? err);
  } finally {
    timer?.clear();
  }
}

function preview(reply: unknown): string {
  const text = JSON.stringify(reply) ?? String(reply);
  return text.length > 60 ? text.slice(0, 60) + "..." : text;
}
