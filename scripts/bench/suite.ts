/**
 * The benchmark suite of docs/BENCHMARKS.md: rayd's metrics on an embedded
 * cluster, the cluster metrics, and the peers and limits they compare with,
 * all in one run and one process tree.
 *
 * ```sh
 * deno run -A scripts/bench/suite.ts [--json] [--filter REGEX] [--quick] [--markdown]
 * ```
 *
 * Peers and limits run first, so that each rayd line prints its ratios as
 * soon as it finishes. Metrics that need a part of rayd not written yet
 * report `skipped: <reason>` and start running by themselves once it lands.
 *
 * @module
 */
import { parseArgs } from "node:util";
import * as ray from "../../mod.ts";
import { ACTOR_METRICS } from "./_actors.ts";
import { CLUSTER_METRICS } from "./_cluster.ts";
import { LIMIT_METRICS } from "./_limits.ts";
import { machineInfo } from "./_machine.ts";
import { BenchSkipped, FULL, measure, QUICK } from "./_measure.ts";
import type { BenchContext, Metric } from "./_metric.ts";
import { OBJECT_METRICS } from "./_objects.ts";
import { PEER_METRICS } from "./_peers.ts";
import {
  addRatios,
  type BenchReport,
  markdownTable,
  type MetricResult,
  textHeader,
  textRow,
} from "./_report.ts";
import { TASK_METRICS } from "./_tasks.ts";

export type { BenchReport, MachineInfo, MeasuredResult, MetricResult } from "./_report.ts";
export type { Measurement } from "./_measure.ts";

/** Every metric name of docs/BENCHMARKS.md, in its order. */
export const METRIC_NAMES: readonly string[] = [
  "single_client_tasks_sync",
  "single_client_tasks_async",
  "multi_client_tasks_async",
  "single_client_tasks_and_get_batch",
  "single_client_put_calls",
  "single_client_get_calls",
  "single_client_put_gigabytes",
  "single_client_put_gigabytes_using",
  "single_client_get_object_containing_10k_refs",
  "single_client_wait_1k_refs",
  "1_1_actor_calls_sync",
  "1_1_actor_calls_async",
  "n_n_actor_calls_async",
  "task_args_100mb",
  "fanout_fanin_10k",
  "nested_tasks_fib",
  "cluster_tasks_async",
  "cluster_object_transfer_gigabytes",
  "cluster_broadcast_gigabytes",
  "peer_piscina_tasks_async",
  "peer_piscina_tasks_sync",
  "limit_postmessage_roundtrip",
  "limit_memcpy_gigabytes",
  "limit_tcp_loopback_gigabytes",
];

const BY_NAME = new Map<string, Metric>(
  [...TASK_METRICS, ...OBJECT_METRICS, ...ACTOR_METRICS, ...CLUSTER_METRICS, ...PEER_METRICS]
    .concat(LIMIT_METRICS)
    .map((m) => [m.name, m]),
);

/** The metrics in the order they run: peers and limits first, then rayd's. */
const RUN_ORDER: readonly Metric[] = (() => {
  const metrics = METRIC_NAMES.map((name) => {
    const metric = BY_NAME.get(name);
    if (!metric) throw new Error(`Benchmark suite has no metric named ${name}`);
    return metric;
  });
  return [...metrics.filter((m) => m.kind !== "rayd"), ...metrics.filter((m) => m.kind === "rayd")];
})();

/** How to run the suite. */
export interface SuiteOptions {
  /** Print one JSON object at the end instead of a table line per metric. */
  json?: boolean;
  /** Run only the metrics whose names match. */
  filter?: RegExp;
  /** Smoke mode: one short run per metric, smaller batches; numbers not worth quoting. */
  quick?: boolean;
  /** Where lines go (default `console.log`). */
  out?: (line: string) => void;
  /** Workers for rayd and Piscina (default `navigator.hardwareConcurrency`). */
  numWorkers?: number;
}

function isNotImplemented(error: unknown): boolean {
  return error instanceof ray.RayError && error.message.startsWith("Not implemented yet");
}

