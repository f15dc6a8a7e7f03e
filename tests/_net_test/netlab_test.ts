import assert from "node:assert/strict";
import {
  ECHO_SERVER,
  exec,
  hiddenCommand,
  type NetHost,
  NetLab,
  netSkipReason,
  skipLine,
  TCP_PING,
  TcpProxy,
  waitForLine,
} from "../_net/mod.ts";

const skip = await netSkipReason();
if (skip) {
  console.warn(skipLine("the network-namespace tests (tests/_net_test/netlab_test.ts)", skip));
}

const DENO = Deno.execPath();
const PORT = 7000;

/** Starts the echo server inside `host` on its address and waits until it listens. */
async function startEcho(lab: NetLab, host: NetHost): Promise<void> {
  const child = lab.spawn(host, [DENO, "run", "-A", ECHO_SERVER, host.address, String(PORT)]);
  await waitForLine(child, /^ready /);
}

/** Pings `to` (its echo server, or `port`) from inside `from`: "pong", "timeout" or "error ...". */
async function ping(lab: NetLab, from: NetHost, to: string, port = PORT, timeoutMs = 2_000) {
  const r = await lab.run(from, [DENO, "run", "-A", TCP_PING, to, String(port), String(timeoutMs)]);
  return r.stdout.trim() || r.stderr.trim();
}

/** The lab's namespaces and links as `ip` lists them now. */
async function leftovers(lab: NetLab): Promise<string[]> {
  const ns = (await exec(["ip", "netns", "list"])).stdout;
  const links = (await exec(["ip", "-o", "link", "show"])).stdout;
  const gw = `rdg${lab.id.slice(2)}`;
  return [
    ...ns.split("\n").filter((l) => l.startsWith(`${lab.id}-`)),
    ...links.split("\n").filter((l) => l.includes(`${gw}@`) || l.includes(`${gw}:`)),
  ];
}

Deno.test({
  name: "NetLab hosts talk over TCP; a cut link partitions a host and restore heals it",
  ignore: skip !== undefined,
  async fn() {
    await using lab = await NetLab.create();
    const a = await lab.addHost("a");
    const b = await lab.addHost("b");
    assert.match(a.address, /^198\.1[89]\.\d+\.1$/);
    assert.notEqual(a.address, b.address);
    await startEcho(lab, a);
    assert.equal(await ping(lab, b, a.address), "pong");
    // Each host is its own network: a's server is not on b's loopback.
    assert.match(await ping(lab, b, "127.0.0.1"), /^error /);

    await lab.cut(a);
    assert.match(await ping(lab, b, a.address, PORT, 1_500), /^(timeout|error )/);
    await lab.restore(a);
    assert.equal(await ping(lab, b, a.address, PORT, 10_000), "pong");
  },
});

Deno.test({
  name: "NetLab hosts reach the test process, and a TcpProxy there delays and drops between hosts",
  ignore: skip !== undefined,
  async fn() {
    await using lab = await NetLab.create();
    const a = await lab.addHost("a");
    const b = await lab.addHost("b");
    await startEcho(lab, a);
    // The test process reaches a host directly.
    const direct = await Deno.connect({ hostname: a.address, port: PORT });
    await direct.write(new TextEncoder().encode("hi"));
    const buf = new Uint8Array(2);
    assert.equal(await direct.read(buf), 2);
    direct.close();

    await using proxy = TcpProxy.start({
      target: { hostname: a.address, port: PORT },
      listen: { hostname: lab.gateway },
      delayMs: 400,
    });
    const start = performance.now();
    assert.equal(await ping(lab, b, lab.gateway, proxy.port, 10_000), "pong");
    assert.ok(performance.now() - start >= 800, "the proxied ping took less than 2 x 400 ms");
    proxy.mode = "refuse";
    assert.match(await ping(lab, b, lab.gateway, proxy.port), /^error connection closed/);
    proxy.mode = "blackhole";
    assert.equal(await ping(lab, b, lab.gateway, proxy.port, 1_000), "timeout");
  },
});

Deno.test({
  name: "NetLab close() removes namespaces, links and processes, also after a failed test",
  ignore: skip !== undefined,
  async fn() {
    let lab: NetLab | undefined;
    let echoPid = 0;
    await assert.rejects(async () => {
      await using inner = await NetLab.create();
      lab = inner;
      const a = await inner.addHost("a");
      await startEcho(inner, a);
      echoPid = Number((await exec(["ip", "netns", "pids", a.ns])).stdout.trim().split("\n")[0]);
      assert.ok(echoPid > 0);
      assert.equal((await leftovers(inner)).length, 3); // switch, host, gateway link
      throw new Error("the test failed here");
    }, /the test failed here/);
    assert.deepEqual(await leftovers(lab!), []);
    assert.throws(() => Deno.statSync(`/proc/${echoPid}`), Deno.errors.NotFound);
    await assert.rejects(() => lab!.addHost("b"), /the lab is closed/);
  },
});

Deno.test({
  name: "NetLab.create() removes namespaces left by a dead test process",
  ignore: skip !== undefined,
  async fn() {
    // 4194305 is above Linux's largest pid: no process has it.
    const stale = "rd4194305x1-a";
    await exec(["ip", "netns", "add", stale]);
    try {
      await using _lab = await NetLab.create();
      const ns = (await exec(["ip", "netns", "list"])).stdout;
      assert.ok(!ns.split("\n").some((l) => l.startsWith(stale)), ns);
    } finally {
      await exec(["ip", "netns", "del", stale]);
    }
  },
});

Deno.test({
  name: "NetLab refuses bad host names and unknown hosts",
  ignore: skip !== undefined,
  async fn() {
    await using lab = await NetLab.create();
    await assert.rejects(() => lab.addHost("Bad_Name"), /Invalid host name: "Bad_Name"/);
    await lab.addHost("a");
    await assert.rejects(() => lab.addHost("a"), /Cannot add host a: the lab has one/);
    const ghost = { name: "zz", ns: "x", address: "198.18.0.9" };
    await assert.rejects(() => lab.cut(ghost), /Unknown host zz/);
  },
});

Deno.test({
  name: "hiddenCommand() shows a folder as empty to one process only, also inside a host",
  ignore: skip !== undefined,
  async fn() {
    const dir = await Deno.makeTempDir({ prefix: "rayd-hide-" });
    try {
      await Deno.writeTextFile(`${dir}/secret.ts`, "export const x = 1;\n");
      assert.equal((await exec(["ls", dir])).stdout.trim(), "secret.ts");
      const hidden = await exec(hiddenCommand([dir], ["ls", "-A", dir]));
      assert.equal(hidden.code, 0, hidden.stderr);
      assert.equal(hidden.stdout.trim(), "");
      // Deno inside cannot import the hidden module; outside it still can.
      const denoHidden = await exec(
        hiddenCommand([dir], [DENO, "eval", `await import("file://${dir}/secret.ts")`]),
      );
      assert.notEqual(denoHidden.code, 0);
      assert.match(denoHidden.stderr, /Module not found|No such file/);
      assert.equal((await exec(["ls", dir])).stdout.trim(), "secret.ts");

      await using lab = await NetLab.create();
      const a = await lab.addHost("a");
      const inHost = await lab.run(a, ["ls", "-A", dir], { hide: [dir] });
      assert.equal(inHost.code, 0, inHost.stderr);
      assert.equal(inHost.stdout.trim(), "");
      assert.equal((await lab.run(a, ["ls", dir])).stdout.trim(), "secret.ts");
      assert.throws(() => hiddenCommand(["relative/dir"], ["ls"]), /give an absolute path/);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});
