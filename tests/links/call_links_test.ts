/**
 * The caller's side of call links (CallLinks) against a fake node and a
 * fake actor on this thread: opening, results, and what an unlink does to
 * calls (re-send, retry within the budget, fail), a death, and garbage.
 */
import assert from "node:assert/strict";
import { RayActorError } from "../../runtime/common/mod.ts";
import { errorFrame } from "../../runtime/core/mod.ts";
import { type ActorCall, LINK_RESULT, type ToWorker } from "../../runtime/protocol/mod.ts";
import { CallLinks } from "../../runtime/links/mod.ts";
import { actorCall, FakeActor, FakeNode, settle, valueFrame, valueOf } from "./_fakes.ts";

type Linked = Extract<ToWorker, { type: "actorLinked" }>;
type Unlinked = Extract<ToWorker, { type: "actorUnlinked" }>;

function linked(linkId: number, actor: FakeActor, maxTaskRetries = 0): Linked {
  return { type: "actorLinked", linkId, actorBell: actor.bell.sab, maxTaskRetries, label: "A" };
}

function unlinked(linkId: number, maxTaskRetries: number, death?: Uint8Array): Unlinked {
  return { type: "actorUnlinked", linkId, label: "A", why: "worker died", maxTaskRetries, death };
}

/** Calls `calls` through `links`; returns their refs. */
function callAll(links: CallLinks, calls: ActorCall[]) {
  return calls.flatMap((c) => links.call(c));
}

async function values(links: CallLinks, refs: ReturnType<CallLinks["call"]>): Promise<unknown[]> {
  const got = await links.wait(refs, refs.length, { fetch: true, timeoutMs: 2000 });
  assert.ok(got.ready.every((r) => r), "every result came");
  return got.frames!.map((f, i) => got.values?.[i] ?? valueOf(f));
}

Deno.test("a first call opens a link, writes its calls at the end of the turn, and gets results", async () => {
  const node = new FakeNode();
  const links = new CallLinks(node);
  const refs = callAll(links, [actorCall("a1", "x"), actorCall("a1", "y")]);
  const [req] = node.links();
  assert.equal(node.links().length, 1, "one link per actor");
  assert.equal(req.actorId, "a1");
  const actor = new FakeActor(req);
  assert.deepEqual(actor.take(), [], "nothing is written before the turn ends");
  await settle();
  const runs = actor.take();
  assert.deepEqual(runs.map((r) => [r[1], r[6]]), [["x", 0], ["y", 1]], "in order, numbered");
  links.linked(linked(req.linkId, actor));
  actor.echo(runs);
  assert.deepEqual(await values(links, refs), ["x", "y"]);
  assert.equal(node.links().length, 1, "the same link serves later calls");
  links.shutdown();
});

Deno.test("an unlink re-sends calls the actor never took on a new link, without using a retry", async () => {
  const node = new FakeNode();
  const links = new CallLinks(node);
  const refs = callAll(links, [actorCall("a1", "x"), actorCall("a1", "y")]);
  await settle();
  const [first] = node.links();
  // The worker died before reading anything: budget 0, yet nothing fails.
  links.unlinked(unlinked(first.linkId, 0));
  const second = node.links()[1];
  assert.ok(second, "a new link is opened");
  assert.notEqual(second.linkId, first.linkId);
  await settle();
  const actor = new FakeActor(second);
  const runs = actor.take();
  assert.deepEqual(runs.map((r) => r[1]), ["x", "y"], "same order on the new link");
  links.linked(linked(second.linkId, actor));
  actor.echo(runs);
  assert.deepEqual(await values(links, refs), ["x", "y"]);
  links.shutdown();
});

Deno.test("calls the actor took are retried within maxTaskRetries, then fail as lost", async () => {
  const node = new FakeNode();
  const links = new CallLinks(node);
  const [ref] = links.call(actorCall("a1", "slow"));
  await settle();
  let req = node.links()[0];
  let actor = new FakeActor(req);
  assert.equal(actor.take().length, 1, "taken by the first worker");
  links.unlinked(unlinked(req.linkId, 1));
  await settle();
  req = node.links()[1];
  actor = new FakeActor(req);
  assert.deepEqual(actor.take().map((r) => r[1]), ["slow"], "retried once on the next link");
  links.unlinked(unlinked(req.linkId, 1));
  const [err] = await values(links, [ref]);
  await settle();
  assert.deepEqual(new FakeActor(node.links()[2]).take(), [], "not sent a third time");
  assert.ok(err instanceof RayActorError, "the call fails once the budget is used up");
  assert.match(err.message, /Actor A failed to run slow: its worker died while running it/);
  links.shutdown();
});

Deno.test("maxTaskRetries -1 retries taken calls without end", async () => {
  const node = new FakeNode();
  const links = new CallLinks(node);
  const [ref] = links.call(actorCall("a1", "m"));
  for (let i = 0; i < 5; i++) {
    await settle();
    const req = node.links()[i];
    assert.equal(new FakeActor(req).take().length, 1, `taken on link ${i + 1}`);
    links.unlinked(unlinked(req.linkId, -1));
  }
  await settle();
  const req = node.links()[5];
  const actor = new FakeActor(req);
  links.linked(linked(req.linkId, actor, -1));
  actor.echo(actor.take());
  assert.deepEqual(await values(links, [ref]), ["m"]);
  links.shutdown();
});

