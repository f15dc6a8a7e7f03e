import assert from "node:assert/strict";
import * as ray from "../../mod.ts";
import {
  BrokenActor,
  CounterActor,
  createNamed,
  ForwarderActor,
  FragileActor,
  incrFromTask,
  incrNamed,
  OverlapActor,
  passHandle,
  pushMany,
  RecorderActor,
} from "../fixtures/actor_classes.ts";
import { rayTest } from "./_with_ray.ts";

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

rayTest("an actor keeps state between calls and returns ObjectRefs", async () => {
  const c = CounterActor.remote(10);
  const ref = c.incr.remote(5);
  assert.ok(ref instanceof ray.ObjectRef);
  assert.equal(await ray.get(ref), 15);
  assert.equal(await ray.get(c.incr.remote()), 16);
  assert.equal(await ray.get(c.value.remote()), 16);
});

rayTest("1,000 calls from one caller run in submission order", async () => {
  const r = RecorderActor.remote();
  const refs = [];
  for (let i = 0; i < 1000; i++) refs.push(r.push.remote(i));
  const lengths = await ray.get(refs);
  assert.deepEqual(lengths, Array.from({ length: 1000 }, (_, i) => i + 1));
  assert.deepEqual(await ray.get(r.entries.remote()), Array.from({ length: 1000 }, (_, i) => i));
});

rayTest("calls wait for their ref arguments and keep the caller's order", async () => {
  const r = RecorderActor.remote();
  const c = CounterActor.remote();
  const slow = c.slowIncr.remote(1, 100);
  const first = r.push.remote(slow);
  const second = r.push.remote("after");
  const third = r.push.remote(ray.put("last"));
  await ray.get([first, second, third]);
  assert.deepEqual(await ray.get(r.entries.remote()), [1, "after", "last"]);
  assert.equal(await ray.get(c.add.remote(ray.put(2), c.incr.remote(40))), 43);
});

rayTest("a method with numReturns 2 gives two refs", async () => {
  const c = CounterActor.remote();
  const [left, right] = c.pair.options({ numReturns: 2 }).remote();
  assert.deepEqual(await ray.get([left, right]), ["left", "right"]);
});

rayTest("async methods run one at a time by default", async () => {
  const o = OverlapActor.remote();
  await ray.get(Array.from({ length: 4 }, () => o.hold.remote(30)));
  assert.equal(await ray.get(o.maxActive.remote()), 1);
});

rayTest("maxConcurrency > 1 makes async methods overlap", async () => {
  const o = OverlapActor.options({ maxConcurrency: 4 }).remote();
  await ray.get(o.maxActive.remote()); // the actor is up: time only the calls
  const started = performance.now();
  await ray.get(Array.from({ length: 8 }, () => o.hold.remote(100)));
  const elapsed = performance.now() - started;
  assert.equal(await ray.get(o.maxActive.remote()), 4);
  assert.ok(elapsed < 700, `8 calls of 100 ms, 4 at a time, took ${elapsed} ms`);
});

rayTest("a handle passed through two tasks calls the same actor", async () => {
  const c = CounterActor.remote(100);
  assert.equal(await ray.get(incrFromTask.remote(c, 1)), 101);
  assert.equal(await ray.get(passHandle.remote(c, 10)), 111);
  assert.equal(await ray.get(c.value.remote()), 111);
});

rayTest("a handle passed to another actor calls the same actor", async () => {
  const c = CounterActor.remote();
  const f = ForwarderActor.remote();
  assert.equal(await ray.get(f.forward.remote(c, 3)), 3);
  assert.equal(await ray.get(c.incr.remote(1)), 4);
});

rayTest("calls from several callers interleave but each caller's order is kept", async () => {
  const r = RecorderActor.remote();
  const n = 300;
  const callers = ["a", "b", "c"].map((tag) => pushMany.remote(r, tag, n));
  for (let i = 0; i < n; i++) r.push.remote(`driver:${i}`);
  await ray.get(callers);
  const log = await ray.get(r.entries.remote()) as string[];
  assert.equal(log.length, 4 * n);
  for (const tag of ["a", "b", "c", "driver"]) {
    const mine = log.filter((e) => e.startsWith(tag + ":"));
    assert.deepEqual(mine, Array.from({ length: n }, (_, i) => `${tag}:${i}`));
  }
});

