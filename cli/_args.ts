/**
 * Strict flag parsing for `rayd` commands on top of `parseArgs` from node:util,
 * with error messages that name the offending flag. Private to cli/.
 *
 * @module
 */
import { parseArgs, type ParseArgsOptionsConfig } from "node:util";
import { usageError } from "./_command.ts";

/** Flag values by option name, as `parseArgs` gives them. */
export type FlagValues = Record<string, string | boolean | (string | boolean)[] | undefined>;

/** A command line split into flags and positionals. */
export interface ParsedFlags {
  /** Flag values by option name; absent flags are `undefined`. */
  values: FlagValues;
  /** Positional arguments before a `--`. */
  positionals: string[];
  /** Everything after the first `--`, untouched. */
  rest: string[];
}

/**
 * Parses `args` strictly against `options`: an unknown flag, a missing value or
 * a value given to a boolean flag throws a usage error naming the flag.
 *
 * @param args the command's arguments (after the command name)
 * @param options the flags the command accepts, as for `parseArgs`
 * @returns flags, positionals before `--`, and the arguments after `--`
 * @example
 * ```ts
 * const { values, rest } = parseFlags(["--json", "--", "x"], { json: { type: "boolean" } });
 * console.assert(values.json === true && rest[0] === "x");
 * ```
 */
export function parseFlags(args: string[], options: ParseArgsOptionsConfig): ParsedFlags {
  let parsed;
  try {
    parsed = parseArgs({ args, options, strict: true, allowPositionals: true, tokens: true });
  } catch (error) {
    throw usageError(explain(args, options) ?? `invalid arguments: ${String(error)}`);
  }
  const terminator = parsed.tokens.find((t) => t.kind === "option-terminator");
  const cut = terminator ? terminator.index : args.length;
  const positionals = parsed.tokens.flatMap((t) =>
    t.kind === "positional" && t.index < cut ? [t.value] : []
  );
  return { values: parsed.values, positionals, rest: args.slice(cut + 1) };
}

/** Finds the first flag that strict parsing rejects and says what is wrong with it. */
function explain(args: string[], options: ParseArgsOptionsConfig): string | undefined {
  const { tokens } = parseArgs({
    args,
    options,
    strict: false,
    allowPositionals: true,
    tokens: true,
  });
  for (const token of tokens) {
    if (token.kind !== "option") continue;
    const spec = options[token.name];
    if (!spec) return `unknown flag: ${token.rawName}`;
    if (spec.type === "boolean" && token.value !== undefined) {
      return `flag ${token.rawName} takes no value (got "${token.value}")`;
    }
    if (spec.type === "string" && token.value === undefined) {
      return `missing value for ${token.rawName}`;
    }
    if (spec.type === "string" && !token.inlineValue && token.value?.startsWith("-")) {
      return `missing value for ${token.rawName} (got flag-like "${token.value}"; ` +
        `write ${token.rawName}=${token.value} if that is the value)`;
    }
  }
  return undefined;
}

/**
 * Rejects positionals beyond the first `max`.
 *
 * @param positionals the positionals from {@link parseFlags}
 * @param max how many the command takes
 * @param hint appended to the message, e.g. where such arguments should go
 */
export function limitPositionals(positionals: string[], max: number, hint = ""): void {
  if (positionals.length > max) {
    throw usageError(`unexpected argument: ${positionals[max]}${hint}`);
  }
}

/**
 * A string flag's value, or `undefined` when it was not given.
 *
 * @param values flag values from {@link parseFlags}
 * @param name the option name
 * @returns the value
 */
export function stringFlag(values: FlagValues, name: string): string | undefined {
  const value = values[name];
  return typeof value === "string" ? value : undefined;
}

/**
 * Parses a TCP port: an integer from 0 (any free port) to 65535.
 *
 * @param flag the flag, for the message
 * @param raw the text given
 * @returns the port
 */
export function parsePort(flag: string, raw: string): number {
  const port = /^\d+$/.test(raw) ? Number(raw) : NaN;
  if (!(port >= 0 && port <= 65535)) {
    throw usageError(`invalid value for ${flag}: expected a port 0-65535, got "${raw}"`);
  }
  return port;
}

/**
 * Parses a whole number of at least 1.
 *
 * @param flag the flag, for the message
 * @param raw the text given
 * @returns the number
 */
