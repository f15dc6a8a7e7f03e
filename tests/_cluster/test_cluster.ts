/**
 * A loopback cluster for tests, like Ray's `cluster_utils.Cluster`: a head and
 * N nodes, each a real `rayd start --block` process on 127.0.0.1 with a fixed
 * test token and a private runtime folder. `start` waits for every ready line;
 * `kill` ends one node by SIGKILL, `terminate` by SIGTERM (it drains); `stop`
 * ends all (SIGTERM, then SIGKILL) and
 * fails when any process it started, or any of their children (the head's
 * redis-server), is still running. Each process's output is kept and shown
 * when it fails.
 *
 * ```ts ignore
 * await using cluster = await TestCluster.start({ nodes: [{ numWorkers: 2 }, { resources: { GPU: 1 } }] });
 * // ray.init({ address: cluster.address, token: cluster.token }) ...
 * await cluster.kill(1);
 * ```
 *
 * @module
 */
import { parseReadyLine } from "../../cli/start.ts";

/** The token every test cluster uses. */
export const TEST_CLUSTER_TOKEN = "rayd-test-cluster-token";
/** How long a node may take to print its ready line (cold starts on a busy machine). */
const READY_TIMEOUT_MS = 90_000;
/** How long `stop` waits after SIGTERM before SIGKILL. */
const STOP_TIMEOUT_MS = 15_000;
/** Most characters of a process's output kept. */
const OUTPUT_LIMIT = 64_000;

const CLI = new URL("../../cli/main.ts", import.meta.url);

/** What one node offers. */
export interface TestNodeOptions {
  /** Workers (default 1). */
  numWorkers?: number;
  /** CPUs offered (default: numWorkers). */
  numCpus?: number;
  /** Custom resources, e.g. `{ GPU: 1 }`. */
  resources?: Record<string, number>;
  /** Object store size, bytes or e.g. `"64MiB"` (default 64 MiB). */
  objectStoreMemory?: number | string;
  /** More `rayd start` flags. */
  args?: string[];
  /** The address it dials for the head (default the head's own: e.g. a proxy in front of it). */
  via?: string;
  /** More environment variables of its process (settings such as `RAYD_HEAD_RECONNECT_TIMEOUT_MS`). */
  env?: Record<string, string>;
}

/** What the head offers, and how it checks its nodes. */
export interface TestHeadOptions extends TestNodeOptions {
  /** Use this Redis instead of starting one. */
  redisAddress?: string;
  /** `--health-check-period-ms`. */
  healthCheckPeriodMs?: number;
  /** `--health-check-failure-threshold`. */
  healthCheckFailureThreshold?: number;
}

/** The cluster to start. */
export interface TestClusterOptions {
  /** The head (default: one worker). */
  head?: TestHeadOptions;
  /** The other nodes, in order. */
  nodes?: TestNodeOptions[];
  /** The cluster token (default {@link TEST_CLUSTER_TOKEN}). */
  token?: string;
}

/** One running `rayd start --block` process. */
export class TestNode {
  /** Its node id, from its ready line. */
  readonly nodeId: string;
  /** `HOST:PORT` it serves at. */
  readonly address: string;
  /** `"head"` or `"node"`. */
  readonly role: "head" | "node";
  readonly #child: Deno.ChildProcess;
  readonly #output: () => string;
  /** Resolves with its exit status once its output is drained. */
  readonly status: Promise<Deno.CommandStatus>;

  /** @internal use TestCluster */
  constructor(
    ready: { nodeId: string; address: string; role: "head" | "node" },
    child: Deno.ChildProcess,
    output: () => string,
    status: Promise<Deno.CommandStatus>,
  ) {
    this.nodeId = ready.nodeId;
    this.address = ready.address;
    this.role = ready.role;
    this.#child = child;
    this.#output = output;
    this.status = status;
  }

  /** Its process id. */
  get pid(): number {
    return this.#child.pid;
  }

