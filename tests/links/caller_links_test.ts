/**
 * The node's side of one actor's call links (CallerLinks, refuseLink) with
 * fake callers and a fake actor worker that record what they are sent.
 */
import type { ActorId } from "../../runtime/common/mod.ts";
import assert from "node:assert/strict";
import type { FromWorker, ToWorker } from "../../runtime/protocol/mod.ts";
import {
  CallerLinks,
  type LinkCaller,
  type LinkTarget,
  refuseLink,
  type Unlinking,
} from "../../runtime/links/mod.ts";

type LinkRequest = Extract<FromWorker, { type: "actorLink" }>;

class FakeThread implements LinkCaller {
  readonly got: ToWorker[] = [];
  alive = true;
  constructor(readonly id: string) {}
  send(msg: ToWorker): void {
    this.got.push(msg);
  }
}

function request(linkId: number): LinkRequest {
  return {
    type: "actorLink",
    actorId: "a1" as ActorId,
    linkId,
    link: new SharedArrayBuffer(64),
    bell: new SharedArrayBuffer(64),
  };
}

function target(worker: FakeThread): LinkTarget {
  return { worker, bell: new SharedArrayBuffer(8), maxTaskRetries: 2, label: "A(a1)" };
}

const RESTART: Unlinking = { label: "A(a1)", why: "worker died", maxTaskRetries: 2 };

Deno.test("links wait while the actor starts, and open in its worker once it is ALIVE", () => {
  const links = new CallerLinks("a1" as ActorId);
  const w1 = new FakeThread("w1");
  const w2 = new FakeThread("w2");
  const req = request(1);
  links.add(w1, req);
  links.add(w2, request(1));
  assert.equal(links.size, 2);
  assert.deepEqual(w1.got, [], "nothing is said before the actor is ALIVE");
  const actor = new FakeThread("actor");
  const t = target(actor);
  links.openAll(t);
  assert.deepEqual(
    actor.got.map((m) => m.type === "callerLink" && m.linkId),
    ["w1/1", "w2/1"],
    "the actor's worker gets each link under a key unique on the node",
  );
  const first = actor.got[0] as Extract<ToWorker, { type: "callerLink" }>;
  assert.equal(first.link, req.link);
  assert.equal(first.bell, req.bell);
  assert.deepEqual(w1.got, [{
    type: "actorLinked",
    linkId: 1,
    actorBell: t.bell,
    maxTaskRetries: 2,
    label: "A(a1)",
  }]);
});

Deno.test("a link to an ALIVE actor opens at once", () => {
  const links = new CallerLinks("a1" as ActorId);
  const w1 = new FakeThread("w1");
  const actor = new FakeThread("actor");
  links.add(w1, request(4), target(actor));
  assert.deepEqual(actor.got.map((m) => m.type), ["callerLink"]);
  assert.deepEqual(w1.got.map((m) => m.type), ["actorLinked"]);
});

Deno.test("when the actor's worker goes every live caller is unlinked, and the links dropped", () => {
  const links = new CallerLinks("a1" as ActorId);
  const w1 = new FakeThread("w1");
  const gone = new FakeThread("w2");
  links.add(w1, request(1));
  links.add(gone, request(3));
  gone.alive = false;
  links.unlinkAll(RESTART);
  assert.equal(links.size, 0);
  assert.deepEqual(w1.got, [{ type: "actorUnlinked", linkId: 1, ...RESTART }]);
  assert.deepEqual(gone.got, [], "a dead caller is not sent to");
  links.unlinkAll(RESTART);
  assert.equal(w1.got.length, 1, "each link is unlinked once");
});

Deno.test("a broken link unlinks only its caller", () => {
  const links = new CallerLinks("a1" as ActorId);
  const w1 = new FakeThread("w1");
  const w2 = new FakeThread("w2");
  links.add(w1, request(1));
  links.add(w2, request(1));
  links.unlinkOne("w2/1", RESTART);
  links.unlinkOne("nobody/1", RESTART);
  assert.equal(links.size, 1);
  assert.deepEqual(w1.got, []);
  assert.deepEqual(w2.got.map((m) => m.type), ["actorUnlinked"]);
});

Deno.test("a caller that goes loses its links, and the actor's worker is told", () => {
  const links = new CallerLinks("a1" as ActorId);
  const w1 = new FakeThread("w1");
  const w2 = new FakeThread("w2");
  links.add(w1, request(1));
  links.add(w1, request(2));
  links.add(w2, request(1));
  const actor = new FakeThread("actor");
  assert.equal(links.callerGone("w1", actor), true);
  assert.deepEqual(actor.got, [
    { type: "callerGone", actorId: "a1", linkId: "w1/1" },
    { type: "callerGone", actorId: "a1", linkId: "w1/2" },
  ]);
  assert.equal(links.size, 1);
  assert.equal(links.callerGone("w1", actor), false, "none left");
  assert.equal(links.callerGone("w2", undefined), true, "no worker to tell while restarting");
  assert.equal(links.size, 0);
});

Deno.test("a malformed link request throws TypeError and is not kept", () => {
  const links = new CallerLinks("a1" as ActorId);
  const w1 = new FakeThread("w1");
  assert.throws(() => links.add(w1, { ...request(1), linkId: 1.5 }), TypeError);
  assert.throws(
    () =>
      links.add(w1, { ...request(1), link: new ArrayBuffer(8) as unknown as SharedArrayBuffer }),
    TypeError,
  );
  assert.throws(() => links.add(w1, { ...request(1), bell: undefined! }), /bad bell/);
  assert.equal(links.size, 0);
});

Deno.test("a link to a dead actor is refused with its death", () => {
  const w1 = new FakeThread("w1");
  const death = new Uint8Array([1, 2, 3]);
  refuseLink(w1, request(7), { ...RESTART, death });
  assert.deepEqual(w1.got, [{ type: "actorUnlinked", linkId: 7, ...RESTART, death }]);
});
