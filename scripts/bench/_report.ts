/**
 * The suite's report: its JSON shape (docs/BENCHMARKS.md), which rayd
 * metric compares with which peer or limit, Ray's published figures, and the
 * text and Markdown tables. Private to scripts/bench/.
 *
 * @module
 */
import type { Measurement } from "./_measure.ts";

/** A metric that ran: its rates and, for rayd metrics, the ratios to its peers and limits. */
export interface MeasuredResult extends Measurement {
  /** Unit of value, min, max and samples, e.g. `tasks/s`. */
  unit: string;
  /**
   * rayd / peer (or limit) by the other metric's name: the median of the pair ratios when the
   * metric timed that one in turn with itself (`paired`), else the two medians' ratio when that
   * one ran too.
   */
  ratios?: Record<string, number>;
}

/** The result of one metric: numbers, a reason it did not run, or the error it failed with. */
export type MetricResult = MeasuredResult | { skipped: string } | { error: string };

/** Where and on what the suite ran. */
export interface MachineInfo {
  /** Logical CPUs (`navigator.hardwareConcurrency`). */
  cpus: number;
  /** Deno version. */
  deno: string;
  /** V8 version. */
  v8: string;
  /** Git commit of the code measured (`unknown` outside a checkout). */
  commit: string;
  /** Whether the work tree had changes not committed. */
  dirty: boolean;
  /** `Deno.build.os`. */
  os: string;
  /** `Deno.build.arch`. */
  arch: string;
  /** CPU model name, when the OS tells. */
  cpuModel?: string;
  /** Physical memory in bytes. */
  memoryBytes?: number;
  /** 1, 5 and 15 minute load averages at the start (other work on the machine). */
  loadavg?: number[];
  /** Workers of rayd and of Piscina. */
  numWorkers: number;
  /** When the suite started (ISO 8601). */
  date: string;
  /** Whether this was a `--quick` smoke run (numbers not worth quoting). */
  quick: boolean;
}

/** The JSON that `rayd microbenchmark --json` prints. */
export interface BenchReport {
  /** Where and on what the suite ran. */
  machine: MachineInfo;
  /** Every metric that was selected, by name, in the order of docs/BENCHMARKS.md. */
  results: Record<string, MetricResult>;
}

/**
 * Which peer or limit each rayd metric is compared with: the pairs of
 * docs/BENCHMARKS.md, plus the nearest peer or limit of the others where
 * the two do the same work.
 */
export const COMPARISONS: Readonly<Record<string, readonly string[]>> = {
  single_client_tasks_sync: ["peer_piscina_tasks_sync", "limit_postmessage_roundtrip"],
  single_client_tasks_async: ["peer_piscina_tasks_async"],
  multi_client_tasks_async: ["peer_piscina_tasks_async"],
  single_client_put_gigabytes: ["limit_memcpy_gigabytes"],
  single_client_put_gigabytes_using: ["limit_memcpy_gigabytes"],
  task_args_100mb: ["peer_piscina_tasks_sync"],
  "1_1_actor_calls_sync": ["limit_postmessage_roundtrip"],
  "1_1_actor_calls_async": ["peer_piscina_tasks_async"],
  n_n_actor_calls_async: ["peer_piscina_tasks_async"],
  cluster_tasks_async: ["peer_piscina_tasks_async"],
  cluster_object_transfer_gigabytes: ["limit_tcp_loopback_gigabytes"],
  cluster_broadcast_gigabytes: ["limit_tcp_loopback_gigabytes"],
};

/** Ray's published `ray microbenchmark` figures (Ray's own, much larger, benchmark machine). */
export const RAY_FIGURES: Readonly<Record<string, string>> = {
  single_client_tasks_sync: "981/s",
  single_client_tasks_async: "8,041/s",
  multi_client_tasks_async: "21,230/s",
  single_client_put_calls: "5,173/s",
  single_client_get_calls: "10,620/s",
  single_client_put_gigabytes: "19.9 GB/s",
  "1_1_actor_calls_sync": "2,012/s",
  "1_1_actor_calls_async": "8,664/s",
  n_n_actor_calls_async: "27,376/s",
};

/** True when the result holds numbers. */
export function isMeasured(result: MetricResult | undefined): result is MeasuredResult {
  return result !== undefined && "value" in result;
}

/**
 * Adds to each rayd result the ratios to the peers and limits it compares with.
 *
 * @param results every result of the run, by metric name (changed in place)
 */