  /** Everything it printed so far (standard output and error, interleaved). */
  output(): string {
    return this.#output();
  }

  /** Whether it is still running. */
  get alive(): boolean {
    return isAlive(this.pid);
  }
}

/** Flags of `rayd start` for `node`. */
function nodeFlags(node: TestNodeOptions, token: string): string[] {
  const workers = node.numWorkers ?? 1;
  const flags = [
    ...["--bind", "127.0.0.1", "--port", "0", "--token", token],
    ...["--num-workers", String(workers)],
    ...["--object-store-memory", String(node.objectStoreMemory ?? "64MiB")],
  ];
  if (node.numCpus !== undefined) flags.push("--num-cpus", String(node.numCpus));
  if (node.resources) flags.push("--resources", JSON.stringify(node.resources));
  return [...flags, ...(node.args ?? [])];
}

/** A head and its nodes, each a `rayd start --block` process. */
export class TestCluster {
  /** The cluster token. */
  readonly token: string;
  /** The private runtime folder (`RAYD_RUNTIME_DIR` of every process). */
  readonly runtimeDir: string;
  /** The head (the new one after `restartHead`). */
  head: TestNode;
  /** How the head was started. */
  #headStart: { flags: string[]; env?: Record<string, string> } = { flags: [] };
  /** The other nodes, in the order given and added (killed ones stay, not alive). */
  readonly nodes: TestNode[] = [];
  /** Every pid seen under each process (redis-server, ...), checked by `stop`. */
  readonly #descendants = new Set<number>();
  #stopped = false;

  private constructor(token: string, runtimeDir: string, head: TestNode) {
    this.token = token;
    this.runtimeDir = runtimeDir;
    this.head = head;
    this.#noteDescendants(head);
  }

  /** `HOST:PORT` of the head, for `ray.init({ address })` and `--address`. */
  get address(): string {
    return this.head.address;
  }

  /** The head and every node. */
  get all(): TestNode[] {
    return [this.head, ...this.nodes];
  }

  /**
   * Starts the head, then the nodes (in parallel), and waits for every ready line.
   *
   * @param options the head, the nodes and the token
   * @returns the running cluster; on failure everything started is stopped
   * @throws Error with a process's output when it exits or prints nothing ready in time
   */
  static async start(options: TestClusterOptions = {}): Promise<TestCluster> {
    const token = options.token ?? TEST_CLUSTER_TOKEN;
    const runtimeDir = await Deno.makeTempDir({ prefix: "rayd_test_cluster_" });
    const head = options.head ?? {};
    const headFlags = ["--head", "--dashboard-port", "0", ...nodeFlags(head, token)];
    if (head.redisAddress) headFlags.push("--redis-address", head.redisAddress);
    if (head.healthCheckPeriodMs !== undefined) {
      headFlags.push("--health-check-period-ms", String(head.healthCheckPeriodMs));
    }
    if (head.healthCheckFailureThreshold !== undefined) {
      headFlags.push("--health-check-failure-threshold", String(head.healthCheckFailureThreshold));
    }
    let headNode: TestNode;
    try {
      headNode = await spawnNode(headFlags, runtimeDir, head.env);
    } catch (err) {
      await Deno.remove(runtimeDir, { recursive: true }).catch(() => {});
      throw err;
    }
    const cluster = new TestCluster(token, runtimeDir, headNode);
    cluster.#headStart = { flags: headFlags, env: head.env };
    try {
      const started = await Promise.allSettled(
        (options.nodes ?? []).map((node) => cluster.#spawn(node)),
      );
      const failed = started.find((s) => s.status === "rejected");
      if (failed) throw (failed as PromiseRejectedResult).reason;
      for (const s of started) cluster.nodes.push((s as PromiseFulfilledResult<TestNode>).value);
    } catch (err) {
      await cluster.stop().catch(() => {});
      throw err;
    }
    return cluster;
  }

  async #spawn(node: TestNodeOptions): Promise<TestNode> {
    const flags = ["--address", node.via ?? this.address, ...nodeFlags(node, this.token)];
    const started = await spawnNode(flags, this.runtimeDir, node.env);
    this.#noteDescendants(started);
    return started;
  }