Deno.test("results written before the unlink are kept; only the rest is re-sent", async () => {
  const node = new FakeNode();
  const links = new CallLinks(node);
  const refs = callAll(links, [actorCall("a1", "done"), actorCall("a1", "lost")]);
  await settle();
  const req = node.links()[0];
  const actor = new FakeActor(req);
  const runs = actor.take();
  actor.echo(runs.slice(0, 1));
  links.unlinked(unlinked(req.linkId, 0));
  const [done, lost] = await values(links, refs);
  assert.equal(done, "done");
  assert.ok(lost instanceof RayActorError, "the taken call without a result fails (budget 0)");
  await settle();
  assert.deepEqual(new FakeActor(node.links()[1]).take(), [], "neither call is sent again");
  links.shutdown();
});

Deno.test("an unlink with a death fails every call, and later calls fail without a link", async () => {
  const node = new FakeNode();
  const links = new CallLinks(node);
  const refs = callAll(links, [actorCall("a1"), actorCall("a1")]);
  await settle();
  const death = errorFrame(new RayActorError("The actor A is dead: killed"));
  links.unlinked(unlinked(node.links()[0].linkId, 3, death));
  for (const v of await values(links, refs)) {
    assert.ok(v instanceof RayActorError);
    assert.match(v.message, /killed/);
  }
  const [later] = links.call(actorCall("a1"));
  const [v] = await values(links, [later]);
  assert.match((v as Error).message, /killed/, "the death is remembered");
  assert.equal(node.links().length, 1, "no new link to a dead actor");
  links.shutdown();
});

Deno.test("an unlink of an unknown link changes nothing", async () => {
  const node = new FakeNode();
  const links = new CallLinks(node);
  const [ref] = links.call(actorCall("a1"));
  await settle();
  links.unlinked(unlinked(99, 0));
  const req = node.links()[0];
  const actor = new FakeActor(req);
  links.linked(linked(req.linkId, actor));
  actor.echo(actor.take());
  assert.deepEqual(await values(links, [ref]), ["m"]);
  assert.equal(node.links().length, 1);
  links.shutdown();
});

Deno.test("results that are garbage fail the link's calls, and the next call opens a new link", async () => {
  const node = new FakeNode();
  const links = new CallLinks(node);
  const [ref] = links.call(actorCall("a1"));
  await settle();
  const req = node.links()[0];
  const actor = new FakeActor(req);
  const [run] = actor.take();
  links.linked(linked(req.linkId, actor));
  actor.reply([[run[6], 99, []]]); // no such result kind
  const [v] = await values(links, [ref]);
  assert.ok(v instanceof RayActorError);
  assert.match((v as Error).message, /call link held garbage/);
  links.call(actorCall("a1"));
  assert.equal(node.links().length, 2, "garbage is not a death: the actor is called again");
  links.shutdown();
});

Deno.test("a result the actor sealed at the node is fetched from the node", async () => {
  const node = new FakeNode();
  const links = new CallLinks(node);
  const [ref] = links.call(actorCall("a1"));
  node.stored.set(ref.id, valueFrame("big"));
  await settle();
  const req = node.links()[0];
  const actor = new FakeActor(req);
  const [run] = actor.take();
  links.linked(linked(req.linkId, actor));
  actor.reply([[run[6], LINK_RESULT.atNode, []]]);
  assert.deepEqual(await values(links, [ref]), ["big"]);
  links.shutdown();
});

Deno.test("arguments too big for a link are put at the node and passed by id", async () => {
  const node = new FakeNode();
  const links = new CallLinks(node);
  const big = valueFrame("x".repeat(64 * 1024));
  links.call({ ...actorCall("a1"), args: big });
  assert.equal(node.puts.length, 1);
  const [argsId, frame] = node.puts[0];
  assert.equal(frame, big);
  await settle();
  const [run] = new FakeActor(node.links()[0]).take();
  assert.equal(run[2], argsId, "the call carries the object's id");
  assert.deepEqual(run[4], [argsId], "and the actor fetches it as a dependency");
  links.shutdown();
});

Deno.test("an owned ref that leaves the thread is promised, then sealed once its result comes", async () => {
  const node = new FakeNode();
  const links = new CallLinks(node);
  const [ref] = links.call(actorCall("a1", "v"));
  assert.ok(links.ownsAll([ref]));
  links.escape([ref]);
  await settle();
  assert.deepEqual(node.of("promise").flatMap((m) => m.ids), [ref.id]);
  assert.equal(node.of("seal").length, 0, "no seal before the result");
  const req = node.links()[0];
  const actor = new FakeActor(req);
  links.linked(linked(req.linkId, actor));
  actor.echo(actor.take());
  await values(links, [ref]);
  await settle();
  const seals = node.of("seal").flatMap((m) => m.objects);
  assert.equal(seals.length, 1);
  assert.equal(seals[0][0], ref.id);
  assert.equal(valueOf(seals[0][1]), "v");
  assert.equal(seals[0][2], false, "not failed");
  links.shutdown();
});

Deno.test("shutdown rejects what waits", async () => {
  const node = new FakeNode();
  const links = new CallLinks(node);
  const [ref] = links.call(actorCall("a1"));
  const waiting = links.wait([ref], 1, { fetch: false });
  await settle();
  links.shutdown();
  await assert.rejects(waiting, /shut down/i);
});