export function parsePositiveInt(flag: string, raw: string): number {
  const n = /^\d+$/.test(raw) ? Number(raw) : NaN;
  if (!(n >= 1 && Number.isSafeInteger(n))) {
    throw usageError(
      `invalid value for ${flag}: expected a whole number of at least 1, got "${raw}"`,
    );
  }
  return n;
}

/**
 * Checks a `HOST:PORT` address (an IPv6 host in brackets) and returns it unchanged.
 *
 * @param flag the flag, for the message
 * @param raw the text given
 * @returns the address
 */
export function parseAddress(flag: string, raw: string): string {
  const match = /^(\[[0-9a-fA-F:.]+\]|[^:\s\[\]]+):(\d+)$/.exec(raw);
  const port = match ? Number(match[2]) : NaN;
  if (!(port >= 1 && port <= 65535)) {
    throw usageError(`invalid value for ${flag}: expected HOST:PORT, got "${raw}"`);
  }
  return raw;
}

/**
 * Checks a `redis://host:port` (or `rediss://`) URL and returns it unchanged.
 *
 * @param flag the flag, for the message
 * @param raw the text given
 * @returns the URL
 */
export function parseRedisUrl(flag: string, raw: string): string {
  const ok = URL.canParse(raw) && /^rediss?:$/.test(new URL(raw).protocol);
  if (!ok) throw usageError(`invalid value for ${flag}: expected redis://HOST:PORT, got "${raw}"`);
  return raw;
}

/**
 * Parses a JSON object of resource amounts, e.g. `{"GPU": 2}`.
 *
 * @param flag the flag, for the message
 * @param raw the JSON text given
 * @returns the amounts by resource name
 */
export function parseResources(flag: string, raw: string): Record<string, number> {
  let value: unknown;
  try {
    value = JSON.parse(raw);
  } catch {
    value = undefined;
  }
  const isAmounts = typeof value === "object" && value !== null && !Array.isArray(value) &&
    Object.values(value).every((n) => typeof n === "number" && Number.isFinite(n) && n >= 0);
  if (!isAmounts) {
    throw usageError(
      `invalid value for ${flag}: expected a JSON object of amounts like {"GPU": 1}, got '${raw}'`,
    );
  }
  return value as Record<string, number>;
}

/**
 * Checks that `raw` is one of `choices`.
 *
 * @param what the flag or argument, for the message
 * @param raw the text given
 * @param choices the accepted values
 * @returns the value, narrowed to the choices
 */
export function parseChoice<T extends string>(what: string, raw: string, choices: readonly T[]): T {
  if (!(choices as readonly string[]).includes(raw)) {
    throw usageError(`invalid value for ${what}: expected ${choices.join(" | ")}, got "${raw}"`);
  }
  return raw as T;
}

const BYTE_UNITS: Record<string, number> = {
  "": 1,
  b: 1,
  k: 1e3,
  kb: 1e3,
  kib: 2 ** 10,
  m: 1e6,
  mb: 1e6,
  mib: 2 ** 20,
  g: 1e9,
  gb: 1e9,
  gib: 2 ** 30,
  t: 1e12,
  tb: 1e12,
  tib: 2 ** 40,
};

/**
 * Parses a size in bytes: a whole number, optionally with a unit (`512MiB`, `2GB`, `1.5GiB`).
 *
 * @param flag the flag, for the message
 * @param raw the text given
 * @returns the number of bytes (at least 1)
 */
export function parseBytes(flag: string, raw: string): number {
  const match = /^(\d+(?:\.\d+)?)\s*([a-zA-Z]*)$/.exec(raw.trim());
  const unit = match ? BYTE_UNITS[match[2].toLowerCase()] : undefined;
  const bytes = match && unit !== undefined ? Math.floor(Number(match[1]) * unit) : NaN;
  if (!(bytes >= 1 && Number.isSafeInteger(bytes))) {
    throw usageError(
      `invalid value for ${flag}: expected a size in bytes like 2000000000 or 512MiB, got "${raw}"`,
    );
  }
  return bytes;
}

/**
 * Parses a number of at least 0 (fractions allowed), e.g. a CPU count.
 *
 * @param flag the flag, for the message
 * @param raw the text given
 * @returns the number
 */
export function parseAmount(flag: string, raw: string): number {
  const n = /^\d+(\.\d+)?$/.test(raw) ? Number(raw) : NaN;
  if (!(n >= 0 && Number.isFinite(n))) {
    throw usageError(`invalid value for ${flag}: expected a number of at least 0, got "${raw}"`);
  }
  return n;
}
