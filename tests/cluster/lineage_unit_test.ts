import assert from "node:assert/strict";
import type { TaskId } from "../../runtime/common/mod.ts";
import type { TaskSpec } from "../../runtime/protocol/mod.ts";
import { Lineage } from "../../runtime/cluster/lineage.ts";

/** A spec with `bytes` of inline arguments (only what Lineage reads). */
function spec(taskId: string, bytes: number): TaskSpec {
  return { taskId, args: new Uint8Array(bytes) } as unknown as TaskSpec;
}

Deno.test("Lineage keeps specs within its bound, letting the oldest go and releasing them", () => {
  const released: string[] = [];
  const lineage = new Lineage((id) => released.push(id), () => 3000);
  lineage.keep(spec("a", 1000));
  lineage.keep(spec("b", 1000));
  assert.equal(lineage.size, 2);
  assert.equal(lineage.bytes, 2 * (1000 + 256));
  lineage.keep(spec("c", 1000)); // 3 x 1256 > 3000: "a" goes
  assert.deepEqual(released, ["a"]);
  assert.equal(lineage.get("a" as TaskId), undefined);
  assert.ok(lineage.evicted("a" as TaskId));
  assert.ok(!lineage.evicted("b" as TaskId));
  assert.ok(lineage.bytes <= 3000);
  // Taking one out to run it again does not release what it holds; dropping does.
  assert.equal(lineage.take("b" as TaskId)?.taskId, "b");
  assert.deepEqual(released, ["a"]);
  assert.ok(lineage.drop("c" as TaskId));
  assert.deepEqual(released, ["a", "c"]);
  assert.equal(lineage.size, 0);
  assert.equal(lineage.bytes, 0);
  // One spec bigger than the bound is still kept (the newest is never let go by itself).
  lineage.keep(spec("d", 10_000));
  assert.equal(lineage.size, 1);
});
