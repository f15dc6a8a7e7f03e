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
  /**
   * Peers or limits timed batch by batch in turn with this metric (measurePaired), by the
   * other metric's name: their ratio is then the median of the pairs' ratios.
   */
  paired?: Record<string, PairedPeer>;
}

/** A peer's (or limit's) runs, its batches timed in turn with a metric's own (measurePaired). */
export interface PairedPeer extends Measurement {
  /** The metric's rate / the peer's rate for each pair of batches, in the order they ran. */
  pairRatios: number[];
  /** Median of pairRatios. */
  ratio: number;
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
  return summary(samples);
}

/** A batch's work and seconds: its own when it timed itself, else the time `run` took. */
async function timedBatch(
  run: () => BatchResult | Promise<BatchResult>,
  now: () => number,
): Promise<{ work: number; seconds: number }> {
  const start = now();
  const result = await run();
  if (typeof result !== "number") return { work: result.work, seconds: result.seconds };
  return { work: result, seconds: (now() - start) / 1000 };
}

/** Median, min, max and samples of a list of run rates. */
function summary(samples: number[]): Measurement {
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
 * Times a metric and its peer (or limit) pair by pair on the same machine
 * state: each pair is one batch of the peer, then one batch of the metric,
 * and the next pair follows at once. Warm-up and runs as `measure`: each run
 * repeats pairs until `runMs` passed and gives each side a rate (its work /
 * its own batches' seconds). Every pair also gives a ratio (the metric's
 * batch rate / the peer's), and the peer's result carries the median of
 * those: a ratio that load changing from minute to minute moves much less
 * than two rates timed at different times.
 *
 * @param own the metric's batch (timed by the harness or by itself, as in `measure`)
 * @param peer the peer's batch, likewise
 * @param options warm-up, run length and run count
 * @param now the clock in milliseconds (a fake one in tests)
 * @returns the metric's runs, and the peer's runs with the pairs' ratios
 * @example
 * ```ts
 * import { measurePaired } from "./_measure.ts";
 * const { own, peer } = await measurePaired(() => 2, () => 1, { warmupMs: 0, runMs: 10, runs: 3 });
 * console.assert(own.runs === 3 && peer.pairRatios.length >= 3 && peer.ratio > 0);
 * ```
 */
export async function measurePaired(
  own: () => BatchResult | Promise<BatchResult>,
  peer: () => BatchResult | Promise<BatchResult>,
  options: MeasureOptions,
  now: () => number = () => performance.now(),
): Promise<{ own: Measurement; peer: PairedPeer }> {
  if (!(options.runs >= 1)) {
    throw new RangeError(`Invalid runs: expected >= 1, got ${options.runs}`);
  }
  const pair = async () => {
    const p = await timedBatch(peer, now);
    const o = await timedBatch(own, now);
    return { o, p };
  };
  const warmupStart = now();
  do await pair(); while (now() - warmupStart < options.warmupMs);
  const ownSamples: number[] = [];
  const peerSamples: number[] = [];
  const pairRatios: number[] = [];
  for (let r = 0; r < options.runs; r++) {
    const sums = { ownWork: 0, ownSeconds: 0, peerWork: 0, peerSeconds: 0 };
    const start = now();
    do {
      const { o, p } = await pair();
      sums.ownWork += o.work;
      sums.ownSeconds += o.seconds;
      sums.peerWork += p.work;
      sums.peerSeconds += p.seconds;
      pairRatios.push((o.work / o.seconds) / (p.work / p.seconds));
    } while (now() - start < options.runMs);
    ownSamples.push(sums.ownWork / sums.ownSeconds);
    peerSamples.push(sums.peerWork / sums.peerSeconds);
  }
  return {
    own: summary(ownSamples),
    peer: {
      ...summary(peerSamples),
      pairRatios,
      ratio: median([...pairRatios].sort((a, b) => a - b)),
    },
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
