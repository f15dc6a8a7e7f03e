/**
 * A cluster of two hosts in network namespaces, each node on its own
 * address (`rayd start --block` in each), the driver in the test process on
 * the lab's bridge: placement by resources across hosts, an object made on
 * one host read on the other, and a partition: the cut-off node is declared
 * dead within the health-check threshold, and once the link returns it
 * learns so, stops its workers and joins again as a new node.
 * Root only (CI is root); elsewhere skipped with one line.
 */
import assert from "node:assert/strict";
import * as ray from "../../mod.ts";
import { NetLab, netSkipReason, skipLine, waitForLine } from "../_net/mod.ts";
import { checksum, fnv, pattern, patternBytes, whereAmI } from "../fixtures/cluster_fns.ts";

const skip = await netSkipReason();
if (skip) {
  console.warn(skipLine("the two-host cluster test (tests/cluster/netns_cluster_test.ts)", skip));
}

const DENO = Deno.execPath();
const CLI = new URL("../../cli/main.ts", import.meta.url).pathname;
const TOKEN = "netns-cluster-token-0123";
const PORT = 7100;

Deno.test({
  name:
    "two hosts on their own addresses: placement, objects across, a partitioned node declared dead",
  ignore: skip !== undefined,
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    await using lab = await NetLab.create();
    const a = await lab.addHost("a");
    const b = await lab.addHost("b");
    const common = ["--token", TOKEN, "--num-workers", "1", "--block"];
    const head = lab.spawn(a, [
      ...[DENO, "run", "-A", CLI, "start", "--head", "--bind", a.address, "--port", String(PORT)],
      ...["--resources", '{"A":1}', "--dashboard-port", "0"],
      ...["--health-check-period-ms", "200", "--health-check-failure-threshold", "5"],
      ...common,
    ]);
    const headLine = await waitForLine(head, /ready/, 60_000).catch(async (err) => {
      throw new Error(`${err.message}\n${await new Response(head.stderr).text()}`);
    });
    assert.ok(headLine.includes(`${a.address}:${PORT}`), headLine);
    const node = lab.spawn(b, [
      ...[DENO, "run", "-A", CLI, "start", "--address", `${a.address}:${PORT}`],
      ...["--bind", b.address, "--resources", '{"B":1}'],
      ...common,
    ]);
    const nodeLine = await waitForLine(node, /ready/, 60_000).catch(async (err) => {
      throw new Error(`${err.message}\n${await new Response(node.stderr).text()}`);
    });
    assert.ok(nodeLine.includes(b.address), nodeLine);

    await ray.init({ address: `${a.address}:${PORT}`, token: TOKEN });
    try {
      const nodes = await ray.nodes();
      const addresses = nodes.map((n) => n.address.split(":")[0]).sort();
      assert.deepEqual(addresses, [a.address, b.address].sort());
      const onB = nodes.find((n) => n.address.startsWith(b.address))!;
      assert.equal(await ray.get(whereAmI.options({ resources: { B: 1 } }).remote()), onB.nodeId);

      const n = 5 * 1024 * 1024 + 3;
      const made = pattern.options({ resources: { B: 1 } }).remote(n, 9);
      const sum = await ray.get(checksum.options({ resources: { A: 1 } }).remote(made));
      assert.equal(sum.sum, fnv(patternBytes(n, 9)));
      assert.notEqual(sum.nodeId, onB.nodeId);
      assert.equal(fnv(await ray.get(made)), sum.sum);

      // Partition: b's link down; the head declares it dead after 5 missed checks of 200 ms.
      await lab.cut(b);
      let alive = true;
      for (let i = 0; i < 100 && alive; i++) {
        await new Promise((r) => setTimeout(r, 100));
        alive = (await ray.nodes()).find((x) => x.nodeId === onB.nodeId)?.alive ?? false;
      }
      assert.equal(alive, false, "the cut-off node is declared dead");
      // Work goes on without it.
      assert.equal(
        (await ray.get(checksum.options({ resources: { A: 1 } }).remote(patternBytes(10, 1))))
          .length,
        10,
      );
      // When the link returns, the old node learns it is dead, stops its workers, and joins again
      // as a new node (same process, same address, a new id).
      await lab.restore(b);
      let fresh: ray.NodeInfo | undefined;
      for (let i = 0; i < 300 && !fresh; i++) {
        await new Promise((r) => setTimeout(r, 100));
        fresh = (await ray.nodes()).find((x) =>
          x.alive && x.address.startsWith(b.address) && x.nodeId !== onB.nodeId
        );
      }
      assert.ok(fresh, "the old node joined again as a new node once its link returned");
      const old = (await ray.nodes()).find((x) => x.nodeId === onB.nodeId);
      assert.equal(old?.alive, false, "the old node id stays dead");
      assert.equal(await ray.get(whereAmI.options({ resources: { B: 1 } }).remote()), fresh.nodeId);
    } finally {
      await ray.shutdown();
    }
  },
});
