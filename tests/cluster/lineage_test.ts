/**
 * Lineage reconstruction across nodes (in-process cluster): a result whose
 * every copy died with its node is made again by its task, recursively
 * through that task's own lost arguments.
 */
import assert from "node:assert/strict";
import * as ray from "../../mod.ts";
import { fnv, pattern, patternBytes } from "../fixtures/cluster_fns.ts";
import { clusterTest } from "./in_process_cluster.ts";

/** Each byte of `bytes` plus one, and the node that made it: big, so it stays on that node. */
export const plusOne = ray.remote(function plusOne(bytes: Uint8Array) {
  return bytes.map((b) => (b + 1) & 255);
});

clusterTest("a two-step chain whose results all died is rebuilt recursively", [
  { numWorkers: 1, resources: { X: 1 } },
], async (c) => {
  const n = 2 * 1024 * 1024; // big: results stay on the node that made them
  const on = { resources: { X: 1 }, maxRetries: 2 };
  let second: ray.ObjectRef<Uint8Array>;
  {
    // Only `second` is held here: `first` is kept by the lineage (an argument of `second`'s task).
    using first = pattern.options(on).remote(n, 7);
    second = plusOne.options(on).remote(first);
  }
  await ray.wait([second], { fetchLocal: false });
  const want = fnv(patternBytes(n, 7).map((b) => (b + 1) & 255));
  await c.nodes[0].stop();
  await c.addNode({ numWorkers: 1, resources: { X: 1 } });
  const again = await ray.get(second, { timeoutMs: 60_000 });
  assert.equal(again.length, n);
  assert.equal(fnv(again), want);
});
