/**
 * A ref that a task or an actor keeps past the call that brought it holds
 * its object on that node: the worker's hold reaches the node before the
 * call's end lets the arguments go. (It used to come after: the object was
 * freed in between, its holds elsewhere released, and the kept ref then
 * pointed at nothing, or at an object freed as it arrived.)
 */
import assert from "node:assert/strict";
import * as ray from "../../mod.ts";
import { collectGarbage } from "../../runtime/core/mod.ts";
import { fnv, KeeperActor, pattern, patternBytes } from "../fixtures/cluster_fns.ts";
import { stash, unstash } from "../fixtures/scheduler_fns.ts";
import { startInProcessCluster, TEST_TOKEN } from "./in_process_cluster.ts";
import type { ObjectId } from "../../runtime/common/mod.ts";
import { nestedRefs } from "../../runtime/cluster/lends.ts";

const MIB = 1024 * 1024;

/** Collects garbage here and lets finalizers and the messages they send run. */
async function collect(): Promise<void> {
  for (let i = 0; i < 3; i++) {
    collectGarbage!();
    await new Promise((r) => setTimeout(r, 50));
  }
}

Deno.test({
  name:
    "refs kept by a task and by an actor on another node outlive their calls, the driver's gone",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    const c = await startInProcessCluster({ numWorkers: 1 }, [{
      numWorkers: 1,
      resources: { B: 1 },
    }]);
    try {
      await ray.init({ address: c.address, token: TEST_TOKEN });
      const onB = { resources: { B: 1 } };
      for (let round = 0; round < 5; round++) {
        // A task: the ref stays in its worker's memory after it returned.
        const ref = ray.put(new Float64Array(MIB / 8).fill(round + 1));
        const kept = stash.options(onB).remote({ ref });
        ref[Symbol.dispose](); // the driver lets go: the task's argument holds it
        assert.equal(await ray.get(kept), true);
        await collect();
        const sum = await ray.get(unstash.options(onB).remote());
        assert.equal(sum, (round + 1) * (MIB / 8), `round ${round}: the task's kept ref`);
        // An actor: the ref stays in its state; its object made on the head.
        const n = MIB + round;
        const keeper = KeeperActor.options(onB).remote();
        await (async () => {
          using made = pattern.remote(n, round);
          assert.equal(await ray.get(keeper.keepRef.remote({ ref: made })), true);
        })();
        await collect();
        assert.equal(
          await ray.get(keeper.sumKept.remote()),
          fnv(patternBytes(n, round)),
          `round ${round}: the actor's`,
        );
        ray.kill(keeper);
      }
    } finally {
      await ray.shutdown();
      await c.stop();
    }
  },
});

Deno.test("nestedRefs: refs met in the arguments beyond the top-level ones, each as often as met", () => {
  const [a, b, c] = ["a", "b", "c"] as ObjectId[];
  assert.deepEqual(nestedRefs({ argRefs: [], deps: [] }), []);
  assert.deepEqual(nestedRefs({ argRefs: [a, b], deps: [a, b] }), [], "top-level only");
  assert.deepEqual(nestedRefs({ argRefs: [a, b, a], deps: [a] }), [b, a], "a twice: once nested");
  assert.deepEqual(
    nestedRefs({ argRefs: [c], deps: [a, c] }),
    [],
    "big arguments: their object only",
  );
});
