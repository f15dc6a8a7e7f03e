/**
 * What a benchmark metric is and what it gets from the suite that runs it.
 * Private to scripts/bench/.
 *
 * @module
 */
import type { BatchResult, Measurement } from "./_measure.ts";

/** What the suite hands each metric. */
export interface BenchContext {
  /** Smoke mode: shorter runs and smaller batches, numbers not worth quoting. */
  readonly quick: boolean;
  /** Workers for rayd and for the peers alike (the machine's logical CPUs). */
  readonly numWorkers: number;
  /** Times `batch` with the suite's warm-up, run length and run count. */
  measure(batch: () => BatchResult | Promise<BatchResult>): Promise<Measurement>;
  /** Starts the embedded rayd runtime the first time it is asked for; later calls reuse it. */
  useRay(): Promise<void>;
  /** Runs `cleanup` when the suite ends, whatever happened (last registered, first run). */
  defer(cleanup: () => void | Promise<void>): void;
}

/** Whose number a metric is: rayd's own, a peer system's, or a hardware/OS limit. */
export type MetricKind = "rayd" | "peer" | "limit";

/** One line of the suite. */
export interface Metric {
  /** The fixed name from docs/BENCHMARKS.md. */
  readonly name: string;
  /** Unit of the rate, e.g. `tasks/s`. */
  readonly unit: string;
  /** Whose number it is. */
  readonly kind: MetricKind;
  /** Reported as the skip reason when rayd throws "Not implemented yet" for this metric. */
  readonly notImplemented?: string;
  /** Runs the metric; throws BenchSkipped when it cannot run here. */
  run(ctx: BenchContext): Promise<Measurement>;
}
