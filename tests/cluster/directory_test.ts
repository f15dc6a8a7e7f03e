/**
 * An owner's object directory (runtime/cluster/directory.ts): readers of
 * one object are spread over its copies, a copy already tried is skipped
 * while another exists, and a lookup waits until someone publishes.
 */
import assert from "node:assert/strict";
import type { ObjectId } from "../../runtime/common/mod.ts";
import { ObjectDirectory } from "../../runtime/cluster/mod.ts";

const id = "obj" as ObjectId;
const [a, b, c] = ["127.0.0.1:1001", "127.0.0.1:1002", "127.0.0.1:1003"];

Deno.test("holder: every copy serves readers; copies tried are skipped while others exist", async () => {
  const dir = new ObjectDirectory();
  dir.update(a, { added: [[id, 100]], removed: [] });
  dir.update(b, { added: [[id, 100]], removed: [] });
  dir.update(c, { added: [[id, 100]], removed: [] });
  const seen = new Set<string>();
  for (let i = 0; i < 200; i++) seen.add(await dir.holder(id));
  assert.deepEqual([...seen].sort(), [a, b, c], "not only the first copy");
  for (let i = 0; i < 50; i++) {
    assert.notEqual(await dir.holder(id, (h) => h !== a), a);
    assert.equal(await dir.holder(id, (h) => h === c), c);
  }
  assert.ok([a, b, c].includes(await dir.holder(id, () => false)), "all tried: any copy");
  dir.update(a, { added: [], removed: [id] });
  dir.update(b, { added: [], removed: [id] });
  for (let i = 0; i < 20; i++) assert.equal(await dir.holder(id), c);
});

Deno.test("holder: a lookup of an unpublished object waits for the first copy", async () => {
  const dir = new ObjectDirectory();
  const later = dir.holder(id);
  assert.equal(dir.waiting, 1);
  dir.update(b, { added: [[id, 5]], removed: [] });
  assert.equal(await later, b);
  assert.equal(dir.waiting, 0);
});
