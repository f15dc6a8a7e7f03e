import assert from "node:assert/strict";
import type { ObjectId } from "../../runtime/common/mod.ts";
import { RefCounts } from "../../runtime/node/ref_counts.ts";

const A = "a" as ObjectId;
const B = "b" as ObjectId;

function counts(): { refs: RefCounts; freed: ObjectId[] } {
  const freed: ObjectId[] = [];
  return { refs: new RefCounts((id) => freed.push(id)), freed };
}

Deno.test("an object is freed when its last reference goes, not before", () => {
  const { refs, freed } = counts();
  refs.inc(A);
  refs.inc(A, "w1");
  refs.inc(A, "w1");
  assert.equal(refs.count(A), 3);
  refs.dec(A, "w1");
  refs.dec(A);
  assert.deepEqual(freed, []);
  refs.dec(A, "w1");
  assert.deepEqual(freed, [A]);
  assert.equal(refs.count(A), 0);
  assert.equal(refs.size, 0);
});

Deno.test("a release by a holder that never held is ignored", () => {
  const { refs, freed } = counts();
  refs.inc(A, "w1");
  refs.dec(A, "w2");
  refs.dec(B, "w1");
  refs.dec(B);
  assert.equal(refs.count(A), 1);
  assert.deepEqual(freed, []);
});

Deno.test("several holders each keep their own share", () => {
  const { refs, freed } = counts();
  refs.inc(A, "w1");
  refs.inc(A, "w2");
  refs.inc(A, "w3");
  refs.inc(A, "w2");
  refs.dec(A, "w1");
  refs.dec(A, "w1"); // w1 has nothing left: ignored
  assert.equal(refs.count(A), 3);
  refs.dec(A, "w2");
  refs.dec(A, "w3");
  assert.deepEqual(freed, []);
  refs.dec(A, "w2");
  assert.deepEqual(freed, [A]);
});

Deno.test("a dead holder's references are dropped, and only its own", () => {
  const { refs, freed } = counts();
  refs.inc(A, "w1");
  refs.inc(A, "w1");
  refs.inc(A, "w2");
  refs.inc(B, "w2");
  refs.inc(B);
  refs.dropHolder("w2");
  assert.equal(refs.count(A), 2);
  assert.equal(refs.count(B), 1);
  assert.deepEqual(freed, []);
  refs.dropHolder("w1");
  assert.deepEqual(freed, [A]);
  refs.dec(B);
  assert.deepEqual(freed, [A, B]);
  refs.dropHolder("w9");
});

Deno.test("a holder that comes back after its share fell to zero holds again", () => {
  const { refs, freed } = counts();
  refs.inc(A);
  refs.inc(A, "w1");
  refs.dec(A, "w1");
  refs.inc(A, "w2");
  refs.inc(A, "w1");
  refs.dropHolder("w2");
  assert.equal(refs.count(A), 2);
  refs.dec(A, "w1");
  refs.dec(A);
  assert.deepEqual(freed, [A]);
});

Deno.test("a lone hold (kept as its holder's name) counts, drops, lists and grows like any", () => {
  const { refs, freed } = counts();
  refs.inc(A, "driver");
  refs.inc(B, "w1");
  assert.equal(refs.count(A), 1);
  assert.deepEqual(refs.heldBy("w"), new Map([["w1", [B]]]));
  assert.deepEqual(refs.heldBy("d"), new Map([["driver", [A]]]));
  refs.dropHolder("w1");
  assert.deepEqual(freed, [B]);
  refs.inc(A); // an unnamed reference on top of the lone hold
  refs.inc(A, "w2");
  assert.equal(refs.count(A), 3);
  refs.dec(A, "driver");
  refs.dec(A, "driver"); // the driver gave one: the second is ignored
  refs.dec(A, "w2");
  assert.deepEqual(freed, [B]);
  refs.dec(A);
  assert.deepEqual(freed, [B, A]);
  refs.inc(B, "w1");
  refs.dec(B); // an unnamed release of a lone hold frees it too
  assert.deepEqual(freed, [B, A, B]);
  assert.equal(refs.size, 0);
});

Deno.test("unnamed references (kept as a number) count, ignore named releases and grow like any", () => {
  const { refs, freed } = counts();
  refs.inc(A);
  refs.inc(A);
  refs.dec(A, "w1"); // w1 never held A
  refs.dropHolder("w1");
  assert.deepEqual(refs.heldBy(""), new Map());
  assert.equal(refs.count(A), 2);
  refs.inc(A, "w1");
  assert.deepEqual(refs.heldBy("w"), new Map([["w1", [A]]]));
  refs.dec(A);
  refs.dec(A);
  assert.deepEqual(freed, []);
  refs.dropHolder("w1");
  assert.deepEqual(freed, [A]);
  refs.inc(B);
  refs.dec(B);
  assert.deepEqual(freed, [A, B]);
  assert.equal(refs.size, 0);
});
