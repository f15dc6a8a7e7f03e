import assert from "node:assert/strict";
import { main } from "../../cli/main.ts";
import { parseStartArgs, resolveStartSettings, type StartEnvironment } from "../../cli/start.ts";
import { stopDaemons } from "../../cli/stop.ts";
import {
  commandLineOf,
  readDaemonRecords,
  readToken,
  runtimeDirPath,
  writeDaemonRecord,
  writeToken,
} from "../../runtime/common/runtime_dir.ts";

function environment(
  vars: Record<string, string> = {},
  localToken?: string,
): StartEnvironment {
  return {
    env: (name) => vars[name],
    localToken: () => Promise.resolve(localToken),
    cpus: 4,
    memory: 10_000,
  };
}

const resolve = (args: string[], env = environment()) =>
  resolveStartSettings(parseStartArgs(args), env);

Deno.test("resolveStartSettings() fills a head's defaults", async () => {
  const s = await resolve(["--head"], environment({ RAYD_RUNTIME_DIR: "/run/x" }));
  assert.deepEqual(s, {
    role: "head",
    headAddress: undefined,
    bind: "127.0.0.1",
    port: 6380,
    nodeIpAddress: "127.0.0.1",
    numWorkers: 4,
    numCpus: 4,
    resources: {},
    objectStoreMemory: 3000,
    token: { source: "generated", file: "/run/x/token" },
    block: false,
    runtimeDir: "/run/x",
    redis: { port: 0 },
    dashboardPort: 8265,
    healthCheck: { periodMs: 3000, failureThreshold: 5 },
  });
});

Deno.test("resolveStartSettings() reads every node flag", async () => {
  const s = await resolve([
    "--address=198.18.0.1:7000",
    "--port=7001",
    "--bind=0.0.0.0",
    "--node-ip-address=198.18.0.2",
    "--num-workers=3",
    "--num-cpus=1.5",
    '--resources={"GPU":2}',
    "--object-store-memory=512MiB",
    "--token=abcdefgh-123",
    "--block",
  ]);
  assert.equal(s.role, "node");
  assert.equal(s.headAddress, "198.18.0.1:7000");
  assert.equal(s.port, 7001);
  assert.equal(s.bind, "0.0.0.0");
  assert.equal(s.nodeIpAddress, "198.18.0.2");
  assert.equal(s.numWorkers, 3);
  assert.equal(s.numCpus, 1.5);
  assert.deepEqual(s.resources, { GPU: 2 });
  assert.equal(s.objectStoreMemory, 512 * 2 ** 20);
  assert.deepEqual(s.token, { source: "flag" });
  assert.equal(s.block, true);
  assert.equal(s.redis, undefined);
  assert.equal(s.healthCheck, undefined);
});

Deno.test("resolveStartSettings() takes RAYD_ADDRESS for --address auto and RAYD_TOKEN", async () => {
  const s = await resolve(
    ["--address", "auto"],
    environment({ RAYD_ADDRESS: "10.1.2.3:6380", RAYD_TOKEN: "from-the-env" }),
  );
  assert.equal(s.headAddress, "10.1.2.3:6380");
  assert.deepEqual(s.token, { source: "env" });
  await assert.rejects(resolve(["--address", "auto"]), /--address auto needs RAYD_ADDRESS/);
  await assert.rejects(
    resolve(["--address", "auto"], environment({ RAYD_ADDRESS: "nohost" })),
    /RAYD_ADDRESS: expected HOST:PORT/,
  );
});

Deno.test("resolveStartSettings() finds a local head's token, or says how to pass one", async () => {
  const s = await resolve(
    ["--address", "127.0.0.1:6380"],
    environment({ RAYD_RUNTIME_DIR: "/r" }, "a-local-token"),
  );
  assert.deepEqual(s.token, { source: "file", file: "/r/token" });
  await assert.rejects(
    resolve(["--address", "127.0.0.1:6380"], environment({ RAYD_RUNTIME_DIR: "/r" })),
    /joining a cluster needs its token: pass --token or set RAYD_TOKEN \(a head on this machine writes it to \/r\/token\)/,
  );
});

Deno.test("resolveStartSettings() refuses what cannot work, naming the flag", async () => {
  await assert.rejects(resolve(["--head", "--bind", "0.0.0.0"]), /pass --node-ip-address/);
  await assert.rejects(resolve(["--head", "--token", "short"]), /--token must be 8 to 1024/);
  await assert.rejects(
    resolve(["--head"], environment({ RAYD_TOKEN: "has space in it" })),
    /RAYD_TOKEN must be 8 to 1024 printable characters/,
  );
  assert.throws(
    () => parseStartArgs(["--head", "--object-store-memory", "lots"]),
    /expected a size/,
  );
  assert.throws(() => parseStartArgs(["--head", "--object-store-memory", "0"]), /expected a size/);
  assert.throws(() => parseStartArgs(["--head", "--num-cpus", "-1"]), /--num-cpus=-1|--num-cpus/);
  assert.throws(() => parseStartArgs(["--head", "--bind", "a b"]), /--bind: expected a host/);
  assert.throws(
    () => parseStartArgs(["--address", "h:1", "--health-check-period-ms", "5"]),
    /--health-check-period-ms is only for --head/,
  );
  assert.throws(
    () => parseStartArgs(["--head", "--health-check-failure-threshold", "0"]),
    /--health-check-failure-threshold/,
  );
});

