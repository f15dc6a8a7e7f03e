import assert from "node:assert/strict";
import {
  IdFactory,
  isObjectIdHex,
  isOwnerTag,
  isPutId,
  objectIdOf,
  ownerTag,
  ownerTagOf,
  randomHex,
  type TaskId,
  taskIdOf,
} from "../../runtime/common/mod.ts";

Deno.test("objectIdOf() and taskIdOf() round-trip a task id for any return index", () => {
  const taskId = new IdFactory().nextTaskId();
  for (const index of [0, 1, 2, 15, 255, 4096, 0xfffe]) {
    const objectId = objectIdOf(taskId, index);
    assert.equal(taskIdOf(objectId), taskId);
    assert.ok(isObjectIdHex(objectId), `${objectId} is not object id shaped`);
  }
});

Deno.test("objectIdOf() gives distinct ids for distinct return indexes", () => {
  const taskId = new IdFactory().nextTaskId();
  const ids = new Set(Array.from({ length: 100 }, (_, i) => objectIdOf(taskId, i)));
  assert.equal(ids.size, 100);
});

Deno.test("objectIdOf() is deterministic for the same task and index", () => {
  const taskId = new IdFactory().nextTaskId();
  assert.equal(objectIdOf(taskId, 3), objectIdOf(taskId, 3));
});

Deno.test("isPutId() is true for nextPutId() and false for task returns", () => {
  const ids = new IdFactory();
  const putId = ids.nextPutId();
  assert.ok(isPutId(putId));
  assert.ok(isObjectIdHex(putId));
  const taskId = ids.nextTaskId();
  for (const index of [0, 1, 0xfffe]) assert.equal(isPutId(objectIdOf(taskId, index)), false);
});

Deno.test("IdFactory gives 100k unique task ids", () => {
  const ids = new IdFactory();
  const seen = new Set<TaskId>();
  for (let i = 0; i < 100_000; i++) seen.add(ids.nextTaskId());
  assert.equal(seen.size, 100_000);
});

Deno.test("IdFactory gives 100k unique put ids whose task ids are unique too", () => {
  const ids = new IdFactory();
  const seen = new Set<string>();
  for (let i = 0; i < 100_000; i++) seen.add(taskIdOf(ids.nextPutId()));
  assert.equal(seen.size, 100_000);
});

Deno.test("IdFactory instances in one thread do not collide", () => {
  const a = new IdFactory();
  const b = new IdFactory();
  const seen = new Set<TaskId>();
  for (let i = 0; i < 1000; i++) {
    seen.add(a.nextTaskId());
    seen.add(b.nextTaskId());
  }
  assert.equal(seen.size, 2000);
});

Deno.test("IdFactory task ids are 24 lowercase hex chars and object ids 28", () => {
  const ids = new IdFactory();
  const taskId = ids.nextTaskId();
  assert.match(taskId, /^[0-9a-f]{24}$/);
  assert.match(objectIdOf(taskId, 7), /^[0-9a-f]{28}$/);
  assert.match(ids.nextPutId(), /^[0-9a-f]{28}$/);
});

Deno.test("isObjectIdHex() rejects wrong lengths and non-hex characters", () => {
  const good = objectIdOf(new IdFactory().nextTaskId(), 0);
  assert.ok(isObjectIdHex(good));
  assert.equal(isObjectIdHex(good.slice(1)), false);
  assert.equal(isObjectIdHex(good + "0"), false);
  assert.equal(isObjectIdHex("g" + good.slice(1)), false);
  assert.equal(isObjectIdHex(good.toUpperCase().replace(/[0-9]/g, "A")), false);
  assert.equal(isObjectIdHex(""), false);
});

Deno.test("randomHex() returns two lowercase hex chars per byte", () => {
  for (const n of [0, 1, 8, 32]) assert.match(randomHex(n), new RegExp(`^[0-9a-f]{${2 * n}}$`));
  assert.notEqual(randomHex(16), randomHex(16));
});

Deno.test("owner tags: every id of a factory starts with its tag, ownerTagOf reads it back", () => {
  const tag = ownerTag(0x1234abcd);
  assert.equal(tag, "1234abcd");
  assert.equal(ownerTag(7), "00000007");
  const a = new IdFactory(tag);
  const b = new IdFactory(tag); // another thread of the same process
  assert.equal(a.ownerTag, tag);
  for (let i = 0; i < 100; i++) {
    const t = a.nextTaskId();
    assert.equal(ownerTagOf(t), tag);
    assert.equal(ownerTagOf(objectIdOf(t, i)), tag);
    assert.equal(ownerTagOf(b.nextPutId()), tag);
  }
  assert.notEqual(a.nextTaskId().slice(8, 16), b.nextTaskId().slice(8, 16), "threads differ");
  const untagged = new IdFactory();
  assert.ok(isOwnerTag(untagged.ownerTag), "embedded: a random tag");
  assert.equal(ownerTagOf(untagged.nextTaskId()), untagged.ownerTag);
});

Deno.test("owner tags: bad tags and owner numbers are refused, naming them", () => {
  for (const bad of ["", "1234567", "123456789", "ABCDEF01", "zzzzzzzz"]) {
    assert.throws(() => new IdFactory(bad), /Invalid owner tag: expected 8 hex chars/);
    assert.equal(isOwnerTag(bad), false);
  }
  for (const bad of [-1, 2 ** 32, 1.5, NaN]) {
    assert.throws(() => ownerTag(bad), /Invalid owner number/);
  }
});
