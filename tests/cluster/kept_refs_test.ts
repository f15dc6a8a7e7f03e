/**
 * A ref that a task or an actor keeps past the call that brought it holds
 * its object on that node: the worker's hold reaches the node before the
 * call's end lets the arguments go. (It used to come after: the node's
 * count fell to zero in between, the object was doomed, and when a worker
 * there later read it, the copy pulled in was freed as it arrived.)
 *
 * The driver keeps its own handles here: a ref kept on another node after
 * the sender let go of it is a known gap (docs/ARCHITECTURE.md).
 */
import assert from "node:assert/strict";
import * as ray from "../../mod.ts";
import { fnv, KeeperActor, pattern, patternBytes } from "../fixtures/cluster_fns.ts";
import { stash, unstash } from "../fixtures/scheduler_fns.ts";
import { startInProcessCluster, TEST_TOKEN } from "./in_process_cluster.ts";

const MIB = 1024 * 1024;

Deno.test({
  name: "refs kept by a task and by an actor on another node stay readable there after their calls",
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
        assert.equal(await ray.get(stash.options(onB).remote({ ref })), true);
        const sum = await ray.get(unstash.options(onB).remote());
        assert.equal(sum, (round + 1) * (MIB / 8), `round ${round}: the task's kept ref`);
        // An actor: the ref stays in its state; its object made on the head.
        const n = MIB + round;
        const keeper = KeeperActor.options(onB).remote();
        const made = pattern.options({ resources: { CPU: 1 } }).remote(n, round);
        assert.equal(await ray.get(keeper.keepRef.remote({ ref: made })), true);
        assert.equal(
          await ray.get(keeper.sumKept.remote()),
          fnv(patternBytes(n, round)),
          `round ${round}: the actor's kept ref`,
        );
        ray.kill(keeper);
      }
    } finally {
      await ray.shutdown();
      await c.stop();
    }
  },
});
