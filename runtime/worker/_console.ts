/**
 * Worker output as Ray's `log_to_driver` shows it: each line a task prints
 * through `console` goes to the process's stdout or stderr prefixed with the
 * worker and the task, `(worker w3, add) ...`; with `logToDriver: false`
 * nothing is printed. Private to worker/.
 *
 * @module
 */
import { currentTask } from "../core/mod.ts";

/** The console methods that print, and the stream each goes to. */
const METHODS = {
  log: "out",
  info: "out",
  debug: "out",
  warn: "err",
  error: "err",
} as const;

/** What `console` prints in a worker: text, and whether stdout or stderr. */
export type LineSink = (text: string, stream: "out" | "err") => void;

const encoder = new TextEncoder();

/** Writes to the process's stdout or stderr (shared by every thread). */
const processSink: LineSink = (text, stream) => {
  (stream === "out" ? Deno.stdout : Deno.stderr).writeSync(encoder.encode(text));
};

/**
 * Replaces this thread's printing console methods.
 *
 * @param workerId the worker's id, shown in each prefix
 * @param logToDriver false: print nothing at all
 * @param sink where lines go (default: the process's stdout and stderr)
 */
export function installWorkerConsole(
  workerId: string,
  logToDriver: boolean,
  sink: LineSink = processSink,
): void {
  const target = console as unknown as Record<string, (...args: unknown[]) => void>;
  for (const [method, stream] of Object.entries(METHODS)) {
    target[method] = logToDriver
      ? (...args: unknown[]) => sink(prefixLines(prefixOf(workerId), formatArgs(args)), stream)
      : () => {};
  }
}

/** `(worker w3, add)`, or `(worker w3)` outside a task. */
function prefixOf(workerId: string): string {
  const name = currentTask()?.name;
  return name ? `(worker ${workerId}, ${name})` : `(worker ${workerId})`;
}

/** Every line of `text` with the prefix, ending in a line break. */
export function prefixLines(prefix: string, text: string): string {
  return text.split("\n").map((line) => `${prefix} ${line}`).join("\n") + "\n";
}

/**
 * The text `console.log(...args)` prints: strings as they are, other values
 * through `Deno.inspect`, separated by spaces; `%s`, `%d`, `%i`, `%f`, `%o`,
 * `%O`, `%c` and `%%` in a leading string are substituted as console does.
 */
export function formatArgs(args: readonly unknown[]): string {
  const rest = [...args];
  const parts: string[] = [];
  if (typeof rest[0] === "string" && rest.length > 1 && rest[0].includes("%")) {
    const format = rest.shift() as string;
    parts.push(format.replace(/%([sdifoOc%])/g, (whole, kind: string) => {
      if (kind === "%") return "%";
      if (rest.length === 0) return whole;
      const value = rest.shift();
      switch (kind) {
        case "s":
          return typeof value === "string" ? value : inspect(value);
        case "d":
        case "i":
          return String(typeof value === "bigint" ? value : Math.trunc(Number(value)));
        case "f":
          return String(Number(value));
        case "c":
          return "";
        default:
          return inspect(value);
      }
    }));
  }
  for (const a of rest) parts.push(typeof a === "string" ? a : inspect(a));
  return parts.join(" ");
}

function inspect(value: unknown): string {
  return Deno.inspect(value, { colors: false, depth: 4 });
}
