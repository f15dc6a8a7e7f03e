/**
 * OwnedObjects at its seam: a worker promises the objects it owns, seals
 * them once it has them, and what it promised and did not seal is sealed
 * with ObjectLostError when it dies. The host is the node's real object
 * table; only the seal is watched.
 */
import assert from "node:assert/strict";
import {
  IdFactory,
  type ObjectId,
  objectIdOf,
  ObjectLostError,
  type WorkerId,
} from "../../runtime/common/mod.ts";
import { errorFrame, fromFrame, toFrame } from "../../runtime/core/mod.ts";
import { SharedArena } from "../../runtime/object_store/mod.ts";
import { ObjectTable } from "../../runtime/node/object_table.ts";
import { OwnedObjects } from "../../runtime/node/owned_objects.ts";

const ids = new IdFactory();
const W1 = "w1" as WorkerId;
const W2 = "w2" as WorkerId;
const arena = new SharedArena({ initialBytes: 64 * 1024, maxBytes: 64 * 1024 });

function objectId(): ObjectId {
  return objectIdOf(ids.nextTaskId(), 0);
}

/** OwnedObjects over a real object table; `seals` lists each seal the host was asked for. */
function setup() {
  const table = new ObjectTable();
  const seals: { id: ObjectId; frame: Uint8Array; error: boolean }[] = [];
  const owned = new OwnedObjects({
    status: (id) => table.status(id),
    seal: (id, frame, error) => {
      seals.push({ id, frame, error });
      table.add(id, frame, error);
      owned.sealed(id);
    },
  });
  return { table, seals, owned };
}

/** The error an error frame holds. */
function errorOf(frame: Uint8Array): unknown {
  try {
    fromFrame(frame, arena);
  } catch (error) {
    return error;
  }
  assert.fail("expected an error frame");
}

Deno.test("OwnedObjects seals a promised object for the worker that promised it", () => {
  const { table, seals, owned } = setup();
  const a = objectId();
  const b = objectId();
  owned.handle(W1, { type: "promise", ids: [a, b] });
  assert.equal(owned.size, 2);
  const value = toFrame(42, "value", arena) as Uint8Array;
  owned.handle(W1, {
    type: "seal",
    objects: [[a, value, false], [b, errorFrame(new Error("x")), true]],
  });
  assert.deepEqual(seals.map((s) => [s.id, s.error]), [[a, false], [b, true]]);
  assert.equal(seals[0].frame, value, "the worker's frame is sealed as is");
  assert.equal(table.status(a), "ok");
  assert.equal(table.status(b), "error");
  assert.equal(owned.size, 0, "sealed objects are no longer promised");
});

Deno.test("OwnedObjects refuses a seal from a worker that did not promise the object", () => {
  const { table, seals, owned } = setup();
  const a = objectId();
  owned.handle(W1, { type: "promise", ids: [a] });
  assert.throws(
    () => owned.handle(W2, { type: "seal", objects: [[a, new Uint8Array([1]), false]] }),
    (e: unknown) =>
      e instanceof TypeError && e.message === `object ${a} was not promised by this worker`,
  );
  const never = objectId();
  assert.throws(
    () => owned.handle(W1, { type: "seal", objects: [[never, new Uint8Array([1]), false]] }),
    /was not promised by this worker/,
  );
  assert.equal(seals.length, 0);
  assert.equal(table.status(a), "missing");
  assert.equal(owned.size, 1, "W1's promise stands");
});

Deno.test("OwnedObjects ignores a seal of an object sealed already and a promise of one present", () => {
  const { table, seals, owned } = setup();
  const present = objectId();
  table.add(present, new Uint8Array([7]), false);
  owned.handle(W1, { type: "promise", ids: [present] });
  assert.equal(owned.size, 0, "an object that exists is not promised");
  owned.handle(W2, { type: "seal", objects: [[present, new Uint8Array([8]), false]] });
  assert.equal(seals.length, 0);
  assert.deepEqual(table.frame(present), new Uint8Array([7]), "the first frame stays");
});

Deno.test("OwnedObjects seals what a dead owner promised with ObjectLostError, and nothing else", () => {
  const { table, seals, owned } = setup();
  const lost = objectId();
  const sealedFirst = objectId();
  const other = objectId();
  owned.handle(W1, { type: "promise", ids: [lost, sealedFirst] });
  owned.handle(W2, { type: "promise", ids: [other] });
  owned.handle(W1, { type: "seal", objects: [[sealedFirst, new Uint8Array([1]), false]] });
  seals.length = 0;

  owned.ownerDied(W1, "it crashed");
  assert.deepEqual(seals.map((s) => [s.id, s.error]), [[lost, true]]);
  const error = errorOf(seals[0].frame);
  assert.ok(error instanceof ObjectLostError, `got ${error}`);
  assert.equal(
    error.message,
    `Object ${lost} is lost: the worker that owned it (w1) died: it crashed`,
  );
  assert.equal(table.status(lost), "error");
  assert.equal(table.status(sealedFirst), "ok");
  assert.equal(table.status(other), "missing", "another worker's promise is left alone");
  assert.equal(owned.size, 1);

  owned.ownerDied(W1, "again");
  assert.equal(seals.length, 1, "a second death of the same owner seals nothing more");
});

