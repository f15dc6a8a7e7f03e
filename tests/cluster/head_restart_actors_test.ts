/**
 * A head restarted in process (same port, in-memory records): the nodes and
 * the driver join it again and it learns their actors from the nodes, so a
 * named actor is found again, and an actor that may restart still restarts
 * on another node when its node dies afterwards.
 */
import assert from "node:assert/strict";
import * as ray from "../../mod.ts";
import { type ClusterProcess, startClusterProcess } from "../../runtime/cluster/mod.ts";
import { RoamerActor } from "../fixtures/cluster_restarts.ts";
import { TEST_TOKEN } from "./in_process_cluster.ts";

const HEALTH = { periodMs: 200, failureThreshold: 10 };

function options(extra: Partial<Parameters<typeof startClusterProcess>[0]>) {
  return {
    role: "node" as const,
    bind: "127.0.0.1",
    port: 0,
    nodeIpAddress: "127.0.0.1",
    numWorkers: 1,
    numCpus: 1,
    resources: {},
    objectStoreMemory: 64 * 1024 * 1024,
    token: TEST_TOKEN,
    ...extra,
  };
}

/** A head on `port` again (the old one's listener may take a moment to let go of it). */
async function restartOn(port: number): Promise<ClusterProcess> {
  for (let i = 0;; i++) {
    try {
      return await startClusterProcess(
        options({ role: "head", numCpus: 0, healthCheck: HEALTH, port }),
      );
    } catch (err) {
      if (!(err instanceof Deno.errors.AddrInUse) || i >= 40) throw err;
      await new Promise((r) => setTimeout(r, 50));
    }
  }
}

/** Polls `check` every 50 ms; fails after `ms`. */
async function until(what: string, check: () => Promise<boolean>, ms = 20_000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await check().catch(() => false))) {
    assert.ok(Date.now() < end, `timed out waiting: ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

Deno.test({
  name: "after a head restart the head knows the actors again: found by name, restarted on a death",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    const started: ClusterProcess[] = [];
    let head = await startClusterProcess(
      options({ role: "head", numCpus: 0, healthCheck: HEALTH }),
    );
    const port = Number(head.address.split(":").at(-1));
    try {
      for (let i = 0; i < 2; i++) {
        const headAddress = head.address;
        started.push(await startClusterProcess(options({ headAddress, resources: { A: 1 } })));
      }
      const [a, b] = started;
      await ray.init({ address: head.address, token: TEST_TOKEN });
      try {
        const soft = { nodeId: a.nodeId, soft: true };
        const roamer = RoamerActor.options({
          name: "roamer",
          resources: { A: 1 },
          maxRestarts: 1,
          schedulingStrategy: soft,
        }).remote();
        assert.equal(await ray.get(roamer.incr.remote()), 1);
        assert.equal((await ray.get(roamer.where.remote())).nodeId, a.nodeId);

        await head.stop();
        head = await restartOn(port);
        await until("both nodes joined the new head", async () => {
          const alive = (await ray.nodes()).filter((n) => n.alive).map((n) => n.nodeId);
          return alive.includes(a.nodeId) && alive.includes(b.nodeId);
        });
        const found = await ray.getActor("roamer");
        assert.equal(await ray.get(found.incr.remote()), 2, "the same actor, its state kept");

        // Its node dies: the new head restarts it on B (it learned its creation from A's rejoin).
        await a.stop();
        await until("A is listed dead", async () => {
          return (await ray.nodes()).find((n) => n.nodeId === a.nodeId)?.alive === false;
        });
        const there = await ray.get(roamer.where.remote(), { timeoutMs: 20_000 });
        assert.equal(there.nodeId, b.nodeId, "restarted on B");
        assert.equal(there.n, 0, "its constructor ran again");
      } finally {
        await ray.shutdown();
      }
    } finally {
      await Promise.allSettled(started.map((p) => p.stop()));
      await head.stop();
    }
  },
});
