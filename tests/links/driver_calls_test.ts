/**
 * The driver as a caller (DriverCalls) with a fake node host: its link
 * requests go to the host's actors, answers come back on a later
 * microtask, owned results are waited for in place, and refs the driver
 * does not own all go to the node.
 */
import assert from "node:assert/strict";
import { IdFactory, type ObjectId, type WorkerId } from "../../runtime/common/mod.ts";
import { ObjectRef, type WaitResult } from "../../runtime/core/mod.ts";
import type { Frame, FromWorker } from "../../runtime/protocol/mod.ts";
import { DriverCalls, type DriverCallsHost, type LinkCaller } from "../../runtime/links/mod.ts";
import { actorCall, FakeActor, type LinkRequest, settle, valueOf } from "./_fakes.ts";

type OwnerMessage = Extract<FromWorker, { type: "promise" | "seal" | "sealIfMissing" }>;

class FakeHost implements DriverCallsHost {
  readonly ids = new IdFactory();
  readonly linked: [LinkCaller, LinkRequest][] = [];
  readonly ownerMessages: [WorkerId, OwnerMessage][] = [];
  readonly puts: ObjectId[] = [];
  readonly nodeWaits: ObjectId[][] = [];
  up = true;
  readonly actors = {
    link: (caller: LinkCaller, msg: LinkRequest) => void this.linked.push([caller, msg]),
  };
  readonly owned = {
    handle: (owner: WorkerId, msg: OwnerMessage) => void this.ownerMessages.push([owner, msg]),
  };
  readonly leaseMessages: FromWorker[] = [];
  readonly records = {
    actorCalls: () => {},
    taskSubmitted: () => {},
    taskRunning: () => {},
    taskState: () => {},
    behind: () => false,
  };
  lease(_caller: LinkCaller, msg: FromWorker): void {
    this.leaseMessages.push(msg);
  }
  wait(ids: readonly ObjectId[]): Promise<WaitResult> {
    this.nodeWaits.push([...ids]);
    return Promise.resolve({ ready: ids.map(() => false) });
  }
  put(id: ObjectId, _frame: Frame, _contained: readonly ObjectId[]): void {
    this.puts.push(id);
  }
  running(): boolean {
    return this.up;
  }
}

/** Opens the first link the host saw, as the actor manager would; returns the fake actor. */
function open(host: FakeHost, i = 0): FakeActor {
  const [caller, req] = host.linked[i];
  const actor = new FakeActor(req);
  caller.send({
    type: "actorLinked",
    linkId: req.linkId,
    actorBell: actor.bell.sab,
    maxTaskRetries: 0,
    label: "A",
  });
  return actor;
}

Deno.test("the driver's calls link through the host's actors as the caller 'driver'", async () => {
  const host = new FakeHost();
  const calls = new DriverCalls(host);
  const refs = calls.call(actorCall("a1", "hello"));
  assert.equal(host.linked.length, 1);
  const [caller, req] = host.linked[0];
  assert.equal(caller.id, "driver");
  assert.equal(caller.alive, true);
  assert.equal(req.actorId, "a1");
  const actor = open(host);
  await settle();
  actor.echo(actor.take());
  const got = await calls.wait(refs, 1, { fetch: true, timeoutMs: 2000 });
  assert.ok(got, "owned refs are answered by the driver's links");
  assert.deepEqual(got.ready, [true]);
  assert.equal(valueOf(got.frames![0]), "hello");
  assert.deepEqual(host.nodeWaits, [], "the node is not asked");
  calls.shutdown();
});

Deno.test("a wait with refs the driver does not own goes to the node, promising the owned ones", async () => {
  const host = new FakeHost();
  const calls = new DriverCalls(host);
  const [owned] = calls.call(actorCall("a1"));
  const other = new ObjectRef(host.ids.nextPutId());
  assert.equal(calls.wait([owned, other], 2, { fetch: false }), undefined);
  assert.equal(calls.wait([], 0, { fetch: false }), undefined, "an empty wait is the node's");
  await settle();
  const promises = host.ownerMessages.filter(([, m]) => m.type === "promise");
  assert.deepEqual(promises, [["driver", { type: "promise", ids: [owned.id] }]]);
  calls.shutdown();
});

Deno.test("answers to the driver come on a later microtask, and not once the node stopped", async () => {
  const host = new FakeHost();
  const calls = new DriverCalls(host);
  const [ref] = calls.call(actorCall("a1"));
  const [caller] = host.linked[0];
  const actor = open(host);
  await settle();
  const runs = actor.take();
  assert.equal(runs.length, 1, "written before the answer came");
  // The node stops: an unlink sent to the driver now is dropped.
  host.up = false;
  assert.equal(caller.alive, false, "the driver is alive while the node runs");
  caller.send({
    type: "actorUnlinked",
    linkId: host.linked[0][1].linkId,
    label: "A",
    why: "x",
    maxTaskRetries: 0,
  });
  await settle();
  host.up = true;
  actor.echo(runs);
  const got = await calls.wait([ref], 1, { fetch: true, timeoutMs: 2000 });
  assert.equal(valueOf(got!.frames![0]), "m", "the unlink sent after the stop was ignored");
  calls.shutdown();
});

Deno.test("shutdown rejects the driver's waits", async () => {
  const host = new FakeHost();
  const calls = new DriverCalls(host);
  const [ref] = calls.call(actorCall("a1"));
  const waiting = calls.wait([ref], 1, { fetch: false })!;
  await settle();
  calls.shutdown();
  await assert.rejects(waiting, /shut down/i);
});