Deno.test("rayd start --dry-run prints the settings as JSON, never the token", async () => {
  const out: string[] = [];
  const err: string[] = [];
  const code = await main(
    ["start", "--head", "--token", "do-not-print-me", "--dry-run", "--dashboard-port", "0"],
    { out: (t) => out.push(t), err: (t) => err.push(t) },
  );
  assert.equal(code, 0, err.join("\n"));
  const settings = JSON.parse(out.join("\n"));
  assert.equal(settings.role, "head");
  assert.equal(settings.dashboardPort, 0);
  assert.deepEqual(settings.token, { source: "flag" });
  assert.ok(!out.join("\n").includes("do-not-print-me"));
});

Deno.test("the token file is user-only and round-trips", async () => {
  const dir = await Deno.makeTempDir({ prefix: "rayd_runtime_" });
  try {
    const runtime = `${dir}/rt`;
    const path = await writeToken("0123456789abcdef", runtime);
    assert.equal(path, `${runtime}/token`);
    assert.equal(await readToken(runtime), "0123456789abcdef");
    assert.equal((await Deno.stat(path)).mode! & 0o777, 0o600);
    assert.equal((await Deno.stat(runtime)).mode! & 0o777, 0o700);
    assert.equal(await readToken(`${dir}/absent`), undefined);
    await assert.rejects(writeToken("bad token", runtime), /8 to 1024 printable/);
    assert.equal(runtimeDirPath(() => undefined).startsWith("/tmp/rayd-"), true);
    assert.equal(
      runtimeDirPath((n) => (n === "XDG_RUNTIME_DIR" ? "/run/user/7" : undefined)),
      "/run/user/7/rayd",
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

/** A process standing in for a daemon: exits on SIGTERM, or ignores it when `stubborn`. */
function fakeDaemon(stubborn: boolean): Deno.ChildProcess {
  const code = stubborn
    ? `Deno.addSignalListener("SIGTERM", () => {}); setInterval(() => {}, 1000);`
    : `Deno.addSignalListener("SIGTERM", () => Deno.exit(0)); setInterval(() => {}, 1000);`;
  return new Deno.Command(Deno.execPath(), { args: ["eval", code], stdout: "null", stderr: "null" })
    .spawn();
}

Deno.test("rayd stop ends recorded daemons (SIGTERM, then SIGKILL) and clears stale records", async () => {
  const dir = await Deno.makeTempDir({ prefix: "rayd_stop_" });
  const polite = fakeDaemon(false);
  const stubborn = fakeDaemon(true);
  try {
    await new Promise((r) => setTimeout(r, 1500)); // both install their SIGTERM listeners
    for (const [child, role, port] of [[polite, "head", 1], [stubborn, "node", 2]] as const) {
      await writeDaemonRecord({
        pid: child.pid,
        role,
        address: `127.0.0.1:${port}`,
        startedAt: Date.now(),
        command: commandLineOf(child.pid),
      }, dir);
    }
    // A record whose pid is gone, and one that is not a record at all.
    await writeDaemonRecord({ pid: 2 ** 22 + 17, role: "node", address: "x:3", startedAt: 0 }, dir);
    await Deno.writeTextFile(`${dir}/daemon-5.json`, "{garbage");
    const out: string[] = [];
    const err: string[] = [];
    const stopped = await stopDaemons({
      timeoutMs: 1000,
      dir,
      io: { out: (t) => out.push(t), err: (t) => err.push(t) },
    });
    assert.equal(stopped, 2);
    assert.deepEqual(
      out.sort(),
      [
        `killed (still running 1000 ms after SIGTERM) node 127.0.0.1:2 (pid ${stubborn.pid})`,
        `stopped head 127.0.0.1:1 (pid ${polite.pid})`,
      ].sort(),
    );
    assert.equal(err.length, 2, err.join("\n"));
    assert.equal((await polite.status).code, 0);
    assert.equal((await stubborn.status).signal, "SIGKILL");
    assert.deepEqual(await readDaemonRecords(dir), []);
    const again: string[] = [];
    await stopDaemons({ timeoutMs: 10, dir, io: { out: (t) => again.push(t), err: () => {} } });
    assert.match(again[0], /^no rayd daemons running on this machine/);
  } finally {
    for (const c of [polite, stubborn]) {
      try {
        c.kill("SIGKILL");
      } catch { /* already gone */ }
      await c.status;
    }
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("rayd stop does not signal a process whose pid was reused by another program", async () => {
  const dir = await Deno.makeTempDir({ prefix: "rayd_stop_reuse_" });
  const other = fakeDaemon(false);
  try {
    await writeDaemonRecord({
      pid: other.pid,
      role: "node",
      address: "127.0.0.1:4",
      startedAt: 0,
      command: "deno run -A cli/main.ts start --address 127.0.0.1:6380",
    }, dir);
    const out: string[] = [];
    await stopDaemons({ timeoutMs: 100, dir, io: { out: (t) => out.push(t), err: () => {} } });
    assert.match(out[0], /^no rayd daemons running/);
    assert.equal(commandLineOf(other.pid) !== undefined, true, "the other program still runs");
  } finally {
    other.kill("SIGKILL");
    await other.status;
    await Deno.remove(dir, { recursive: true });
  }
});
