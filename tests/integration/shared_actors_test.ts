/**
 * Actors that share worker threads (`shareWorker: true`): each keeps its own
 * state, id and order of calls; a kill or a restart of one leaves the
 * others on its worker alone; a worker that dies takes its actors with it
 * (each restarts within its own budget).
 */
import assert from "node:assert/strict";
import * as ray from "../../mod.ts";
import { CounterActor, FragileActor } from "../fixtures/actor_classes.ts";
import { rayTest } from "./_with_ray.ts";

const SHARED = { shareWorker: true } as const;

rayTest(
  "fifty actors share a few workers, each with its own state, id and call order",
  async () => {
    const actors = Array.from({ length: 50 }, (_, i) => CounterActor.options(SHARED).remote(i));
    // Async calls interleave on a shared worker: each still sees its own actor id and count.
    const refs = actors.flatMap((a) => [1, 2, 3].map((by) => a.slowIncr.remote(by, 5)));
    const got = await ray.get(refs);
    assert.deepEqual(got, actors.flatMap((_, i) => [i + 1, i + 3, i + 6]), "in order, per actor");
    // After an await, with the other actors' calls run in between, each still sees its own id.
    const ids = await ray.get(actors.map((a) => a.whoAmILater.remote(5)));
    assert.deepEqual(ids, await ray.get(actors.map((a) => a.whoAmI.remote())));
    assert.equal(new Set(ids).size, 50, "fifty actor ids");
    const records = (await ray.timeline()).filter((e) =>
      e.ph === "X" && e.name === "Counter.slowIncr"
    );
    const rows = new Set(records.map((e) => e.tid));
    assert.equal(rows.size, 2, "two CPUs: the actors spread over two shared workers");
  },
);

rayTest("killing one shared actor leaves the others on its worker running", async () => {
  const [a, b] = [CounterActor.options(SHARED).remote(10), CounterActor.options(SHARED).remote(20)];
  // Two CPUs, so the first two shared actors get a worker each: a third shares with one of them.
  const c = CounterActor.options(SHARED).remote(30);
  assert.deepEqual(await ray.get([a.incr.remote(1), b.incr.remote(1), c.incr.remote(1)]), [
    11,
    21,
    31,
  ]);
  await ray.kill(a);
  await assert.rejects(ray.get(a.incr.remote(1)), ray.RayActorError);
  assert.deepEqual(await ray.get([b.incr.remote(1), c.incr.remote(1)]), [22, 32]);
  // A kill that lets it restart runs its constructor again; the others keep their state.
  await ray.kill(c, { noRestart: false });
  assert.equal(await ray.get(b.incr.remote(1)), 23);
});

rayTest(
  "a shared worker that dies takes its actors: each restarts within its own budget",
  async () => {
    // Filling both CPUs' workers first: actors 0 and 2 share a worker, 1 and 3 the other.
    const restarting = FragileActor.options({ ...SHARED, maxRestarts: 1 }).remote(100);
    const other = FragileActor.options(SHARED).remote(200);
    const mortal = FragileActor.options(SHARED).remote(300);
    const spare = FragileActor.options(SHARED).remote(400);
    assert.deepEqual(
      await ray.get([restarting.incr.remote(), other.incr.remote(), mortal.incr.remote()]),
      [101, 201, 301],
    );
    assert.equal(await ray.get(spare.incr.remote()), 401);
    // `mortal` shares the worker of `restarting`: ending it ends both.
    await assert.rejects(ray.get(mortal.crash.remote()), ray.RayActorError);
    await assert.rejects(ray.get(mortal.value.remote()), ray.RayActorError, "no restarts left");
    assert.equal(await ray.get(restarting.value.remote()), 100, "restarted: its constructor again");
    assert.equal(await ray.get(other.incr.remote()), 202, "on the other worker: untouched");
  },
);

rayTest("shareWorker takes a boolean", () => {
  assert.throws(
    () => CounterActor.options({ shareWorker: "yes" as never }),
    /Invalid option shareWorker: expected a boolean/,
  );
});
