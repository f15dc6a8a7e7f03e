/**
 * ObjectLifetime at its seam: when objects die. The object table, arena,
 * spill manager and control store are the real ones; the host's two
 * callbacks (an actor's last handle went, collect garbage everywhere) are
 * recorded.
 */
import assert from "node:assert/strict";
import {
  type ActorId,
  IdFactory,
  type JobId,
  type NodeId,
  type ObjectId,
  objectIdOf,
  type WorkerId,
} from "../../runtime/common/mod.ts";
import type { ToWorker } from "../../runtime/protocol/mod.ts";
import { ACTOR_REF_PREFIX, REF_OP, VIEW_REF_PREFIX } from "../../runtime/core/mod.ts";
import { MemoryControlStore } from "../../runtime/gcs/mod.ts";
import { SharedArena, SpillFiles, type StoreLoc } from "../../runtime/object_store/mod.ts";
import { ObjectLifetime } from "../../runtime/node/object_lifetime.ts";
import { ObjectTable } from "../../runtime/node/object_table.ts";
import { SpillManager } from "../../runtime/node/spill_manager.ts";

const KIB = 1024;
const JOB = "01000000" as JobId;
const NODE = "node1" as NodeId;
const W1 = "node1/w1";
const ids = new IdFactory();

function objectId(): ObjectId {
  return objectIdOf(ids.nextTaskId(), 0);
}

/** An ObjectLifetime over real parts; collections run every `gcEvery` stored bytes. */
function setup(gcEvery = 1024 * KIB, collectedOnItsOwn = () => false) {
  const arena = new SharedArena({ initialBytes: 256 * KIB, maxBytes: 256 * KIB });
  const files = new SpillFiles({ prefix: "lifetime", fileBytes: 256 * KIB, smallBytes: 64 * KIB });
  const spill = new SpillManager({
    arena,
    files,
    minBytes: 0,
    retryRounds: 0,
    collect: () => Promise.resolve(),
  });
  const table = new ObjectTable();
  const gcs = new MemoryControlStore();
  const released: ActorId[] = [];
  let collections = 0;
  let workerCollections = 0;
  const life = new ObjectLifetime({
    jobId: JOB,
    nodeId: NODE,
    table,
    arena,
    spill,
    gcs,
    actorReleased: (actorId) => released.push(actorId),
    collectEverywhere: (here) => here ? collections++ : workerCollections++,
    collectedOnItsOwn,
  }, gcEvery);
  /** Seals an inline object as the node does: table, lifetime, then settle. */
  const sealInline = (id: ObjectId, contained?: readonly ObjectId[]) => {
    const frame = new Uint8Array([1, 2, 3]);
    table.add(id, frame, false);
    life.sealed(id, frame, contained);
    life.settle(id);
  };
  /** Seals an object of `size` bytes in the store. */
  const sealStored = (id: ObjectId, size: number): StoreLoc => {
    const loc = arena.locate(arena.alloc(size))!;
    table.add(id, loc, false);
    life.sealed(id, loc);
    life.settle(id);
    return loc;
  };
  /** An object sealed here that only `task`'s arguments hold (its maker let go). */
  const argOfTask = () => {
    const arg = objectId();
    const task = ids.nextTaskId();
    life.inc(arg);
    sealInline(arg);
    life.holdTask(task, [arg]);
    life.dec(arg);
    return { arg, task };
  };
  const close = async () => {
    life.close();
    spill.close();
    await gcs.close();
  };
  return {
    arena,
    spill,
    table,
    gcs,
    life,
    released,
    collections: () => collections,
    workerCollections: () => workerCollections,
    sealInline,
    sealStored,
    argOfTask,
    close,
  };
}

Deno.test("ObjectLifetime frees an object when its last reference goes, and not before", async () => {
  const t = setup();
  try {
    const id = objectId();
    t.life.inc(id);
    t.life.inc(id, W1);
    t.sealInline(id);
    t.life.dec(id);
    assert.equal(t.table.status(id), "ok", "the worker still holds it");
    assert.equal(t.life.referenced, 1);
    t.life.dec(id, W1);
    assert.equal(t.table.status(id), "missing");
    assert.equal(t.life.referenced, 0);
  } finally {
    await t.close();
  }
});

Deno.test("ObjectLifetime records a stored object and its freeing in the control store", async () => {
  const t = setup();
  try {
    const id = objectId();
    t.life.inc(id);
    const loc = t.sealStored(id, 10 * KIB);
    await t.gcs.flush();
    const rec = await t.gcs.getObject(id);
    assert.equal(rec?.size, loc.size);
    assert.equal(rec?.owner, JOB);
    assert.deepEqual(rec?.locations, [NODE]);
    assert.equal(t.spill.stats().resident, 1);
    const used = t.arena.used;

    t.life.dec(id);
    await t.gcs.flush();
    assert.equal(await t.gcs.getObject(id), undefined, "objectFreed deletes the record");
    assert.equal(t.table.status(id), "missing");
    assert.equal(t.spill.stats().resident, 0);
    assert.ok(t.arena.used < used, "its bytes go back to the store");
  } finally {
    await t.close();
  }
});

