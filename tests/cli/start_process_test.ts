/**
 * `rayd start` for real: the foreground node and its ready line, the head's
 * own redis-server, daemons and `rayd stop`, the wrong token, and the test
 * cluster helper. Every node is a real `deno run cli/main.ts start` process.
 */
import assert from "node:assert/strict";
import { parseReadyLine } from "../../cli/start.ts";
import { readDaemonRecords } from "../../runtime/common/runtime_dir.ts";
import {
  descendantsOf,
  isAlive,
  spawnNode,
  TEST_CLUSTER_TOKEN,
  TestCluster,
} from "../_cluster/test_cluster.ts";
import { answersPing } from "../gcs/redis_server.ts";

const CLI = new URL("../../cli/main.ts", import.meta.url);
const REPO = new URL("../../", import.meta.url);

/** Runs `rayd ARGS` to its end. */
async function rayd(
  args: string[],
  env: Record<string, string>,
  timeoutMs = 120_000,
): Promise<{ code: number; out: string; err: string }> {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", CLI.href, ...args],
    cwd: REPO,
    env,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
  const { code, stdout, stderr } = await child.output();
  clearTimeout(timer);
  const text = (b: Uint8Array) => new TextDecoder().decode(b).trimEnd();
  return { code, out: text(stdout), err: text(stderr) };
}

async function waitGone(pids: number[], ms = 10_000): Promise<number[]> {
  const until = Date.now() + ms;
  let left = pids.filter(isAlive);
  while (left.length > 0 && Date.now() < until) {
    await new Promise((r) => setTimeout(r, 50));
    left = left.filter(isAlive);
  }
  return left;
}

/** Whether the Redis at `url` answers. */
function redisAnswers(url: string): Promise<boolean> {
  const { hostname, port } = new URL(url);
  return answersPing(hostname, Number(port));
}

Deno.test("parseReadyLine() reads the role, node id and address", () => {
  assert.deepEqual(
    parseReadyLine("x\nrayd: ready: head node ab12 at 127.0.0.1:6380 (control store r)\n"),
    { role: "head", nodeId: "ab12", address: "127.0.0.1:6380" },
  );
  assert.deepEqual(
    parseReadyLine("rayd: ready: node cd34 at 10.0.0.2:4000 (joined the head at 10.0.0.1:6380)"),
    { role: "node", nodeId: "cd34", address: "10.0.0.2:4000" },
  );
  assert.equal(parseReadyLine("rayd: wrote a new cluster token to /x/token"), undefined);
});

