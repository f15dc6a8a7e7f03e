/**
 * Fault numbers of a loopback cluster of real `rayd start --block`
 * processes (a head that checks its nodes every 200 ms and declares one dead
 * after 3 missed checks, as Ray's number quoted in docs/BENCHMARKS.md), with
 * this process as the driver:
 *
 * - `node_death_sigkill_ms`: SIGKILL of a node until `ray.nodes()` shows it
 *   dead (its links close: the head sees it at once);
 * - `node_death_sigstop_ms`: SIGSTOP of a node (links open, nothing
 *   answered) until `ray.nodes()` shows it dead (the health checks);
 * - `lost_object_rebuild_seconds`: a `get` of a 100 MiB task result whose
 *   only copy died with its node (stopped), timed from its death in
 *   `ray.nodes()`, another node up: the task runs again there and the
 *   result comes to the driver.
 *
 * ```sh
 * deno task bench:faults [--rounds N] [--json]
 * ```
 *
 * Each is measured `rounds` times (default 5); the median and the extremes
 * are printed.
 *
 * @module
 */
import { parseArgs } from "node:util";
import * as ray from "../../mod.ts";
import { type Child, freePort, startNode, stop } from "./_cluster.ts";

const PERIOD_MS = 200;
const THRESHOLD = 3;
const OBJECT_BYTES = 100 * 1024 * 1024;

/** `bytes` bytes, each `(i * 31 + seed) & 255`: made where it runs. */
export const made = ray.remote(function made(bytes: number, seed: number) {
  const out = new Uint8Array(bytes);
  for (let i = 0; i < bytes; i++) out[i] = (i * 31 + seed) & 255;
  return out;
});

/** Ms until `nodeId` is not alive in `ray.nodes()` (polled every 5 ms). */
async function untilDead(nodeId: string, t0: number, limitMs = 30_000): Promise<number> {
  for (;;) {
    const node = (await ray.nodes()).find((n) => n.nodeId === nodeId);
    const ms = performance.now() - t0;
    if (node && !node.alive) return ms;
    if (ms > limitMs) throw new Error(`node ${nodeId} still alive after ${limitMs} ms`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

function kill(child: Child, signal: Deno.Signal): void {
  try {
    child.process.kill(signal);
  } catch { /* exited */ }
}

/** Median, min and max of `values`. */
function summary(values: number[]): { median: number; min: number; max: number } {
  const s = [...values].sort((a, b) => a - b);
  return { median: s[Math.floor(s.length / 2)], min: s[0], max: s.at(-1)! };
}

/** Runs the fault steps `rounds` times each on a fresh loopback cluster. */
export async function runFaults(rounds: number): Promise<Record<string, number[]>> {
  const port = freePort();
  const token = crypto.randomUUID();
  const address = `127.0.0.1:${port}`;
  const node = ["--num-workers", "1", "--token", token, "--address", address];
  const children: Child[] = [];
  const head = await startNode([
    "--head",
    "--port",
    String(port),
    "--num-cpus",
    "0",
    "--token",
    token,
    "--health-check-period-ms",
    String(PERIOD_MS),
    "--health-check-failure-threshold",
    String(THRESHOLD),
  ]);
  children.push(head);
  const results: Record<string, number[]> = {
    node_death_sigkill_ms: [],
    node_death_sigstop_ms: [],
    lost_object_rebuild_seconds: [],
  };
  try {
    await ray.init({ address, token });
    for (let round = 0; round < rounds; round++) {
      const a = await startNode([...node, "--resources", '{"M": 1}']);
      children.push(a);
      let t0 = performance.now();
      kill(a, "SIGKILL");
      results.node_death_sigkill_ms.push(await untilDead(a.nodeId, t0));

      const b = await startNode([...node, "--resources", '{"M": 1}']);
      children.push(b);
      // Its result stays in b's store (only its location reaches the driver).
      const ref = made.options({ resources: { M: 1 }, maxRetries: 1 }).remote(OBJECT_BYTES, round);
      await ray.wait([ref], { fetchLocal: false });
      // Where it is made again once b is dead.
      const c = await startNode([...node, "--resources", '{"M": 1}']);
      children.push(c);
      t0 = performance.now();
      kill(b, "SIGSTOP");
      results.node_death_sigstop_ms.push(await untilDead(b.nodeId, t0));
      t0 = performance.now();
      const value = await ray.get(ref);
      results.lost_object_rebuild_seconds.push((performance.now() - t0) / 1000);
      kill(b, "SIGKILL");
      kill(b, "SIGCONT");
      const last = ((OBJECT_BYTES - 1) * 31 + round) & 255;
      if (value.length !== OBJECT_BYTES || value[OBJECT_BYTES - 1] !== last) {
        throw new Error("the rebuilt object is not the one made the first time");
      }
      await stop(c);
    }
  } finally {
    await ray.shutdown();
    for (const child of children.reverse()) await stop(child);
  }
  return results;
}

if (import.meta.main) {
  const { values } = parseArgs({
    args: Deno.args,
    options: { rounds: { type: "string", default: "5" }, json: { type: "boolean" } },
  });
  const rounds = Number(values.rounds);
  if (!Number.isInteger(rounds) || rounds < 1) {
    throw new RangeError(`Invalid --rounds ${values.rounds}: a whole number of at least 1`);
  }
  const results = await runFaults(rounds);
  if (values.json) console.log(JSON.stringify(results));
  else {
    console.log(
      `health checks every ${PERIOD_MS} ms, dead after ${THRESHOLD} missed; ${rounds} rounds`,
    );
    for (const [name, list] of Object.entries(results)) {
      const { median, min, max } = summary(list);
      console.log(
        `${name}: median ${median.toFixed(2)} (min ${min.toFixed(2)}, max ${max.toFixed(2)})`,
      );
    }
  }
}
