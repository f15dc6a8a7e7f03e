import assert from "node:assert/strict";
import { RecentMap, RecentSet } from "../../runtime/common/mod.ts";

Deno.test("RecentSet keeps the last `capacity` keys added, oldest forgotten first", () => {
  const s = new RecentSet<number>(3);
  for (let i = 1; i <= 5; i++) s.add(i);
  assert.deepEqual([1, 2, 3, 4, 5].map((i) => s.has(i)), [false, false, true, true, true]);
  assert.equal(s.size, 3);
});

Deno.test("RecentMap: a key set again keeps its place and takes the new value", () => {
  const m = new RecentMap<string, number>(2);
  m.set("a", 1).set("b", 2).set("a", 10);
  m.set("c", 3); // forgets the oldest place: "a"
  assert.equal(m.has("a"), false);
  assert.equal(m.get("b"), 2);
  assert.equal(m.get("c"), 3);
  assert.equal(m.get("a"), undefined);
});

Deno.test("RecentMap: a deleted key added again is forgotten only when its new place comes round", () => {
  const m = new RecentMap<string, number>(3);
  m.set("x", 1).set("y", 2);
  assert.equal(m.delete("x"), true);
  assert.equal(m.delete("x"), false);
  m.set("z", 3).set("x", 4); // "x" again, in the first place (the ring came round)
  m.set("w", 5); // overwrites "y"'s place
  assert.deepEqual(["x", "y", "z", "w"].map((k) => m.get(k)), [4, undefined, 3, 5]);
  assert.equal(m.size, 3);
});

Deno.test("RecentMap: after a delete the key's old place holds nothing to forget", () => {
  const m = new RecentMap<string, number>(2);
  m.set("a", 1);
  m.delete("a");
  m.set("b", 2);
  m.set("a", 3); // "a" again, in a new place
  m.set("c", 4); // takes "b"'s place
  assert.equal(m.get("a"), 3, "the newer 'a' stays");
  assert.equal(m.has("b"), false);
});

Deno.test("RecentMap rejects a capacity that is not a positive integer, naming it", () => {
  for (const bad of [0, -1, 1.5, NaN]) {
    assert.throws(() => new RecentMap(bad), /Invalid capacity: expected a positive integer/);
  }
});