Deno.test("rayd start --head --block prints one ready line, serves its own Redis, and stops on SIGTERM leaving no redis-server", async () => {
  const dir = await Deno.makeTempDir({ prefix: "rayd_start_head_" });
  try {
    const head = await spawnNode([
      "--head",
      "--port",
      "0",
      "--dashboard-port",
      "0",
      "--num-workers",
      "1",
    ], dir);
    const lines = head.output().split("\n").filter((l) => /\bready\b/.test(l));
    assert.equal(lines.length, 1, head.output());
    assert.match(lines[0], new RegExp(`head node ${head.nodeId} at 127\\.0\\.0\\.1:\\d+`));
    // No token given: the head generated one and wrote it user-only.
    const token = `${dir}/token`;
    assert.match(head.output(), new RegExp(`wrote a new cluster token to ${token}`));
    assert.equal((await Deno.stat(token)).mode! & 0o777, 0o600);
    const redisUrl = /control store (redis:\/\/[^\s,)]+)/.exec(lines[0])![1];
    assert.ok(await redisAnswers(redisUrl), `${redisUrl} answers PING`);
    const dashboard = /dashboard (http:\/\/[^\s,)]+)/.exec(lines[0])![1];
    const page = await fetch(dashboard);
    assert.equal(page.status, 200, `${dashboard} serves the dashboard`);
    await page.body?.cancel();
    const children = descendantsOf(head.pid);
    assert.ok(children.length >= 1, "redis-server runs under the head");
    Deno.kill(head.pid, "SIGTERM");
    const status = await head.status;
    assert.equal(status.code, 0, head.output());
    assert.deepEqual(await waitGone(children), [], "redis-server is gone");
    assert.equal(await redisAnswers(redisUrl), false);
    const left = [];
    for await (const entry of Deno.readDir(dir)) left.push(entry.name);
    assert.deepEqual(left, ["token"], "its Redis folder is removed");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("rayd start --head without redis-server on PATH says which package to install, in one line", async () => {
  const dir = await Deno.makeTempDir({ prefix: "rayd_start_noredis_" });
  try {
    for (const block of [["--block"], []]) {
      const { code, out, err } = await rayd(
        ["start", "--head", "--port", "0", "--dashboard-port", "0", ...block],
        { PATH: `${dir}/empty`, RAYD_RUNTIME_DIR: dir },
      );
      assert.equal(code, 1, err);
      assert.equal(out, "");
      assert.equal(
        err,
        "rayd start: redis-server not found on PATH: install it (apt-get install redis-server) " +
          "or pass --redis-address redis://HOST:PORT of a running Redis",
      );
    }
    // Nothing was started or written.
    assert.deepEqual([...Deno.readDirSync(dir)], []);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a node with the wrong token fails at once saying the cluster refused its token", async () => {
  await using cluster = await TestCluster.start();
  const started = Date.now();
  const { code, out, err } = await rayd(
    ["start", "--address", cluster.address, "--token", "not-the-cluster-token", "--block"],
    { RAYD_RUNTIME_DIR: cluster.runtimeDir },
  );
  assert.equal(code, 1, err);
  assert.doesNotMatch(out, /ready/);
  assert.equal(err.split("\n").length, 1, err);
  assert.match(
    err,
    new RegExp(`^rayd start: the cluster at ${cluster.address} refused this node's token`),
  );
  assert.ok(Date.now() - started < 30_000, "fails without waiting for a timeout");
  assert.ok(cluster.head.alive, "the head is undisturbed");
});

Deno.test("rayd start without --block leaves daemons that rayd stop ends, with their redis-server", async () => {
  const dir = await Deno.makeTempDir({ prefix: "rayd_start_daemon_" });
  const env = { RAYD_RUNTIME_DIR: dir };
  const pids: number[] = [];
  try {
    const head = await rayd([
      "start",
      "--head",
      "--port",
      "0",
      "--dashboard-port",
      "0",
      "--num-workers",
      "1",
    ], env);
    assert.equal(head.code, 0, head.err);
    const ready = parseReadyLine(head.out);
    assert.ok(ready, head.out);
    assert.equal(head.out.split("\n").length, 1, head.out);
    assert.match(head.err, /running in the background as pid \d+/);
    // The node finds the head's token in the runtime folder.
    const node = await rayd(["start", "--address", ready.address, "--num-workers", "1"], env);
    assert.equal(node.code, 0, node.err);
    assert.equal(parseReadyLine(node.out)?.role, "node", node.out);
    const records = (await readDaemonRecords(dir)).map((r) => r.record!);
    assert.deepEqual(records.map((r) => r.role).sort(), ["head", "node"]);
    for (const r of records) pids.push(r.pid, ...descendantsOf(r.pid));
    assert.ok(pids.length >= 3, `head, node and redis-server: ${pids}`);
    assert.ok(pids.every(isAlive));
    const stop = await rayd(["stop"], env);
    assert.equal(stop.code, 0, stop.err);
    assert.deepEqual(stop.out.split("\n").map((l) => l.replace(/\d+/g, "N")).sort(), [
      "stopped head N.N.N.N:N (pid N)",
      "stopped node N.N.N.N:N (pid N)",
    ]);
    assert.deepEqual(await waitGone(pids), [], "no process left");
    assert.deepEqual(await readDaemonRecords(dir), []);
  } finally {
    for (const pid of pids.filter(isAlive)) Deno.kill(pid, "SIGKILL");
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a failed daemon start prints the end of its log and exits 1", async () => {
  const dir = await Deno.makeTempDir({ prefix: "rayd_start_daemon_fail_" });
  try {
    const taken = Deno.listen({ hostname: "127.0.0.1", port: 0 });
    try {
      const port = String(taken.addr.port);
      const { code, out, err } = await rayd(
        ["start", "--head", "--port", port, "--dashboard-port", "0", "--token", TEST_CLUSTER_TOKEN],
        { RAYD_RUNTIME_DIR: dir },
      );
      assert.equal(code, 1, err);
      assert.equal(out, "");
      assert.match(err, /the daemon \(pid \d+\) exited with code 1 before it was ready; end of /);
      assert.match(err, new RegExp(`port ${port} on 127\\.0\\.0\\.1 is already in use`));
    } finally {
      taken.close();
    }
    assert.deepEqual(await readDaemonRecords(dir), []);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("TestCluster starts a head and two nodes, kills one, adds one and stops clean", async () => {
  const cluster = await TestCluster.start({
    head: { numWorkers: 1 },
    nodes: [
      { numWorkers: 2, resources: { GPU: 1 }, objectStoreMemory: "32MiB" },
      { numWorkers: 1, numCpus: 4 },
    ],
  });
  try {
    assert.equal(cluster.token, TEST_CLUSTER_TOKEN);
    assert.equal(cluster.nodes.length, 2);
    const ids = new Set(cluster.all.map((n) => n.nodeId));
    const addresses = new Set(cluster.all.map((n) => n.address));
    assert.equal(ids.size, 3);
    assert.equal(addresses.size, 3);
    for (const node of cluster.all) {
      assert.match(node.address, /^127\.0\.0\.1:\d+$/);
      assert.ok(node.alive);
    }
    assert.equal(cluster.head.address, cluster.address);
    await cluster.kill(0);
    assert.equal(cluster.nodes[0].alive, false);
    assert.equal((await cluster.nodes[0].status).signal, "SIGKILL");
    const added = await cluster.addNode({ numWorkers: 1 });
    assert.equal(cluster.nodes[2], added);
    assert.ok(added.alive);
  } finally {
    await cluster.stop();
  }
  for (const node of cluster.all) assert.equal(node.alive, false);
});

Deno.test("a node whose head is killed and does not come back stops with exit code 1", async () => {
  await using cluster = await TestCluster.start({
    nodes: [{ env: { RAYD_HEAD_RECONNECT_TIMEOUT_MS: "1500" } }],
  });
  const t0 = performance.now();
  await cluster.killHead();
  const status = await cluster.nodes[0].status;
  const ms = performance.now() - t0;
  assert.equal(status.code, 1, cluster.nodes[0].output());
  assert.match(cluster.nodes[0].output(), /did not come back within 1500 ms/);
  assert.match(cluster.nodes[0].output(), /lost its link to the head/);
  assert.ok(ms >= 1400, `it dialed the head again for a while first (${ms.toFixed(0)} ms)`);
});

Deno.test("a head whose own redis-server dies stops with exit code 1 saying so", async () => {
  const dir = await Deno.makeTempDir({ prefix: "rayd_start_redis_dies_" });
  try {
    const flags = [
      "--head",
      "--port",
      "0",
      "--dashboard-port",
      "0",
      "--token",
      TEST_CLUSTER_TOKEN,
      "--num-workers",
      "1",
    ];
    const head = await spawnNode(flags, dir);
    const [redis] = descendantsOf(head.pid);
    assert.ok(redis !== undefined, "redis-server runs under the head");
    Deno.kill(redis, "SIGKILL");
    const status = await head.status;
    assert.equal(status.code, 1, head.output());
    assert.match(head.output(), /its control store's redis-server exited with code \d+/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("rayd start --head --redis-port P fails at once when another program holds P and never answers", async () => {
  const dir = await Deno.makeTempDir({ prefix: "rayd_start_redis_port_" });
  const silent = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const held: Deno.Conn[] = [];
  const accepting = (async () => {
    for await (const conn of silent) held.push(conn); // accepts, never answers
  })();
  try {
    const port = silent.addr.port;
    const { code, out, err } = await rayd(
      [
        "start",
        "--head",
        "--port",
        "0",
        "--redis-port",
        String(port),
        "--token",
        TEST_CLUSTER_TOKEN,
      ],
      { RAYD_RUNTIME_DIR: dir },
      60_000,
    );
    assert.equal(code, 1, err);
    assert.equal(out, "");
    assert.match(err, new RegExp(`redis-server on 127\\.0\\.0\\.1:${port} exited with code 1`));
    assert.match(err, /Address already in use/);
  } finally {
    silent.close();
    await accepting.catch(() => {});
    for (const conn of held) conn.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("SIGTERM while a node is still joining stops the start and exits 0", async () => {
  const dir = await Deno.makeTempDir({ prefix: "rayd_start_term_early_" });
  const silent = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const { promise: dialed, resolve } = Promise.withResolvers<Deno.Conn>();
  const accepting = (async () => {
    for await (const conn of silent) resolve(conn); // a "head" that never does its handshake
  })();
  const address = `127.0.0.1:${silent.addr.port}`;
  const node = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-A",
      CLI.href,
      "start",
      "--address",
      address,
      "--token",
      TEST_CLUSTER_TOKEN,
      "--block",
    ],
    cwd: REPO,
    env: { RAYD_RUNTIME_DIR: dir },
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  try {
    const conn = await dialed;
    Deno.kill(node.pid, "SIGTERM");
    const { code, stdout, stderr } = await node.output();
    const err = new TextDecoder().decode(stderr);
    assert.equal(code, 0, err);
    assert.equal(new TextDecoder().decode(stdout), "");
    assert.match(err, /rayd: SIGTERM: stopped while starting/);
    conn.close();
  } finally {
    silent.close();
    await accepting.catch(() => {});
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("Ctrl-C (SIGINT to the head's whole process group) stops the head, then its redis-server, exit 0", async () => {
  const dir = await Deno.makeTempDir({ prefix: "rayd_start_ctrl_c_" });
  const head = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-A",
      CLI.href,
      "start",
      "--head",
      "--port",
      "0",
      "--dashboard-port",
      "0",
      "--block",
    ],
    cwd: REPO,
    env: { RAYD_RUNTIME_DIR: dir, RAYD_TOKEN: TEST_CLUSTER_TOKEN },
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
    detached: true, // its own process group, as a shell gives a foreground job
  }).spawn();
  try {
    const reader = head.stdout.pipeThrough(new TextDecoderStream()).getReader();
    let out = "";
    while (!parseReadyLine(out)) {
      const { value, done } = await reader.read();
      if (done) break;
      out += value;
    }
    assert.ok(parseReadyLine(out), out);
    const redis = descendantsOf(head.pid);
    assert.ok(redis.length >= 1);
    // Redis's log says which signal stopped it; read it until the head removes it.
    const redisLog = `${dir}/redis-${head.pid}/redis.log`;
    // A second name for the log (Redis opens it by path for each line): the head removes Redis's
    // folder as it exits, and a read every 5 ms could miss the last line before that.
    const logLink = `${dir}/redis.log.link`;
    await Deno.link(redisLog, logLink);
    let log = "";
    let exited = false;
    const watching = (async () => {
      while (!exited) {
        log = await Deno.readTextFile(redisLog).catch(() => log);
        await new Promise((r) => setTimeout(r, 5));
      }
    })();
    Deno.kill(-head.pid, "SIGINT");
    const [status, err] = await Promise.all([
      head.status.finally(() => exited = true),
      new Response(head.stderr).text(),
      reader.cancel(),
    ]);
    await watching;
    log = await Deno.readTextFile(logLink);
    assert.match(log, /Received SIGTERM/, "the head stopped its Redis itself");
    assert.doesNotMatch(log, /Received SIGINT/, "the Ctrl-C did not reach Redis");
    assert.equal(status.code, 0, err);
    assert.match(err, /rayd: SIGINT: stopping head node/);
    assert.doesNotMatch(err, /redis-server exited/);
    assert.deepEqual(await waitGone(redis), []);
  } finally {
    try {
      head.kill("SIGKILL");
    } catch { /* gone */ }
    await head.status;
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a head whose --dashboard-port or --port is taken names that flag", async () => {
  const dir = await Deno.makeTempDir({ prefix: "rayd_start_taken_" });
  const taken = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  try {
    const port = String(taken.addr.port);
    const common = ["start", "--head", "--token", TEST_CLUSTER_TOKEN, "--block"];
    for (
      const [flags, flag] of [
        [["--port", "0", "--dashboard-port", port], "--dashboard-port"],
        [["--port", port, "--dashboard-port", "0"], "--port"],
      ] as const
    ) {
      const { code, out, err } = await rayd([...common, ...flags], { RAYD_RUNTIME_DIR: dir });
      assert.equal(code, 1, err);
      assert.equal(out, "");
      // The last line; a dashboard that fails to start leaves the node's Redis client behind
      // today (runtime/cluster closes no node when the dashboard throws), which may log first.
      assert.equal(
        err.split("\n").at(-1),
        `rayd start: port ${port} on 127.0.0.1 is already in use: pass another ${flag} ` +
          "(0: any free port)",
      );
    }
  } finally {
    taken.close();
    await Deno.remove(dir, { recursive: true });
  }
});