rayTest(
  "an error thrown by a method reaches get as RayTaskError; the actor keeps running",
  async () => {
    const c = CounterActor.remote();
    await ray.get(c.incr.remote(2));
    await assert.rejects(ray.get(c.boom.remote()), (err: unknown) => {
      assert.ok(err instanceof ray.RayTaskError);
      assert.equal(err.taskName, "Counter.boom");
      assert.ok(err.cause instanceof TypeError);
      assert.match(err.message, /boom from a method/);
      return true;
    });
    assert.equal(await ray.get(c.incr.remote(1)), 3);
  },
);

rayTest("getRuntimeContext().actorId inside a method is the actor's id", async () => {
  const a = CounterActor.remote();
  const b = CounterActor.remote();
  const [ida, idb] = await ray.get([a.whoAmI.remote(), b.whoAmI.remote()]);
  assert.match(ida!, /^[0-9a-f]{24}$/);
  assert.notEqual(ida, idb);
  assert.equal(ray.getRuntimeContext().actorId, undefined);
});

rayTest("a constructor that throws makes every call reject with RayActorError", async () => {
  const b = BrokenActor.remote();
  for (const ref of [b.ping.remote(), b.ping.remote()]) {
    await assert.rejects(ray.get(ref), (err: unknown) => {
      assert.ok(err instanceof ray.RayActorError);
      assert.match(err.message, /Broken\([0-9a-f]+\) is dead: its constructor threw RangeError/);
      assert.ok(err.cause instanceof RangeError);
      return true;
    });
  }
});

rayTest("named actors: getActor finds them, a second create with the name fails", async () => {
  const c = CounterActor.options({ name: "hits" }).remote(1);
  await ray.get(c.incr.remote());
  const again = await ray.getActor<import("../fixtures/actor_classes.ts").Counter>("hits");
  assert.equal(await ray.get(again.incr.remote()), 3);
  assert.throws(
    () => CounterActor.options({ name: "hits" }).remote(),
    /Cannot create actor: the name "hits" is already taken in namespace "default"/,
  );
  const same = CounterActor.options({ name: "hits", getIfExists: true }).remote(50);
  assert.equal(await ray.get(same.incr.remote()), 4);
  const other = CounterActor.options({ name: "hits", namespace: "elsewhere" }).remote(50);
  assert.equal(await ray.get(other.incr.remote()), 51);
  assert.equal(
    await ray.get((await ray.getActor("hits", { namespace: "elsewhere" })).value.remote()),
    51,
  );
  await assert.rejects(ray.getActor("nobody"), /Cannot get actor: no live actor named "nobody"/);
});

rayTest("the name of a killed actor can be used again", async () => {
  const c = CounterActor.options({ name: "reused", lifetime: "detached" }).remote(1);
  await ray.kill(c);
  await assert.rejects(ray.getActor("reused"), /no live actor/);
  const d = CounterActor.options({ name: "reused" }).remote(5);
  assert.equal(await ray.get((await ray.getActor("reused")).incr.remote()), 6);
  assert.equal(await ray.get(d.value.remote()), 6);
});

rayTest("named actors created and found from inside tasks", async () => {
  const handle = await ray.get(createNamed.remote("from-task"));
  assert.equal(await ray.get(incrNamed.remote("from-task")), 8);
  assert.equal(await ray.get(handle.incr.remote(1)), 9);
  const collide = await ray.get(createNamed.remote("from-task"));
  await assert.rejects(ray.get(collide.value.remote()), (err: unknown) => {
    assert.ok(err instanceof ray.RayActorError);
    assert.match(err.message, /the name "from-task" is already taken/);
    return true;
  });
});

rayTest("kill ends the actor at once: running and queued calls reject", async () => {
  const f = FragileActor.remote(0);
  await ray.get(f.incr.remote());
  const running = f.sleep.remote(5_000);
  const queued = [f.incr.remote(), f.incr.remote(), f.value.remote()];
  await delay(50);
  await ray.kill(f);
  for (const ref of [running, ...queued]) {
    await assert.rejects(ray.get(ref, { timeoutMs: 2_000 }), (err: unknown) => {
      assert.ok(err instanceof ray.RayActorError);
      assert.match(err.message, /Fragile\([0-9a-f]+\) is dead: it was killed with ray\.kill/);
      return true;
    });
  }
  await assert.rejects(ray.get(f.value.remote()), ray.RayActorError);
});

