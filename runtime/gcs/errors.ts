/**
 * The control store's error class and the factories that build its errors.
 *
 * @module
 */
import { RayError } from "../common/mod.ts";

/** Why a control store call failed. */
export type ControlStoreErrorCode =
  | "unreachable"
  | "not-redis"
  | "auth"
  | "misconf"
  | "readonly"
  | "oom"
  | "wrong-type"
  | "old-version"
  | "closed"
  | "rejected";

/** A control store call failed; `code` says why and `cause` holds the driver's error. */
export class ControlStoreError extends RayError {
  /** Why it failed. */
  readonly code: ControlStoreErrorCode;
  /** @param code why @param message what went wrong @param options the underlying cause */
  constructor(code: ControlStoreErrorCode, message: string, options?: ErrorOptions) {
    super(message, options);
    this.code = code;
  }
}

/** True for failures that end by themselves (server down, refusing writes for now). */
export function isTransient(err: ControlStoreError): boolean {
  return err.code === "unreachable" || err.code === "misconf" || err.code === "readonly" ||
    err.code === "oom";
}

/**
 * Turns an error of the Redis client into a `ControlStoreError` that says
 * what to do about it.
 *
 * @param doing what was attempted, e.g. `"connect to"`, `"write to"`
 * @param address the server, without password
 * @param err what the client threw
 * @returns the error to throw
 * @example
 * ```ts
 * import { redisError } from "./errors.ts";
 * const e = redisError("write to", "redis://127.0.0.1:6379", new Error("MISCONF ..."));
 * console.assert(e.code === "misconf");
 * ```
 */
export function redisError(doing: string, address: string, err: unknown): ControlStoreError {
  if (err instanceof ControlStoreError) return err;
  const text = err instanceof Error ? err.message : String(err);
  const head = `Cannot ${doing} control store at ${address}`;
  const [code, detail] = classify(text);
  return new ControlStoreError(code, `${head}: ${detail} (${text})`, { cause: err });
}

function classify(text: string): [ControlStoreErrorCode, string] {
  if (/^(WRONGPASS|ERR invalid password|ERR AUTH)/i.test(text)) {
    return ["auth", "authentication failed: wrong user or password"];
  }
  if (/^NOAUTH/.test(text)) {
    return ["auth", "the server needs a password: give it in the URL, redis://:PASSWORD@host:port"];
  }
  if (/^MISCONF/.test(text)) {
    return [
      "misconf",
      "Redis refuses writes because it cannot save to disk (full disk or bad `dir`); " +
      "writes are kept in memory and retried",
    ];
  }
  if (/^READONLY/.test(text)) return ["readonly", "the server is a read-only replica"];
  if (/^OOM/.test(text)) return ["oom", "Redis is out of memory (maxmemory reached)"];
  if (/^WRONGTYPE/.test(text)) {
    return [
      "wrong-type",
      "a key under the store's prefix holds the wrong type of value " +
      "(another program uses the same key names: use another prefix or database)",
    ];
  }
  if (/ENOTFOUND|EAI_AGAIN/.test(text)) return ["unreachable", "cannot resolve the host name"];
  if (/ECONNREFUSED|ECONNRESET|EPIPE|ETIMEDOUT|closed|offline|Connection|Socket/i.test(text)) {
    return ["unreachable", "Redis is unreachable"];
  }
  return ["rejected", "Redis rejected the command"];
}

/** The server answered, but not as Redis does. */
export function notRedis(address: string, detail: string, cause?: unknown): ControlStoreError {
  return new ControlStoreError(
    "not-redis",
    `Cannot connect to control store at ${address}: it is not a Redis server (${detail})`,
    { cause },
  );
}

/** The host name of the address does not resolve. */
export function hostUnresolved(address: string, host: string, cause?: unknown): ControlStoreError {
  const text = cause instanceof Error ? cause.message : String(cause);
  return new ControlStoreError(
    "unreachable",
    `Cannot connect to control store at ${address}: cannot resolve host "${host}" ` +
      `(no such name, or DNS is unreachable: ${text})`,
    { cause },
  );
}

/** The server is Redis, but too old for the commands the store uses. */
export function redisTooOld(address: string, version: string): ControlStoreError {
  return new ControlStoreError(
    "old-version",
    `Cannot use control store at ${address}: Redis ${version} is too old (need 6.2 or newer)`,
  );
}

/** Connecting took longer than the deadline. */
export function connectTimedOut(address: string, ms: number, cause?: unknown): ControlStoreError {
  return new ControlStoreError(
    "unreachable",
    `Cannot connect to control store at ${address}: no Redis answer within ${ms} ms ` +
      "(is it a Redis server, and is it up?)",
    { cause },
  );
}

/** A query made while Redis is unreachable. */
export function storeUnreachable(address: string, queued: number): ControlStoreError {
  return new ControlStoreError(
    "unreachable",
    `Cannot query control store at ${address}: Redis is unreachable ` +
      `(${queued} write(s) queued, replayed when it is back)`,
  );
}

/** A command had no answer within its deadline (Redis frozen, overloaded, or the network stalls). */
export function noAnswer(address: string, ms: number): ControlStoreError {
  return new ControlStoreError(
    "unreachable",
    `Cannot use control store at ${address}: Redis did not answer within ${ms} ms ` +
      "(is it stopped, frozen or overloaded?)",
  );
}

/** A flush while Redis is unreachable: the events stay queued. */
export function writesQueued(address: string, queued: number): ControlStoreError {
  return new ControlStoreError(
    "unreachable",
    `Cannot write to control store at ${address}: Redis is unreachable ` +
      `(${queued} event(s) queued, replayed when it is back)`,
  );
}

/** A call made after `close()`. */
export function storeClosed(address: string): ControlStoreError {
  return new ControlStoreError("closed", `Cannot use control store at ${address}: it is closed`);
}