Deno.test("OwnedObjects: an object sealed by someone else is no longer lost when its owner dies", () => {
  const { table, seals, owned } = setup();
  const a = objectId();
  const b = objectId();
  owned.handle(W1, { type: "promise", ids: [a, b] });
  // The task that makes `a` finished on the node (not through the owner's seal).
  table.add(a, new Uint8Array([1]), false);
  owned.sealed(a);
  // `b` appeared in the table without `sealed` being called: the status check still keeps it.
  table.add(b, new Uint8Array([2]), false);
  assert.equal(owned.size, 1);
  owned.ownerDied(W1, "gone");
  assert.equal(seals.length, 0);
  assert.equal(table.status(a), "ok");
  assert.equal(table.status(b), "ok");
  assert.equal(owned.size, 0);
});

Deno.test("OwnedObjects sealIfMissing seals only missing objects, always as errors", () => {
  const { table, seals, owned } = setup();
  const missing = objectId();
  const present = objectId();
  table.add(present, new Uint8Array([1]), false);
  const frame = errorFrame(new Error("caller gone"));
  owned.handle(W1, { type: "sealIfMissing", objects: [[missing, frame], [present, frame]] });
  assert.deepEqual(seals.map((s) => [s.id, s.error]), [[missing, true]]);
  assert.equal(table.status(present), "ok");
});

Deno.test("OwnedObjects rejects malformed messages with a TypeError naming the problem", () => {
  const { seals, owned } = setup();
  const a = objectId();
  const bad = (msg: unknown, message: string) =>
    assert.throws(
      () => owned.handle(W1, msg as Parameters<OwnedObjects["handle"]>[1]),
      (e: unknown) => e instanceof TypeError && e.message === message,
    );
  bad({ type: "promise", ids: "nope" }, "bad ids");
  bad({ type: "promise", ids: ["xyz"] }, "bad object id");
  bad({ type: "seal", objects: {} }, "bad objects");
  bad({ type: "seal", objects: [[a, "frame", false]] }, "bad frame");
  bad({ type: "sealIfMissing", objects: null }, "bad objects");
  bad({ type: "sealIfMissing", objects: [[42, new Uint8Array(1)]] }, "bad object id");
  bad({ type: "sealIfMissing", objects: [[a, [1, 2]]] }, "bad frame");
  assert.equal(seals.length, 0);
  assert.equal(owned.size, 0);
});

Deno.test("OwnedObjects drops the node thread's late seal of an object no longer there (trusted)", () => {
  const { table, seals, owned } = setup();
  const gone = objectId(); // sealed by another path, then freed: missing, and promised by nobody
  owned.handle(W1, { type: "seal", objects: [[gone, new Uint8Array([1]), false]] }, true);
  assert.equal(seals.length, 0);
  assert.equal(table.status(gone), "missing", "not brought back");
  assert.throws(
    () => owned.handle(W1, { type: "seal", objects: [[gone, new Uint8Array([1]), false]] }),
    /was not promised by this worker/,
    "a worker's such seal is still refused",
  );
});

Deno.test("OwnedObjects drops a worker's late seal of what it promised, sealed elsewhere and freed", () => {
  const { table, seals, owned } = setup();
  const id = objectId();
  owned.handle(W1, { type: "promise", ids: [id] });
  // Another path seals it first (the node's sealIfMissing of a lost result), then it is freed.
  owned.handle(W1, { type: "sealIfMissing", objects: [[id, errorFrame(new Error("lost"))]] });
  table.remove(id);
  assert.equal(table.status(id), "missing");
  // The promiser's own seal comes late: dropped, not refused (refusing it ended the worker).
  owned.handle(W1, { type: "seal", objects: [[id, new Uint8Array([1]), false]] });
  assert.equal(seals.length, 1, "only the first seal");
  assert.equal(table.status(id), "missing", "not brought back");
  assert.throws(
    () => owned.handle(W2, { type: "seal", objects: [[id, new Uint8Array([1]), false]] }),
    /was not promised by this worker/,
    "another worker's seal of it is still refused",
  );
});