  /**
   * Starts one more node and waits for its ready line.
   *
   * @param node what it offers
   * @returns the node, also appended to `nodes`
   */
  async addNode(node: TestNodeOptions = {}): Promise<TestNode> {
    if (this.#stopped) throw new Error("Cannot add a node: the test cluster is stopped");
    const started = await this.#spawn(node);
    this.nodes.push(started);
    return started;
  }

  /**
   * Kills `nodes[index]` with SIGKILL and waits until it is gone.
   *
   * @param index which node (not the head: see `killHead`)
   */
  async kill(index: number): Promise<void> {
    const node = this.nodes[index];
    if (!node) throw new RangeError(`No node ${index}: the cluster has ${this.nodes.length}`);
    await killNode(node);
  }

  /**
   * Sends `nodes[index]` SIGTERM (it drains, then exits) and waits until it
   * is gone; SIGKILL after STOP_TIMEOUT_MS.
   *
   * @returns its exit status
   */
  async terminate(index: number): Promise<Deno.CommandStatus> {
    const node = this.nodes[index];
    if (!node) throw new RangeError(`No node ${index}: the cluster has ${this.nodes.length}`);
    signal(node.pid, "SIGTERM");
    const timer = setTimeout(() => signal(node.pid, "SIGKILL"), STOP_TIMEOUT_MS);
    try {
      return await node.status;
    } finally {
      clearTimeout(timer);
    }
  }

  /** Kills the head with SIGKILL and waits until it is gone. */
  async killHead(): Promise<void> {
    await killNode(this.head);
  }

  /**
   * Starts the head again (after `killHead`) with the same flags on the same
   * port (the nodes and drivers dial that address again); give the first
   * head a Redis of the test's (`redisAddress`) to keep the cluster's records.
   *
   * @returns the new head, now `head`
   */
  async restartHead(): Promise<TestNode> {
    if (this.head.alive) throw new Error("Cannot restart the head: it is still running");
    const port = this.head.address.slice(this.head.address.lastIndexOf(":") + 1);
    const flags = [...this.#headStart.flags];
    flags[flags.indexOf("--port") + 1] = port;
    const head = await spawnNode(flags, this.runtimeDir, this.#headStart.env);
    this.head = head;
    this.#noteDescendants(head);
    return head;
  }

  #noteDescendants(node: TestNode): void {
    for (const pid of descendantsOf(node.pid)) this.#descendants.add(pid);
  }

  /**
   * Stops every process: SIGTERM, then SIGKILL for any still running after
   * 15 s. Removes the runtime folder.
   *
   * @throws Error naming every process (or child of one) still running afterwards
   */
  async stop(): Promise<void> {
    if (this.#stopped) return;
    this.#stopped = true;
    const all = this.all;
    for (const node of all) {
      if (node.alive) this.#noteDescendants(node);
    }
    for (const node of all) signal(node.pid, "SIGTERM");
    const killed: string[] = [];
    await Promise.all(all.map(async (node) => {
      const timer = setTimeout(() => {
        if (signal(node.pid, "SIGKILL")) killed.push(`${node.role} ${node.nodeId}`);
      }, STOP_TIMEOUT_MS);
      await node.status;
      clearTimeout(timer);
    }));
    const until = Date.now() + 5000;
    let left = [...this.#descendants].filter(isAlive);
    while (left.length > 0 && Date.now() < until) {
      await new Promise((resolve) => setTimeout(resolve, 50));
      left = left.filter(isAlive);
    }
    const described = left.map((pid) => `${pid} (${commandOf(pid)})`);
    for (const pid of left) signal(pid, "SIGKILL");
    await Deno.remove(this.runtimeDir, { recursive: true }).catch(() => {});
    if (described.length > 0) {
      throw new Error(`Processes left after stopping the test cluster: ${described.join(", ")}`);
    }
    if (killed.length > 0) {
      throw new Error(
        `Test cluster processes ignored SIGTERM for ${STOP_TIMEOUT_MS} ms: ${killed.join(", ")}\n` +
          all.map((n) => `--- ${n.role} ${n.nodeId}:\n${n.output()}`).join("\n"),
      );
    }
  }

  /** Stops it (for `await using`). */
  [Symbol.asyncDispose](): Promise<void> {
    return this.stop();
  }
}

/**
 * Starts one `rayd start --block` process and waits for its ready line.
 *
 * @param flags its flags (without `--block`)
 * @param runtimeDir its `RAYD_RUNTIME_DIR`
 * @returns the running node
 * @throws Error with its output when it exits first or is not ready in time (it is killed)
 */
export async function spawnNode(
  flags: string[],
  runtimeDir: string,
  env: Record<string, string> = {},
): Promise<TestNode> {
  const args = ["run", "-A", CLI.href, "start", ...flags, "--block"];
  const child = new Deno.Command(Deno.execPath(), {
    args,
    cwd: new URL("../../", import.meta.url),
    env: { ...env, RAYD_RUNTIME_DIR: runtimeDir },
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  let output = "";
  const { promise: readyLine, resolve: onReady } = Promise.withResolvers<string>();
  const drain = async (stream: ReadableStream<Uint8Array>) => {
    const decoder = new TextDecoder();
    for await (const chunk of stream) {
      output = (output + decoder.decode(chunk, { stream: true })).slice(-OUTPUT_LIMIT);
      if (parseReadyLine(output)) onReady(output);
    }
  };
  const status = Promise.all([drain(child.stdout), drain(child.stderr)]).then(() => child.status);
  const command = `rayd start ${flags.join(" ")} --block`;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const outcome = await Promise.race([
    readyLine,
    status.then((s) => new Error(`${command} exited with code ${s.code} before it was ready`)),
    new Promise<Error>((resolve) => {
      timer = setTimeout(
        () => resolve(new Error(`${command} printed no ready line within ${READY_TIMEOUT_MS} ms`)),
        READY_TIMEOUT_MS,
      );
    }),
  ]);
  clearTimeout(timer);
  if (outcome instanceof Error) {
    signal(child.pid, "SIGKILL");
    await status;
    outcome.message += `; its output:\n${output}`;
    throw outcome;
  }
  return new TestNode(parseReadyLine(outcome)!, child, () => output, status);
}

async function killNode(node: TestNode): Promise<void> {
  signal(node.pid, "SIGKILL");
  await node.status;
}

/** Sends `name` to `pid`; false when it is gone. */
function signal(pid: number, name: Deno.Signal): boolean {
  try {
    Deno.kill(pid, name);
    return true;
  } catch {
    return false;
  }
}

/** Whether `pid` runs (a zombie waiting to be reaped does not). */
export function isAlive(pid: number): boolean {
  try {
    const stat = Deno.readTextFileSync(`/proc/${pid}/stat`);
    return stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3) !== "Z";
  } catch {
    return false;
  }
}

/** Every process below `pid` (children, their children, ...), as Linux lists them. */
export function descendantsOf(pid: number): number[] {
  const out: number[] = [];
  let tasks: string[];
  try {
    tasks = [...Deno.readDirSync(`/proc/${pid}/task`)].map((entry) => entry.name);
  } catch {
    return out;
  }
  for (const task of tasks) {
    let children = "";
    try {
      children = Deno.readTextFileSync(`/proc/${pid}/task/${task}/children`);
    } catch {
      continue;
    }
    for (const child of children.trim().split(/\s+/).filter(Boolean).map(Number)) {
      out.push(child, ...descendantsOf(child));
    }
  }
  return out;
}

function commandOf(pid: number): string {
  try {
    return Deno.readTextFileSync(`/proc/${pid}/cmdline`).split("\0").join(" ").trim();
  } catch {
    return "?";
  }
}