/** What a metric that threw reports. */
function failed(metric: Metric, error: unknown): MetricResult {
  if (error instanceof BenchSkipped) return { skipped: error.message };
  if (isNotImplemented(error)) {
    return { skipped: metric.notImplemented ?? (error as Error).message };
  }
  const message = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
  return { error: message.split("\n")[0] };
}

/**
 * Runs the suite (or the metrics `filter` selects) and reports every result.
 * Starts the embedded runtime once for all rayd metrics and shuts it down at
 * the end, so the process can exit.
 *
 * @param options output format, filter, quick mode, where lines go
 * @returns the report, in the JSON shape of docs/BENCHMARKS.md
 * @example
 * ```ts ignore
 * const report = await runSuite({ filter: /^limit_memcpy/, quick: true, out: () => {} });
 * console.log(report.results.limit_memcpy_gigabytes);
 * ```
 */
export async function runSuite(options: SuiteOptions = {}): Promise<BenchReport> {
  const out = options.out ?? ((line: string) => console.log(line));
  const quick = options.quick === true;
  const numWorkers = options.numWorkers ?? navigator.hardwareConcurrency;
  const selected = RUN_ORDER.filter((m) => options.filter?.test(m.name) ?? true);
  const report: BenchReport = { machine: await machineInfo(numWorkers, quick), results: {} };
  const cleanups: (() => void | Promise<void>)[] = [];
  let rayStarted: Promise<void> | undefined;
  const ctx: BenchContext = {
    quick,
    numWorkers,
    measure: (batch) => measure(batch, quick ? QUICK : FULL),
    useRay: () =>
      rayStarted ??= ray.init({ numWorkers }).then(() => {
        cleanups.push(() => ray.shutdown());
      }),
    defer: (cleanup) => cleanups.push(cleanup),
  };
  if (!options.json) out(textHeader());
  try {
    for (const metric of selected) {
      let result: MetricResult;
      try {
        const { value, min, max, runs, samples, paired } = await metric.run(ctx);
        result = { value, unit: metric.unit, min, max, runs, samples, ...(paired && { paired }) };
      } catch (error) {
        result = failed(metric, error);
      }
      report.results[metric.name] = result;
      addRatios(report.results);
      if (!options.json) out(textRow(metric.name, result));
    }
  } finally {
    for (const cleanup of cleanups.reverse()) {
      try {
        await cleanup();
      } catch (error) {
        console.error(`Benchmark cleanup failed: ${error}`);
      }
    }
  }
  report.results = Object.fromEntries(
    METRIC_NAMES.filter((name) => name in report.results).map((n) => [n, report.results[n]]),
  );
  if (options.json) out(JSON.stringify(report, null, 2));
  return report;
}

const USAGE = "Usage: deno run -A scripts/bench/suite.ts [--json] [--filter REGEX] [--quick] " +
  "[--markdown]";

/**
 * The command line: runs the suite and returns the exit code (0 when every
 * metric ran or was skipped, 1 when one failed, 2 for a bad command line).
 * `--markdown` prints the docs/BENCHMARKS.md table at the end and the
 * progress lines on standard error.
 *
 * @param args the arguments after the script name
 * @returns the exit code
 */
export async function main(args: string[]): Promise<number> {
  let values;
  try {
    ({ values } = parseArgs({
      args,
      options: {
        json: { type: "boolean" },
        filter: { type: "string" },
        quick: { type: "boolean" },
        markdown: { type: "boolean" },
        help: { type: "boolean", short: "h" },
      },
    }));
  } catch (error) {
    console.error(`${(error as Error).message}\n${USAGE}`);
    return 2;
  }
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  let filter: RegExp | undefined;
  try {
    filter = values.filter === undefined ? undefined : new RegExp(values.filter);
  } catch (error) {
    console.error(`Invalid --filter: ${(error as Error).message}`);
    return 2;
  }
  const report = await runSuite({
    json: values.json,
    filter,
    quick: values.quick,
    out: values.markdown ? (line) => console.error(line) : undefined,
  });
  if (values.markdown) console.log(markdownTable(report, METRIC_NAMES));
  return Object.values(report.results).some((r) => "error" in r) ? 1 : 0;
}

if (import.meta.main) Deno.exitCode = await main(Deno.args);