rayTest("an actor restarts after a crash and rebuilds its state from its constructor", async () => {
  const f = FragileActor.options({ maxRestarts: 1 }).remote(10);
  assert.equal(await ray.get(f.incr.remote()), 11);
  await assert.rejects(ray.get(f.crash.remote()), (err: unknown) => {
    assert.ok(err instanceof ray.RayActorError);
    assert.match(err.message, /failed to run crash: its worker .* died/);
    return true;
  });
  assert.equal(await ray.get(f.value.remote()), 10);
  assert.equal(await ray.get(f.incr.remote()), 11);
  await assert.rejects(ray.get(f.crash.remote()), ray.RayActorError);
  await assert.rejects(ray.get(f.value.remote()), (err: unknown) => {
    assert.ok(err instanceof ray.RayActorError);
    assert.match(
      err.message,
      /Fragile\([0-9a-f]+\) is dead: its worker a\d+ died: .*after 1 restart/,
    );
    return true;
  });
});

rayTest("maxTaskRetries retries a call that was running when the worker died", async () => {
  const key = `RAYD_TEST_ACTOR_CRASH_${crypto.randomUUID()}`;
  const f = FragileActor.options({ maxRestarts: 1, maxTaskRetries: 1 }).remote(3);
  assert.equal(await ray.get(f.crashOnce.remote(key)), 3);
});

rayTest("an actor without restarts is dead after its worker dies", async () => {
  const f = FragileActor.remote(1);
  await assert.rejects(ray.get(f.crash.remote()), ray.RayActorError);
  await assert.rejects(ray.get(f.incr.remote()), /is dead: its worker a\d+ died: it closed itself/);
});

rayTest("kill with noRestart false restarts the actor", async () => {
  const f = FragileActor.options({ maxRestarts: 1 }).remote(5);
  assert.equal(await ray.get(f.incr.remote()), 6);
  await ray.kill(f, { noRestart: false });
  assert.equal(await ray.get(f.value.remote()), 5);
});

rayTest(
  "an actor with numCpus holds them while alive and gives them back when killed",
  async () => {
    const before = (await ray.availableResources()).CPU;
    const c = CounterActor.options({ numCpus: 1 }).remote();
    await ray.get(c.incr.remote());
    assert.equal((await ray.availableResources()).CPU, before - 1);
    await ray.kill(c);
    assert.equal((await ray.availableResources()).CPU, before);
  },
);

rayTest("an actor asking for more than the node has is dead with a clear cause", async () => {
  const c = CounterActor.options({ resources: { GPU: 1 } }).remote();
  // Embedded: the node cannot schedule it; on a cluster: the head cannot place it.
  await assert.rejects(
    ray.get(c.incr.remote()),
    /is dead: Cannot (schedule task|place) actor .*GPU/,
  );
});

rayTest("actor options are checked", async () => {
  assert.throws(() => CounterActor.options({ maxConcurrency: 0 }), RangeError);
  assert.throws(() => CounterActor.options({ getIfExists: true }), /getIfExists needs a name/);
  assert.throws(() => CounterActor.options({ bogus: 1 } as never), /unknown actor option "bogus"/);
  await assert.rejects(ray.kill({} as never), TypeError);
});

rayTest("handles are typed by the class: arguments and results are inferred", async () => {
  const c = CounterActor.remote(1);
  const ref: ray.ObjectRef<number> = c.slowIncr.remote(ray.put(2), 1);
  const value: number = await ray.get(ref);
  assert.equal(value, 3);
  const typeOnly = () => {
    // @ts-expect-error: incr takes a number
    c.incr.remote("x");
    // @ts-expect-error: Counter has no method nope
    c.nope.remote();
    // @ts-expect-error: the constructor takes a number
    CounterActor.remote("x");
  };
  assert.equal(typeof typeOnly, "function");
});