Deno.test("ObjectLifetime frees an object nobody held before it existed as soon as it is settled", async () => {
  const t = setup();
  try {
    const id = objectId();
    t.life.inc(id);
    t.life.dec(id); // dropped while its task runs
    const frame = new Uint8Array([9]);
    t.table.add(id, frame, false);
    t.life.sealed(id, frame);
    assert.equal(t.table.status(id), "ok", "sealed, not yet settled");
    t.life.settle(id);
    assert.equal(t.table.status(id), "missing");

    const kept = objectId();
    t.sealInline(kept);
    assert.equal(t.table.status(kept), "ok", "an object never released stays");
  } finally {
    await t.close();
  }
});

Deno.test("ObjectLifetime: a task's arguments hold their objects until the task is done", async () => {
  const t = setup();
  try {
    const { arg, task } = t.argOfTask();
    assert.equal(t.table.status(arg), "ok", "held by the task's arguments");
    t.life.taskDone(task);
    assert.equal(t.table.status(arg), "missing");
    t.life.taskDone(task); // twice is harmless
    t.life.holdTask(ids.nextTaskId(), []); // no arguments: nothing held
    assert.equal(t.life.referenced, 0);
  } finally {
    await t.close();
  }
});

Deno.test("ObjectLifetime: an actor's call lets its arguments go only once its worker's holds came", async () => {
  const t = setup();
  try {
    const { arg, task: call } = t.argOfTask();
    const sent: ToWorker[] = [];
    const worker = { id: W1 as WorkerId, send: (msg: ToWorker) => sent.push(msg) };
    // The results came through the link; the hold the actor took (kept in its state) is on its way.
    t.life.taskDoneAfter(call, worker);
    assert.deepEqual(sent, [{ type: "refSync", seq: 1 }]);
    assert.equal(t.table.status(arg), "ok", "still held by the call");
    t.life.applyRefOp(REF_OP.hold, arg, W1); // the actor's hold, posted before its answer
    t.life.syncs.synced(W1 as WorkerId, 1);
    assert.equal(t.table.status(arg), "ok", "the actor holds it now");
    t.life.applyRefOp(REF_OP.release, arg, W1);
    assert.equal(t.table.status(arg), "missing");
    // A worker that dies before it answers: what waited for it runs.
    const { arg: other, task: call2 } = t.argOfTask();
    t.life.taskDoneAfter(call2, worker);
    t.life.dropHolder(W1);
    assert.equal(t.table.status(other), "missing");
    assert.equal(t.life.syncs.size, 0);
  } finally {
    await t.close();
  }
});

Deno.test("ObjectLifetime: refs contained in a stored object live until the container is freed", async () => {
  const t = setup();
  try {
    const inner = objectId();
    const outer = objectId();
    t.life.inc(inner);
    t.sealInline(inner);
    t.life.inc(outer);
    t.sealInline(outer, [inner]);
    t.life.dec(inner);
    assert.equal(t.table.status(inner), "ok", "the container holds it");
    t.life.dec(outer);
    assert.equal(t.table.status(outer), "missing");
    assert.equal(t.table.status(inner), "missing", "freeing the container lets go of its refs");
  } finally {
    await t.close();
  }
});

Deno.test("ObjectLifetime lets go of what a dead worker held", async () => {
  const t = setup();
  try {
    const mine = objectId();
    const shared = objectId();
    t.life.inc(mine, W1);
    t.life.inc(mine, W1);
    t.life.inc(shared, W1);
    t.life.inc(shared, "node1/w2");
    t.sealInline(mine);
    t.sealInline(shared);
    t.life.dropHolder(W1);
    assert.equal(t.table.status(mine), "missing");
    assert.equal(t.table.status(shared), "ok", "another worker still holds it");
  } finally {
    await t.close();
  }
});

Deno.test("ObjectLifetime tells the host when an actor's last handle goes", async () => {
  const t = setup();
  try {
    const actorId = ids.nextTaskId() as string as ActorId;
    const key = (ACTOR_REF_PREFIX + actorId) as ObjectId;
    t.life.applyRefOp(REF_OP.hold, key, W1);
    t.life.applyRefOp(REF_OP.hold, key, undefined);
    t.life.applyRefOp(REF_OP.release, key, W1);
    assert.deepEqual(t.released, []);
    t.life.applyRefOp(REF_OP.release, key, undefined);
    assert.deepEqual(t.released, [actorId]);
  } finally {
    await t.close();
  }
});

