/**
 * The cluster metrics: a head and two more nodes on loopback, each its own
 * `rayd start --block` process (each waited for until it prints its ready
 * line), and a driver process (_cluster_driver.ts) that times each metric.
 * Private to scripts/bench/.
 *
 * @module
 */
import type { Measurement } from "./_measure.ts";
import { BenchSkipped } from "./_measure.ts";
import type { BenchContext, Metric } from "./_metric.ts";
import { parseReadyLine } from "../../cli/start.ts";

/** Why the cluster metrics report no number until multi-node mode lands. */
export const CLUSTER_NOT_AVAILABLE = "cluster mode not available yet";
/** How long a node may take to print its ready line. */
const START_TIMEOUT_MS = 30_000;
/** Keep the last this many characters of a child's standard error for messages. */
const STDERR_TAIL = 4000;

const REPO = new URL("../../", import.meta.url);
const CLI = new URL("cli/main.ts", REPO);
const DRIVER = new URL("./_cluster_driver.ts", import.meta.url);

/** A child process with the tail of its standard error. */
export interface Child {
  readonly process: Deno.ChildProcess;
  readonly status: Promise<Deno.CommandStatus>;
  stderr(): string;
}

/** A running loopback cluster. */
interface Cluster {
  readonly address: string;
  readonly token: string;
}

function spawn(args: string[], stdout: "null" | "piped" = "null"): Child {
  const process = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", ...args],
    cwd: REPO,
    stdin: "null",
    stdout,
    stderr: "piped",
  }).spawn();
  let tail = "";
  const drained = (async () => {
    const decoder = new TextDecoder();
    for await (const chunk of process.stderr) {
      tail = (tail + decoder.decode(chunk, { stream: true })).slice(-STDERR_TAIL);
    }
  })();
  const status = drained.then(() => process.status);
  return { process, status, stderr: () => tail };
}

/** A free TCP port on 127.0.0.1 (free when asked). */
export function freePort(): number {
  const probe = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = probe.addr.port;
  probe.close();
  return port;
}

/** Stops a child we started: SIGTERM, then SIGKILL if it lingers. */
export async function stop(child: Child): Promise<void> {
  try {
    child.process.kill("SIGTERM");
  } catch {
    return; // already exited
  }
  const timer = setTimeout(() => {
    try {
      child.process.kill("SIGKILL");
    } catch { /* exited meanwhile */ }
  }, 5000);
  await child.status;
  clearTimeout(timer);
}

/** The error for a failed child: BenchSkipped when it said rayd lacks the feature, else a plain Error. */
function failure(what: string, code: number, stderr: string): Error {
  if (/not implemented yet/i.test(stderr)) return new BenchSkipped(CLUSTER_NOT_AVAILABLE);
  return new Error(`${what} exited with code ${code}: ${stderr.trim().slice(-500)}`);
}

/** Starts one node (`rayd start ARGS --block`) and waits for its ready line (or its failure). */
export async function startNode(args: string[]): Promise<Child & { nodeId: string }> {
  const child = spawn([CLI.href, "start", ...args, "--block"], "piped");
  const exited = child.status.then((s) => s.code);
  const ready = (async () => {
    const decoder = new TextDecoder();
    let text = "";
    for await (const chunk of child.process.stdout) {
      text += decoder.decode(chunk, { stream: true });
      const line = parseReadyLine(text);
      if (line) return line.nodeId;
    }
    return false;
  })();
  const timeout = new Promise<"timeout">((r) => setTimeout(r, START_TIMEOUT_MS, "timeout"));
  const first = await Promise.race([ready, exited.then((code) => ({ code })), timeout]);
  if (typeof first === "string" && first !== "timeout") return { ...child, nodeId: first };
  if (first === "timeout" || first === false) {
    await stop(child);
    throw new Error(`rayd start ${args.join(" ")} was not ready within ${START_TIMEOUT_MS} ms`);
  }
  throw failure(`rayd start ${args.join(" ")}`, (first as { code: number }).code, child.stderr());
}

const clusters = new WeakMap<BenchContext, Promise<Cluster>>();

/** The suite's loopback cluster, started by the first cluster metric and stopped with the suite. */
function cluster(ctx: BenchContext): Promise<Cluster> {
  let started = clusters.get(ctx);
  if (!started) {
    started = startCluster(ctx);
    clusters.set(ctx, started);
  }
  return started;
}

async function startCluster(ctx: BenchContext): Promise<Cluster> {
  const port = freePort();
  const token = crypto.randomUUID();
  const workers = String(Math.max(1, Math.floor(ctx.numWorkers / 3)));
  const common = ["--num-workers", workers, "--token", token];
  // As Ray's cluster_utils setup for these metrics: a head that offers no CPU to tasks.
  const head = await startNode([
    "--head",
    "--port",
    String(port),
    "--dashboard-port",
    "0",
    "--num-cpus",
    "0",
    ...common,
  ]);
  ctx.defer(() => stop(head));
  const address = `127.0.0.1:${port}`;
  for (let i = 0; i < 2; i++) {
    const node = await startNode(["--address", address, ...common]);
    ctx.defer(() => stop(node));
  }
  return { address, token };
}

/** A cluster metric: timed by a driver process joined to the loopback cluster. */
function clusterMetric(name: string, unit: string): Metric {
  return {
    name,
    unit,
    kind: "rayd",
    notImplemented: CLUSTER_NOT_AVAILABLE,
    async run(ctx): Promise<Measurement> {
      const { address, token } = await cluster(ctx);
      const args = [DRIVER.href, "--address", address, "--token", token, "--metric", name];
      const driver = spawn(ctx.quick ? [...args, "--quick"] : args, "piped");
      const [out, status] = await Promise.all([
        new Response(driver.process.stdout).text().catch(() => ""),
        driver.status,
      ]);
      if (!status.success) throw failure(`cluster driver ${name}`, status.code, driver.stderr());
      return JSON.parse(out.trim().split("\n").at(-1)!) as Measurement;
    },
  };
}

/** The cluster metrics, in the order of docs/BENCHMARKS.md. */
export const CLUSTER_METRICS: readonly Metric[] = [
  clusterMetric("cluster_tasks_async", "tasks/s"),
  clusterMetric("cluster_object_transfer_gigabytes", "GB/s"),
  clusterMetric("cluster_broadcast_gigabytes", "GB/s"),
];
