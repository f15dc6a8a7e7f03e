/**
 * 100 MiB across two hosts in network namespaces (each `rayd start --block`
 * on its own address from 198.18.0.0/15, the driver in the test process on
 * the lab's bridge): made on A, read by a task on B and by the driver,
 * checksums exact; each process's peak resident memory (VmHWM) is printed
 * and bounded by its resident size before plus the object and a few chunks.
 * Root only (CI is root); elsewhere skipped with one line.
 */
import assert from "node:assert/strict";
import * as ray from "../../mod.ts";
import { NetLab, netSkipReason, skipLine, waitForLine } from "../_net/mod.ts";
import { fnv, pattern, patternBytes } from "../fixtures/cluster_fns.ts";
import { checksumOf, mib, procFacts } from "../fixtures/transfer_fns.ts";
import { PULL_CHUNK_BYTES, PULL_IN_FLIGHT } from "../../runtime/cluster/fetch.ts";
import { descendantsOf } from "../_cluster/test_cluster.ts";

const skip = await netSkipReason();
if (skip) {
  console.warn(skipLine("the two-host transfer test (tests/cluster/netns_transfer_test.ts)", skip));
}

const DENO = Deno.execPath();
const CLI = new URL("../../cli/main.ts", import.meta.url).pathname;
const TOKEN = "netns-transfer-token-0123";
const PORT = 7200;
const MIB = 1024 * 1024;

/** The `rayd start` process under `pid` (itself, or what `ip netns exec` started). */
function raydPid(pid: number): number {
  const isRayd = (p: number) => {
    try {
      return Deno.readTextFileSync(`/proc/${p}/cmdline`).includes(CLI);
    } catch {
      return false;
    }
  };
  const found = [pid, ...descendantsOf(pid)].find(isRayd);
  if (found === undefined) throw new Error(`No rayd process under pid ${pid}`);
  return found;
}

Deno.test({
  name: "100 MiB made on host A is read on host B and by the driver, checksums exact",
  ignore: skip !== undefined,
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    await using lab = await NetLab.create();
    const a = await lab.addHost("a");
    const b = await lab.addHost("b");
    const common = ["--token", TOKEN, "--num-workers", "1", "--object-store-memory", "256MiB"];
    const head = lab.spawn(a, [
      ...[DENO, "run", "-A", CLI, "start", "--head", "--bind", a.address, "--port", String(PORT)],
      ...["--resources", '{"A":1}', "--dashboard-port", "0", "--block"],
      ...common,
    ]);
    await waitForLine(head, /ready/, 60_000).catch(async (err) => {
      throw new Error(`${err.message}\n${await new Response(head.stderr).text()}`);
    });
    const node = lab.spawn(b, [
      ...[DENO, "run", "-A", CLI, "start", "--address", `${a.address}:${PORT}`],
      ...["--bind", b.address, "--resources", '{"B":1}', "--block"],
      ...common,
    ]);
    await waitForLine(node, /ready/, 60_000).catch(async (err) => {
      throw new Error(`${err.message}\n${await new Response(node.stderr).text()}`);
    });
    const pids = { A: raydPid(head.pid), B: raydPid(node.pid) };

    await ray.init({ address: `${a.address}:${PORT}`, token: TOKEN, objectStoreMemory: 256 * MIB });
    try {
      const n = 100 * MIB;
      const want = fnv(patternBytes(n, 21));
      const made = pattern.options({ resources: { A: 1 } }).remote(n, 21);
      await ray.wait([made], { fetchLocal: false });
      const before = { A: procFacts(pids.A), B: procFacts(pids.B), driver: procFacts("self") };
      let started = performance.now();
      const there = await ray.get(
        checksumOf.options({ resources: { B: 1 } }).remote({ ref: made }),
      );
      const onB = (performance.now() - started) / 1000;
      const nodes = await ray.nodes();
      assert.equal(there.nodeId, nodes.find((x) => x.address.startsWith(b.address))?.nodeId);
      assert.equal(there.length, n);
      assert.equal(there.sum, want, "read on host B");
      started = performance.now();
      const here = await ray.get(made);
      const atDriver = (performance.now() - started) / 1000;
      assert.equal(here.length, n);
      assert.equal(fnv(here), want, "read by the driver");
      const after = { A: procFacts(pids.A), B: procFacts(pids.B), driver: procFacts("self") };
      console.log(
        `100 MiB A -> B (a task's argument) in ${onB.toFixed(2)} s, A -> driver in ` +
          `${atDriver.toFixed(2)} s; peak memory (VmHWM) ` +
          (["A", "B", "driver"] as const).map((p) =>
            `${p} ${mib(after[p].hwm)} MiB (RSS before ${mib(before[p].rss)})`
          ).join(", "),
      );
      // The driver is the test process, shared with the test files that run beside it in the
      // full suite: its peak is printed, and bounded only for the node process B.
      for (const p of ["B"] as const) {
        const bound = before[p].rss + n + PULL_IN_FLIGHT * PULL_CHUNK_BYTES + 64 * MIB;
        assert.ok(
          after[p].hwm <= Math.max(bound, before[p].hwm),
          `${p} peaked at ${mib(after[p].hwm)} MiB, over ${mib(bound)} MiB`,
        );
      }
    } finally {
      await ray.shutdown();
    }
  },
});
