/**
 * Admission of pulls into a store (runtime/cluster/admission.ts): pulls get
 * blocks only while they fit, a `get` before a `wait` before task
 * arguments, first come first served within one; a waiting `get` takes
 * memory of its own after a while, task arguments never do.
 */
import assert from "node:assert/strict";
import { SharedArena } from "../../runtime/object_store/mod.ts";
import { Admission, PullPriority, type Ticket } from "../../runtime/cluster/admission.ts";

const MIB = 1024 * 1024;

function arenaOf(mib: number): SharedArena {
  return new SharedArena({ initialBytes: mib * MIB, maxBytes: mib * MIB + 64 * 1024 });
}

Deno.test("pulls are admitted while they fit, most urgent first, in arrival order within one", async () => {
  const arena = arenaOf(8);
  const admission = new Admission(arena, 60_000);
  try {
    const held = arena.alloc(6 * MIB);
    const order: string[] = [];
    const ask = (name: string, priority: PullPriority) =>
      admission.later(3 * MIB, { priority }).then((bytes) => {
        order.push(name);
        return bytes;
      });
    const args1 = ask("args1", PullPriority.args);
    const args2 = ask("args2", PullPriority.args);
    const wait1 = ask("wait1", PullPriority.wait);
    const get1 = ask("get1", PullPriority.get);
    await new Promise((r) => setTimeout(r, 60));
    assert.deepEqual(order, [], "nothing fits while 6 of 8 MiB are held");
    assert.equal(admission.waiting, 4);
    assert.equal(
      admission.now(MIB, { priority: PullPriority.args }),
      undefined,
      "others wait first",
    );
    arena.free(arena.locate(held)!);
    admission.pump();
    const [g, w] = await Promise.all([get1, wait1]);
    assert.deepEqual(order, ["get1", "wait1"], "two fit in 8 MiB: the most urgent");
    assert.equal(g.buffer, arena.sab, "a block of the store");
    arena.free(arena.locate(g)!);
    admission.pump();
    const a1 = await args1;
    assert.deepEqual(order, ["get1", "wait1", "args1"]);
    arena.free(arena.locate(w)!);
    arena.free(arena.locate(a1)!);
    admission.pump();
    arena.free(arena.locate(await args2)!);
    assert.deepEqual(order, ["get1", "wait1", "args1", "args2"]);
    assert.equal(admission.waiting, 0);
    const now = admission.now(MIB, { priority: PullPriority.args });
    assert.ok(now && now.buffer === arena.sab, "nothing waits: admitted at once");
  } finally {
    admission.close();
  }
});

Deno.test("a waiting pull raised to get goes before the task arguments queued earlier", async () => {
  const arena = arenaOf(4);
  const admission = new Admission(arena, 60_000);
  try {
    const held = arena.alloc(3 * MIB);
    const order: string[] = [];
    const first: Ticket = { priority: PullPriority.args };
    const second: Ticket = { priority: PullPriority.args };
    const p1 = admission.later(3 * MIB, first).then(() => order.push("first"));
    const p2 = admission.later(3 * MIB, second).then(() => order.push("second"));
    second.priority = PullPriority.get; // a get came for it
    arena.free(arena.locate(held)!);
    admission.pump();
    await p2;
    await new Promise((r) => setTimeout(r, 60));
    assert.deepEqual(order, ["second"], "only one fits");
    admission.close();
    await assert.rejects(p1, /shutting down/);
  } finally {
    admission.close();
  }
});

Deno.test("a get without room takes memory of its own after the fallback; task arguments keep waiting", async () => {
  const arena = arenaOf(4);
  const admission = new Admission(arena, 100);
  try {
    arena.alloc(3 * MIB);
    let argsAdmitted = false;
    const args = admission.later(2 * MIB, { priority: PullPriority.args }).then((b) => {
      argsAdmitted = true;
      return b;
    });
    args.catch(() => {});
    const started = Date.now();
    const got = await admission.later(2 * MIB, { priority: PullPriority.get });
    assert.ok(Date.now() - started >= 90, "it waited for room first");
    assert.notEqual(got.buffer, arena.sab, "memory of its own");
    assert.equal(got.byteLength, 2 * MIB);
    await new Promise((r) => setTimeout(r, 250));
    assert.equal(argsAdmitted, false, "task arguments never leave the store");
    const huge = await admission.later(64 * MIB, { priority: PullPriority.args });
    assert.notEqual(huge.buffer, arena.sab, "bigger than the whole store: its own memory at once");
  } finally {
    admission.close();
  }
});
