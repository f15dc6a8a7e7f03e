/**
 * A parallel hyperparameter search with early stopping.
 *
 * Each trial trains a small linear model by gradient descent with its own
 * learning rate and momentum, one epoch at a time, until its loss reaches the
 * target or its epochs run out. The driver takes results as they come
 * (`ray.wait`), draws a progress bar, and as soon as one trial reaches the
 * target it cancels every trial still queued or running (`ray.cancel`). The
 * trials look at `getRuntimeContext().signal` between epochs, so a cancelled
 * trial stops at its next epoch. The run checks itself: the best trial must
 * reach the target, and every trial must end either with a result or with
 * `TaskCancelledError` (the process exits 1 otherwise).
 *
 * Run it with `deno run -A examples/hyperparameter_search.ts [--trials N] [--seed S]`.
 * With `RAYD_ADDRESS` set, `ray.init()` joins that cluster.
 *
 * @module
 */
import { parseArgs } from "node:util";
import * as ray from "../mod.ts";
import { random } from "./parameter_server.ts";

/** The hyperparameters of one trial. */
export interface Trial {
  id: number;
  learningRate: number;
  momentum: number;
}

/** What a trial reports when it ends by itself. */
export interface TrialResult {
  trial: Trial;
  loss: number;
  epochs: number;
}

/** The loss a trial must reach. */
export const TARGET_LOSS = 1e-4;

/** The trials: learning rates spread over three decades, momentum in [0, 0.9). */
export function trialsOf(count: number, seed: number): Trial[] {
  const rnd = random(seed);
  return Array.from({ length: count }, (_, id) => ({
    id,
    learningRate: 10 ** (-3 + rnd() * 3) * 0.5,
    momentum: rnd() * 0.9,
  }));
}

/** Trains one trial on a fixed problem; stops early when the task is cancelled. */
export const runTrial = ray.remote(async function runTrial(
  trial: Trial,
  maxEpochs: number,
): Promise<TrialResult> {
  const dim = 8;
  const rnd = random(7);
  const rows = 256;
  const x = Float64Array.from({ length: rows * dim }, () => rnd() * 2 - 1);
  const truth = Float64Array.from({ length: dim }, (_, i) => i - dim / 2);
  const y = Float64Array.from({ length: rows }, (_, r) => {
    let s = 0;
    for (let d = 0; d < dim; d++) s += x[r * dim + d] * truth[d];
    return s;
  });
  const w = new Float64Array(dim);
  const velocity = new Float64Array(dim);
  const signal = ray.getRuntimeContext().signal;
  let loss = Infinity;
  let epoch = 0;
  while (epoch < maxEpochs && loss > TARGET_LOSS && (epoch === 0 || Number.isFinite(loss))) {
    const grad = new Float64Array(dim);
    loss = 0;
    for (let r = 0; r < rows; r++) {
      let err = -y[r];
      for (let d = 0; d < dim; d++) err += x[r * dim + d] * w[d];
      loss += err * err / rows;
      for (let d = 0; d < dim; d++) grad[d] += 2 * err * x[r * dim + d] / rows;
    }
    for (let d = 0; d < dim; d++) {
      velocity[d] = trial.momentum * velocity[d] - trial.learningRate * grad[d];
      w[d] += velocity[d];
    }
    epoch++;
    // One epoch is one unit of work: yield, and stop when cancelled.
    await new Promise((resolve) => setTimeout(resolve, 2));
    signal?.throwIfAborted();
  }
  return { trial, loss, epochs: epoch };
});

/** A one-line progress bar. */
function bar(done: number, total: number, best: number): string {
  const width = 30;
  const full = Math.round((done / total) * width);
  const shown = Number.isFinite(best) ? best.toExponential(2) : "-";
  return `[${"#".repeat(full)}${".".repeat(width - full)}] ${done}/${total} best loss ${shown}`;
}

/** What the search found. */
export interface SearchResult {
  best: TrialResult | undefined;
  finished: TrialResult[];
  cancelled: number;
}

/** Runs the trials, cancelling the rest as soon as one reaches the target. */
export async function search(
  trials: Trial[],
  maxEpochs: number,
  draw: (line: string) => void = () => {},
): Promise<SearchResult> {
  let pending = trials.map((t) => runTrial.remote(t, maxEpochs));
  const all = [...pending];
  const finished: TrialResult[] = [];
  let best: TrialResult | undefined;
  let stopped = false;
  while (pending.length > 0) {
    const [ready, rest] = await ray.wait(pending, { numReturns: 1, progress: false });
    pending = rest;
    for (const ref of ready) {
      try {
        const result = await ray.get(ref);
        finished.push(result);
        if (!best || result.loss < best.loss) best = result;
      } catch (e) {
        if (!(e instanceof ray.TaskCancelledError)) throw e;
      }
    }
    draw(bar(all.length - pending.length, all.length, best?.loss ?? Infinity));
    if (!stopped && best && best.loss <= TARGET_LOSS) {
      stopped = true;
      await Promise.all(pending.map((ref) => ray.cancel(ref)));
    }
  }
  return { best, finished, cancelled: all.length - finished.length };
}

if (import.meta.main) {
  const { values } = parseArgs({
    args: Deno.args,
    options: {
      trials: { type: "string", default: "24" },
      seed: { type: "string", default: "1" },
      epochs: { type: "string", default: "3000" },
    },
  });
  const count = Number(values.trials);
  const seed = Number(values.seed);
  const epochs = Number(values.epochs);
  for (const [name, v] of [["--trials", count], ["--seed", seed], ["--epochs", epochs]] as const) {
    if (!Number.isInteger(v) || v < 1) {
      console.error(`${name} must be an integer >= 1`);
      Deno.exit(2);
    }
  }
  const tty = Deno.stdout.isTerminal();
  const encoder = new TextEncoder();
  const draw = (line: string) =>
    tty ? Deno.stdout.writeSync(encoder.encode(`\r${line}`)) : console.log(line);
  await ray.init();
  const trials = trialsOf(count, seed);
  const { best, finished, cancelled } = await search(trials, epochs, draw);
  await ray.shutdown();
  if (tty) console.log();
  if (best) {
    const { learningRate, momentum } = best.trial;
    console.log(
      `best: trial ${best.trial.id}, learning rate ${learningRate.toPrecision(3)}, momentum ` +
        `${momentum.toFixed(2)}, loss ${best.loss.toExponential(2)} after ${best.epochs} epochs`,
    );
  }
  console.log(`${finished.length} trials finished, ${cancelled} cancelled early`);
  const ok = best !== undefined && best.loss <= TARGET_LOSS &&
    finished.length + cancelled === count;
  console.log(ok ? "search reached the target" : "search did NOT reach the target");
  if (!ok) Deno.exit(1);
}
