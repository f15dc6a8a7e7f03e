/**
 * What a caller records of its actor calls (runtime/links/_call_records.ts),
 * through CallLinks against a fake node and fake actors on this thread:
 * runs of calls, failed and cancelled calls, long calls as running, and when
 * records reach the sink.
 */
import assert from "node:assert/strict";
import { TaskCancelledError } from "../../runtime/common/mod.ts";
import { errorFrame } from "../../runtime/core/mod.ts";
import {
  ACTOR_CALL as F,
  ACTOR_CALL_STRIDE,
  type ActorCallValue,
  LINK_RESULT,
  type RunActorCall,
  runTaskId,
  type ToWorker,
} from "../../runtime/protocol/mod.ts";
import { CallLinks } from "../../runtime/links/mod.ts";
import { actorCall, FakeActor, FakeNode, settle, valueFrame } from "./_fakes.ts";

type Linked = Extract<ToWorker, { type: "actorLinked" }>;

/** A caller whose records are kept in `sunk`, one array per batch the sink got. */
function recordingCaller() {
  const sunk: ActorCallValue[][] = [];
  const node = Object.assign(new FakeNode(), { records: (r: ActorCallValue[]) => sunk.push(r) });
  return { node, links: new CallLinks(node), sunk };
}

/** The records of a batch, one object of the fields named here each. */
function records(flat: readonly ActorCallValue[]) {
  const out = [];
  for (let i = 0; i < flat.length; i += ACTOR_CALL_STRIDE) {
    out.push({
      taskId: flat[i + F.taskId],
      method: flat[i + F.method],
      state: flat[i + F.state],
      count: flat[i + F.count],
      step: flat[i + F.step],
      error: flat[i + F.error],
      ids: Array.from({ length: flat[i + F.count] as number }, (_, k) => runTaskId(flat, i, k)),
    });
  }
  return out;
}

/** Opens the link of every actor the caller asked for; returns the fake actors by id. */
async function open(node: FakeNode, links: CallLinks): Promise<Map<string, FakeActor>> {
  await settle();
  const actors = new Map<string, FakeActor>();
  for (const req of node.links()) {
    const actor = new FakeActor(req);
    const msg: Linked = {
      type: "actorLinked",
      linkId: req.linkId,
      actorBell: actor.bell.sab,
      maxTaskRetries: 0,
      label: "A",
    };
    links.linked(msg);
    actors.set(req.actorId, actor);
  }
  return actors;
}

Deno.test("calls that finish in one turn are one record per run: same actor and method, ids a step apart", async () => {
  const { node, links, sunk } = recordingCaller();
  // Round-robin over two actors: each actor's calls have task ids two apart.
  const calls = Array.from({ length: 6 }, (_, i) => actorCall(i % 2 ? "a2" : "a1", "inc"));
  const refs = calls.flatMap((c) => links.call(c));
  const actors = await open(node, links);
  for (const actor of actors.values()) actor.echo(actor.take());
  await links.wait(refs, refs.length, { fetch: true, timeoutMs: 2000 });
  links.flushRecords();
  assert.equal(sunk.length, 1, "one batch");
  const got = records(sunk[0]);
  assert.deepEqual(got.map((r) => [r.method, r.state, r.count, r.step]), [
    ["inc", "finished", 3, 2],
    ["inc", "finished", 3, 2],
  ]);
  assert.deepEqual(
    got.flatMap((r) => r.ids).toSorted(),
    calls.map((c) => c.taskId).toSorted(),
    "every call is named by its run",
  );
  links.shutdown();
});

Deno.test("a failed or cancelled call is a record of its own, with its error; another method breaks a run", async () => {
  const { node, links, sunk } = recordingCaller();
  const calls = [
    actorCall("a1", "inc"),
    actorCall("a1", "inc"),
    actorCall("a1", "boom"),
    actorCall("a1", "inc"),
    actorCall("a1", "stop"),
    actorCall("a1", "get"),
  ];
  const refs = calls.flatMap((c) => links.call(c));
  const actor = (await open(node, links)).get("a1")!;
  const runs = actor.take();
  const fail = (r: RunActorCall, err: Error) => [r[6], LINK_RESULT.failed, [errorFrame(err)]];
  actor.reply(
    runs.map((r) =>
      r[1] === "boom"
        ? fail(r, new RangeError("x must be 0"))
        : r[1] === "stop"
        ? fail(r, new TaskCancelledError(r[0]))
        : [r[6], LINK_RESULT.ok, [valueFrame(1)]]
    ) as never,
  );
  await links.wait(refs, refs.length, { fetch: true, timeoutMs: 2000 });
  links.flushRecords();
  const got = records(sunk.flat());
  assert.deepEqual(got.map((r) => [r.method, r.state, r.count]), [
    ["inc", "finished", 2],
    ["boom", "failed", 1],
    ["inc", "finished", 1],
    ["stop", "cancelled", 1],
    ["get", "finished", 1],
  ]);
  assert.match(String(got[1].error), /^RangeError: x must be 0/);
  assert.match(String(got[3].error), /^TaskCancelledError/);
  links.shutdown();
});

Deno.test("a call still out after about 100 ms is recorded as running, once; records reach the sink within 10 ms", async () => {
  const { node, links, sunk } = recordingCaller();
  const [slow] = links.call(actorCall("a1", "slow"));
  const actor = (await open(node, links)).get("a1")!;
  const runs = actor.take();
  await settle(250);
  const running = records(sunk.flat());
  assert.deepEqual(running.map((r) => [r.method, r.state]), [["slow", "running"]]);
  await settle(150);
  assert.equal(records(sunk.flat()).length, 1, "recorded as running once");
  actor.echo(runs);
  await links.wait([slow], 1, { fetch: true, timeoutMs: 2000 });
  assert.equal(sunk.length, 1, "the end waits for its batch");
  await settle(30);
  assert.deepEqual(records(sunk.flat()).map((r) => [r.method, r.state]), [
    ["slow", "running"],
    ["slow", "finished"],
  ]);
  links.shutdown();
});
