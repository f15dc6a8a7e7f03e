/**
 * A parameter server: one actor holds the weights of a linear model; worker
 * tasks each compute the gradient of the loss on their own shard of the data
 * from the current weights and the server applies the averaged gradients.
 *
 * The data is made from known weights plus a little noise, so the run checks
 * itself: the loss must fall below a hundredth of where it started and the
 * learned weights must be near the true ones (the process exits 1 otherwise).
 *
 * Run it with `deno run -A examples/parameter_server.ts [--workers N] [--steps N]`.
 * With `RAYD_ADDRESS` set, `ray.init()` joins that cluster.
 *
 * @module
 */
import { parseArgs } from "node:util";
import * as ray from "../mod.ts";

/** One shard of the training data: `rows` samples of `dim` features and their targets. */
export interface Shard {
  rows: number;
  dim: number;
  x: Float64Array;
  y: Float64Array;
}

/** A deterministic generator (mulberry32), so every run sees the same data. */
export function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** The weights the data is made from. */
export function trueWeights(dim: number): Float64Array {
  return Float64Array.from({ length: dim }, (_, i) => Math.sin(i + 1) * 2);
}

/** Makes one shard from `trueWeights(dim)` with noise, seeded by `seed`. */
export const makeShard = ray.remote(function makeShard(
  seed: number,
  rows: number,
  dim: number,
): Shard {
  const rnd = random(seed);
  const w = trueWeights(dim);
  const x = new Float64Array(rows * dim);
  const y = new Float64Array(rows);
  for (let r = 0; r < rows; r++) {
    let dot = 0;
    for (let d = 0; d < dim; d++) {
      const v = rnd() * 2 - 1;
      x[r * dim + d] = v;
      dot += v * w[d];
    }
    y[r] = dot + (rnd() - 0.5) * 0.01;
  }
  return { rows, dim, x, y };
});

/** The mean squared error of `weights` on a shard and its gradient. */
export function lossAndGradient(
  shard: Shard,
  weights: Float64Array,
): { loss: number; gradient: Float64Array } {
  const { rows, dim, x, y } = shard;
  const gradient = new Float64Array(dim);
  let loss = 0;
  for (let r = 0; r < rows; r++) {
    let err = -y[r];
    for (let d = 0; d < dim; d++) err += x[r * dim + d] * weights[d];
    loss += err * err;
    for (let d = 0; d < dim; d++) gradient[d] += (2 * err * x[r * dim + d]) / rows;
  }
  return { loss: loss / rows, gradient };
}

/** A worker's step: the gradient of its shard at the server's current weights. */
export const computeGradient = ray.remote(function computeGradient(
  shard: Shard,
  weights: Float64Array,
): { loss: number; gradient: Float64Array } {
  return lossAndGradient(shard, weights);
});

/** The actor that holds the weights. */
export class ParameterServer {
  weights: Float64Array;
  updates = 0;

  constructor(dim: number, readonly learningRate: number) {
    this.weights = new Float64Array(dim);
  }

  /** The current weights. */
  getWeights(): Float64Array {
    return this.weights;
  }

  /** How many times gradients were applied. */
  updateCount(): number {
    return this.updates;
  }

  /** Applies the mean of `gradients`; returns the new weights. */
  applyGradients(...gradients: { gradient: Float64Array }[]): Float64Array {
    const next = Float64Array.from(this.weights);
    for (const { gradient } of gradients) {
      for (let d = 0; d < next.length; d++) {
        next[d] -= (this.learningRate * gradient[d]) / gradients.length;
      }
    }
    this.weights = next;
    this.updates++;
    return next;
  }
}

/** The remote ParameterServer class. */
export const Server = ray.remote(ParameterServer);

/** Trains with `workers` shards for `steps` synchronous steps; returns the losses and weights. */
export async function train(
  workers: number,
  steps: number,
  dim = 16,
  rows = 2000,
): Promise<{ losses: number[]; weights: Float64Array; updates: number }> {
  const server = Server.remote(dim, 0.2);
  const shards = Array.from({ length: workers }, (_, i) => makeShard.remote(i + 1, rows, dim));
  let weights = server.getWeights.remote();
  const losses: number[] = [];
  for (let step = 0; step < steps; step++) {
    const grads = shards.map((s) => computeGradient.remote(s, weights));
    weights = server.applyGradients.remote(...grads);
    const results = await ray.get(grads);
    losses.push(results.reduce((a, r) => a + r.loss, 0) / results.length);
  }
  const final = await ray.get(weights);
  const updates = await ray.get(server.updateCount.remote());
  return { losses, weights: final, updates };
}

if (import.meta.main) {
  const { values } = parseArgs({
    args: Deno.args,
    options: {
      workers: { type: "string", default: "4" },
      steps: { type: "string", default: "40" },
    },
  });
  const workers = Number(values.workers);
  const steps = Number(values.steps);
  for (const [name, v] of [["--workers", workers], ["--steps", steps]] as const) {
    if (!Number.isInteger(v) || v < 1) {
      console.error(`${name} must be an integer >= 1`);
      Deno.exit(2);
    }
  }
  await ray.init();
  const { losses, weights, updates } = await train(workers, steps);
  await ray.shutdown();

  const truth = trueWeights(weights.length);
  const distance = Math.sqrt(truth.reduce((a, t, i) => a + (t - weights[i]) ** 2, 0));
  for (let i = 0; i < losses.length; i += Math.max(1, Math.floor(losses.length / 8))) {
    console.log(`step ${String(i).padStart(3)}  loss ${losses[i].toFixed(6)}`);
  }
  console.log(`step ${losses.length - 1}  loss ${losses.at(-1)!.toFixed(6)}`);
  console.log(`${updates} updates; distance to the true weights ${distance.toFixed(4)}`);
  const ok = updates === steps && losses.at(-1)! < losses[0] / 100 && distance < 0.1;
  console.log(ok ? "parameter server converged" : "parameter server did NOT converge");
  if (!ok) Deno.exit(1);
}
