/**
 * A progress bar on standard error for a `get` or `wait` over many refs:
 * done / total, rate and time left, redrawn in place while stderr is a
 * terminal; nothing otherwise.
 *
 * @module
 */
import { config, longInterval, type ProgressHook } from "../common/mod.ts";

/** Where and when a bar is drawn (defaults: stderr, the progress settings). */
export interface ProgressOptions {
  /** Writes text as is (default: to stderr). */
  write?: (text: string) => void;
  /** Whether the output is a terminal (default: `Deno.stderr.isTerminal()`). */
  isTerminal?: () => boolean;
  /** Fewest refs that get a bar (default: the `progressMinRefs` setting). */
  minRefs?: number;
  /** Milliseconds between redraws (default: the `progressIntervalMs` setting). */
  intervalMs?: number;
  /** Clock in milliseconds (default `performance.now`). */
  now?: () => number;
  /** Width of the terminal (default: `Deno.consoleSize()`, else 80). */
  columns?: () => number;
}

const encoder = new TextEncoder();

/**
 * A hook that draws a bar on a terminal for waits over many refs.
 *
 * @param options output, thresholds and clock
 * @returns the hook for `get` and `wait`
 * @example
 * ```ts
 * import { terminalProgress } from "./progress.ts";
 * const out: string[] = [];
 * const hook = terminalProgress({ write: (t) => out.push(t), isTerminal: () => true, minRefs: 1 });
 * const stop = hook("get", 10, () => Promise.resolve(10));
 * stop?.();
 * ```
 */
export function terminalProgress(options: ProgressOptions = {}): ProgressHook {
  const write = options.write ?? ((t: string) => Deno.stderr.writeSync(encoder.encode(t)));
  const isTerminal = options.isTerminal ?? (() => Deno.stderr.isTerminal());
  const minRefs = options.minRefs ?? config("progressMinRefs");
  const intervalMs = options.intervalMs ?? config("progressIntervalMs");
  const now = options.now ?? (() => performance.now());
  const columns = options.columns ?? terminalColumns;
  return (kind, total, poll) => {
    if (total < minRefs || !isTerminal()) return undefined;
    const started = now();
    let done = 0;
    let drawn = false;
    let polling = false;
    let stopped = false;
    const draw = () => {
      drawn = true;
      const line = formatProgress({ kind, done, total, elapsedMs: now() - started }, columns());
      write(`\r\x1b[2K${line}`);
    };
    const tick = () => {
      if (polling || stopped) return;
      polling = true;
      poll().then((n) => {
        polling = false;
        if (stopped) return;
        done = Math.min(n, total);
        draw();
      }, () => polling = false);
    };
    const timer = longInterval(tick, intervalMs, { unref: true });
    return () => {
      if (stopped) return;
      stopped = true;
      timer.clear();
      if (!drawn) return;
      done = total;
      draw();
      write("\n");
    };
  };
}

/** One bar's numbers. */
export interface ProgressState {
  kind: "get" | "wait";
  done: number;
  total: number;
  elapsedMs: number;
}

/**
 * One line of a bar: `get [#####.....] 512/1,000 51% 1,234/s ETA 0.4s`.
 *
 * @param p what is done, of what, since when
 * @param width columns the line may take (the bar shrinks to fit)
 * @returns the line, without a line break
 * @example
 * ```ts
 * import { formatProgress } from "./progress.ts";
 * const line = formatProgress({ kind: "get", done: 500, total: 1000, elapsedMs: 1000 }, 80);
 * console.assert(line.includes("500/1,000") && line.includes("500/s"));
 * ```
 */
export function formatProgress(p: ProgressState, width = 80): string {
  const fraction = p.total > 0 ? Math.min(1, p.done / p.total) : 1;
  const seconds = p.elapsedMs / 1000;
  const rate = seconds > 0 ? p.done / seconds : 0;
  const eta = p.done >= p.total
    ? `in ${duration(seconds)}`
    : rate > 0
    ? `ETA ${duration((p.total - p.done) / rate)}`
    : "ETA ?";
  const tail = ` ${fmt(p.done)}/${fmt(p.total)} ${Math.floor(fraction * 100)}% ` +
    `${fmt(Math.round(rate))}/s ${eta}`;
  const room = Math.max(10, Math.min(40, width - p.kind.length - tail.length - 4));
  const full = Math.round(fraction * room);
  return `${p.kind} [${"#".repeat(full)}${".".repeat(room - full)}]${tail}`;
}

function fmt(n: number): string {
  return n.toLocaleString("en-US");
}

function duration(s: number): string {
  if (s < 60) return `${s.toFixed(1)}s`;
  const m = Math.floor(s / 60);
  return m < 60 ? `${m}m${Math.round(s % 60)}s` : `${Math.floor(m / 60)}h${m % 60}m`;
}

function terminalColumns(): number {
  try {
    return Deno.consoleSize().columns;
  } catch {
    return 80;
  }
}