export function addRatios(results: Record<string, MetricResult>): void {
  for (const [name, others] of Object.entries(COMPARISONS)) {
    const result = results[name];
    if (!isMeasured(result)) continue;
    for (const other of others) {
      const paired = result.paired?.[other];
      if (paired) {
        (result.ratios ??= {})[other] = paired.ratio;
        continue;
      }
      const base = results[other];
      if (!isMeasured(base) || !(base.value > 0)) continue;
      (result.ratios ??= {})[other] = result.value / base.value;
    }
  }
}

/**
 * A rate for people: thousands separated at 100 and above, three significant digits below.
 *
 * @param value the rate
 * @returns e.g. `12,345` or `2.71`
 */
export function formatNumber(value: number): string {
  if (!Number.isFinite(value)) return String(value);
  if (Math.abs(value) >= 100) return Math.round(value).toLocaleString("en-US");
  return Number(value.toPrecision(3)).toString();
}

/** How a paired peer's ratio spread: `paired, pairs 0.61 .. 0.93` (or "" when not paired). */
function pairSpread(result: MeasuredResult, other: string): string {
  const pairs = result.paired?.[other]?.pairRatios;
  if (!pairs?.length) return "";
  return `paired, ${pairs.length} pairs ${Math.min(...pairs).toFixed(2)} .. ` +
    Math.max(...pairs).toFixed(2);
}

function ratioText(result: MeasuredResult, sep: string): string {
  return Object.entries(result.ratios ?? {})
    .map(([other, r]) => {
      const spread = pairSpread(result, other);
      const base = result.paired?.[other];
      const against = base ? ` (${spread}; limit ${formatNumber(base.value)})` : "";
      return `${r.toFixed(2)}x ${other}${against}`;
    })
    .join(sep);
}

/** Column widths of the text table. */
const WIDTHS = [45, 12, 14, 26] as const;

/** The header of the text table. */
export function textHeader(): string {
  const cells = ["metric", "median", "unit", "min .. max"];
  return cells.map((c, i) => i === 1 ? c.padStart(WIDTHS[i]) : c.padEnd(WIDTHS[i])).join(" ") +
    " ratio";
}

/**
 * One line of the text table.
 *
 * @param name the metric
 * @param result what it gave
 * @returns the line, without a newline
 */
export function textRow(name: string, result: MetricResult): string {
  const label = name.padEnd(WIDTHS[0]);
  if ("skipped" in result) return `${label} skipped: ${result.skipped}`;
  if ("error" in result) return `${label} error: ${result.error}`;
  const spread = `${formatNumber(result.min)} .. ${formatNumber(result.max)}`;
  return [
    label,
    formatNumber(result.value).padStart(WIDTHS[1]),
    result.unit.padEnd(WIDTHS[2]),
    spread.padEnd(WIDTHS[3]),
    ratioText(result, ", "),
  ].join(" ").trimEnd();
}

/**
 * The run as a Markdown table: metric, median (min .. max), the peer
 * or limit it compares with, the ratio, and Ray's published figure.
 *
 * @param report the run
 * @param order the metrics in the order to list them
 * @returns the table, one row a line
 */
export function markdownTable(report: BenchReport, order: readonly string[]): string {
  const lines = [
    "| metric | median (min .. max) | peer or limit | ratio | Ray (published) |",
    "|---|---|---|---|---|",
  ];
  for (const name of order) {
    const result = report.results[name];
    if (result === undefined) continue;
    const ray = RAY_FIGURES[name] ?? "";
    if (!isMeasured(result)) {
      const why = "skipped" in result ? `skipped: ${result.skipped}` : `error: ${result.error}`;
      lines.push(`| ${name} | ${why} | | | ${ray} |`);
      continue;
    }
    const value = `${formatNumber(result.value)} ${result.unit} ` +
      `(${formatNumber(result.min)} .. ${formatNumber(result.max)})`;
    const others = COMPARISONS[name] ?? [];
    const peers = others.map((o) => {
      const paired = result.paired?.[o];
      if (paired) {
        const base = report.results[o];
        const unit = isMeasured(base) ? base.unit : result.unit;
        return `${o}: ${formatNumber(paired.value)} ${unit} (timed in turn with it)`;
      }
      const base = report.results[o];
      return isMeasured(base) ? `${o}: ${formatNumber(base.value)} ${base.unit}` : `${o}: not run`;
    });
    const ratios = others.map((o) => {
      const r = result.ratios?.[o];
      if (r === undefined) return "";
      const spread = pairSpread(result, o);
      return spread ? `${r.toFixed(2)}x (${spread})` : `${r.toFixed(2)}x`;
    });
    lines.push(`| ${name} | ${value} | ${peers.join("<br>")} | ${ratios.join("<br>")} | ${ray} |`);
  }
  return lines.join("\n");
}
