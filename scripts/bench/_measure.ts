/**
 * The timing method of the benchmark suite: warm up, then repeat runs of at
 * least a minimum duration, each run a rate (work done / seconds), and report
 * the median run with the slowest and fastest beside it. Private to
 * scripts/bench/.
 *
 * @module
 */

/** How long to warm up and how many runs of what length to time. */
export interface MeasureOptions {
  /** Keep running batches untimed until this many milliseconds passed (at least one batch). */
  readonly warmupMs: number;
  /** Each timed run repeats batches until at least this many milliseconds passed. */
  readonly runMs: number;
  /** Timed runs. */
  readonly runs: number;
}

/** A full run: 1 s of warm-up, then five runs of at least one second. */
export const FULL: MeasureOptions = { warmupMs: 1000, runMs: 1000, runs: 5 };

/** A smoke run: one batch of warm-up, then one short run (numbers not worth quoting). */
export const QUICK: MeasureOptions = { warmupMs: 0, runMs: 100, runs: 1 };

/**
 * What one batch did: an amount of work (tasks, calls, gigabytes) timed by
 * the harness, or an amount with the seconds it took, for batches that time
 * only part of themselves (e.g. a transfer, not the setup before it).
 */
export type BatchResult = number | { readonly work: number; readonly seconds: number };

/** The rates of the timed runs, in work per second. */
export interface Measurement {
  /** Median of the runs. */
  value: number;
  /** Slowest run. */
  min: number;
  /** Fastest run. */
  max: number;
  /** Number of timed runs. */
  runs: number;
  /** Every run's rate, in the order they ran. */
  samples: number[];
}

/** Thrown by a metric that cannot run here; the reason is reported instead of a number. */
export class BenchSkipped extends Error {
  /** @param reason why the metric did not run, e.g. "cluster mode not available yet" */
  constructor(reason: string) {
    super(reason);
    this.name = "BenchSkipped";
  }
}

/**
 * Times `batch` by the method above.
 *
 * @param batch does one unit of the benchmark and says how much work it did
 * @param options warm-up, run length and run count
 * @param now the clock in milliseconds (a fake one in tests)
 * @returns the median, min and max rate of the runs
 * @example
 * ```ts
 * import { measure } from "./_measure.ts";
 * const m = await measure(() => 1000, { warmupMs: 0, runMs: 10, runs: 3 });
 * console.assert(m.runs === 3 && m.min <= m.value && m.value <= m.max);
 * ```
 */
export async function measure(
  batch: () => BatchResult | Promise<BatchResult>,
  options: MeasureOptions,
  now: () => number = () => performance.now(),
): Promise<Measurement> {
  if (!(options.runs >= 1)) {
    throw new RangeError(`Invalid runs: expected >= 1, got ${options.runs}`);
  }
  const warmupStart = now();
  do await batch(); while (now() - warmupStart < options.warmupMs);
  const samples: number[] = [];
  for (let r = 0; r < options.runs; r++) {
    let work = 0;
    let selfTimed = 0;
    let timedBySelf = false;
    const start = now();
    let elapsed: number;
    do {
      const result = await batch();
      if (typeof result === "number") {
        work += result;
      } else {
        timedBySelf = true;
        work += result.work;
        selfTimed += result.seconds;
      }
      elapsed = now() - start;
    } while (elapsed < options.runMs);
    samples.push(work / (timedBySelf ? selfTimed : elapsed / 1000));
  }
  const sorted = [...samples].sort((a, b) => a - b);
  return {
    value: median(sorted),
    min: sorted[0],
    max: sorted[sorted.length - 1],
    runs: samples.length,
    samples,
  };
}

/**
 * The median of an ascending, non-empty list.
 *
 * @param sorted numbers in ascending order
 * @returns the middle one, or the mean of the two middle ones
 */
export function median(sorted: readonly number[]): number {
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}