Deno.test("ObjectLifetime: a zero-copy view holds and pins its object until the last view goes", async () => {
  const t = setup();
  try {
    const id = objectId();
    const view = (VIEW_REF_PREFIX + id) as ObjectId;
    t.life.inc(id);
    const loc = t.sealStored(id, 8 * KIB);
    t.life.applyRefOp(REF_OP.hold, view, W1);
    t.life.applyRefOp(REF_OP.hold, view, W1);
    assert.equal(t.spill.stats().pinnedBytes, loc.size, "the first view pins it");
    t.life.dec(id);
    assert.equal(t.table.status(id), "ok", "the views hold it");
    t.life.applyRefOp(REF_OP.release, view, W1);
    assert.equal(t.table.status(id), "ok");
    t.life.applyRefOp(REF_OP.release, view, W1);
    assert.equal(t.table.status(id), "missing", "the last view let go");
    assert.equal(t.spill.stats().pinnedBytes, 0);
  } finally {
    await t.close();
  }
});

Deno.test("ObjectLifetime: an unpin ref op unpins the object and drops one reference", async () => {
  const t = setup();
  try {
    const id = objectId();
    t.life.inc(id, W1);
    t.life.inc(id, W1);
    const loc = t.sealStored(id, 4 * KIB);
    t.spill.pin(id); // a fetch lent its bytes to the worker
    assert.equal(t.spill.stats().pinnedBytes, loc.size);
    t.life.applyRefOp(REF_OP.unpin, id, W1);
    assert.equal(t.spill.stats().pinnedBytes, 0);
    assert.equal(t.table.status(id), "ok");
    t.life.applyRefOp(REF_OP.release, id, W1);
    assert.equal(t.table.status(id), "missing");
  } finally {
    await t.close();
  }
});

/** Lets a turn end: collections asked for in it run. */
const turn = () => new Promise((resolve) => setTimeout(resolve, 0));

Deno.test("ObjectLifetime asks for a collection everywhere after each gcEvery bytes stored", async () => {
  const t = setup(20 * KIB);
  try {
    t.sealInline(objectId());
    await turn();
    assert.equal(t.collections(), 0, "inline objects do not count");
    t.sealStored(objectId(), 12 * KIB);
    await turn();
    assert.equal(t.collections(), 0);
    t.sealStored(objectId(), 12 * KIB);
    await turn();
    assert.equal(t.collections(), 1);
    t.sealStored(objectId(), 12 * KIB);
    await turn();
    assert.equal(t.collections(), 1, "the count starts again after a collection");
    t.sealStored(objectId(), 12 * KIB);
    await turn();
    assert.equal(t.collections(), 2);
  } finally {
    await t.close();
  }
});

Deno.test("ObjectLifetime collects after the turn that asked, once for all its asks", async () => {
  const t = setup(20 * KIB);
  try {
    t.sealStored(objectId(), 12 * KIB);
    t.sealStored(objectId(), 12 * KIB);
    assert.equal(t.collections(), 0, "not on the seal's path: its waits are answered first");
    assert.equal(t.workerCollections(), 0);
    await Promise.resolve();
    assert.equal(t.collections(), 0, "not before the turn's microtasks (a wait's answer) ran");
    await turn();
    assert.equal(t.collections(), 1);
    for (let i = 0; i < 4; i++) t.sealStored(objectId(), 12 * KIB); // asks twice in one turn
    await turn();
    assert.equal(t.collections() + t.workerCollections(), 2, "one collection for the turn's asks");
    assert.equal(t.collections(), 2, "everywhere, since one ask wanted this thread too");
    t.sealStored(objectId(), 12 * KIB);
    t.sealStored(objectId(), 12 * KIB);
    t.life.close();
    await turn();
    assert.equal(t.collections(), 2, "close cancels an ask not yet run");
  } finally {
    await t.close();
  }
});

Deno.test("ObjectLifetime counts store growth: bytes freed since do not ask for a collection", async () => {
  const t = setup(20 * KIB);
  try {
    for (let i = 0; i < 10; i++) {
      const id = objectId();
      t.life.inc(id);
      t.sealStored(id, 12 * KIB);
      t.life.dec(id); // freed at once, as a disposed ref's object is
      await turn();
    }
    assert.equal(t.collections(), 0, "120 KiB sealed, none kept");
    assert.equal(t.workerCollections(), 5, "the workers collect once 20 KiB more were sealed");
    t.sealStored(objectId(), 12 * KIB);
    t.sealStored(objectId(), 12 * KIB);
    await turn();
    assert.equal(t.collections(), 1, "24 KiB kept");
  } finally {
    await t.close();
  }
});

Deno.test("ObjectLifetime forces no collection when V8 collected on its own since", async () => {
  let onItsOwn = true;
  const t = setup(20 * KIB, () => onItsOwn);
  try {
    t.sealStored(objectId(), 12 * KIB);
    t.sealStored(objectId(), 12 * KIB);
    await turn();
    assert.equal(t.collections(), 0, "its finalizers free what it found");
    assert.equal(t.workerCollections(), 1, "the workers are asked all the same");
    t.sealStored(objectId(), 12 * KIB);
    await turn();
    assert.equal(t.collections(), 0, "asked again only after another gcEvery of growth");
    onItsOwn = false;
    t.sealStored(objectId(), 12 * KIB);
    await turn();
    assert.equal(t.collections(), 1, "no collection of its own this time: one is forced");
  } finally {
    await t.close();
  }
});
