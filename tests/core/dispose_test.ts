/**
 * Disposing refs (`using ref = ray.put(x)`, `ref[Symbol.dispose]()`): the
 * object is freed at once when the handle was its only holder, kept while a
 * task argument, a containing object, a zero-copy view or another handle
 * holds it, and a disposed handle throws a clear error when used. Then puts
 * that drop their refs without disposing them: a full store frees what was
 * dropped instead of spilling it, and resident memory stays flat.
 */
import assert from "node:assert/strict";
import * as ray from "../../mod.ts";
import { collectGarbage, currentBackend } from "../../runtime/core/mod.ts";
import type { Node } from "../../runtime/node/mod.ts";
import { sumLater } from "../fixtures/scheduler_fns.ts";
import { add } from "../fixtures/remote_fns.ts";
import {
  disposeWhileGetting,
  getAfterDispose,
  putsDisposed,
  slowFill,
} from "../fixtures/dispose_fns.ts";
import { CounterActor } from "../fixtures/actor_classes.ts";

const MIB = 1024 * 1024;

function node(): Node {
  return currentBackend() as Node;
}

function stored(): number {
  return node().objectCounts().stored;
}

const turn = () => new Promise((r) => setTimeout(r, 0));

/** A test with its own embedded cluster (2 workers unless `init` says otherwise). */
function rayTest(name: string, fn: () => void | Promise<void>, init: ray.InitOptions = {}): void {
  Deno.test({
    name,
    sanitizeOps: false,
    sanitizeResources: false,
    async fn() {
      await ray.init({ numWorkers: 2, ...init });
      try {
        await fn();
      } finally {
        await ray.shutdown();
      }
    },
  });
}

rayTest("a disposed sole handle frees its object at once", async () => {
  const before = stored();
  {
    using ref = ray.put({ big: "x".repeat(MIB), n: 1 });
    assert.equal(stored(), before + 1);
    assert.equal((await ray.get(ref)).n, 1); // a copy, not a view: it holds nothing
  }
  assert.equal(stored(), before, "freed when the scope ended, without a collection");
  const small = ray.put("inline");
  assert.equal(stored(), before + 1);
  small[Symbol.dispose]();
  assert.equal(stored(), before, "small inline objects too");
});

rayTest("a disposed handle throws an error that says it was released", async () => {
  const ref = ray.put(new Uint8Array(MIB));
  ref[Symbol.dispose]();
  ref[Symbol.dispose](); // twice does nothing
  await assert.rejects(ray.get(ref), (err: Error) => {
    assert.ok(err instanceof ray.RayError);
    assert.match(err.message, /^Cannot get: ObjectRef\([0-9a-f]+\) was released/);
    return true;
  });
  await assert.rejects(ray.wait([ref]), /Cannot wait: .* was released/);
  assert.throws(() => ray.cancel(ref), /Cannot cancel: .* was released/);
  assert.throws(
    () => sumLater.remote(ref as never, 0),
    /Cannot pass it to a task or put it in a value: .* was released/,
  );
  assert.throws(() => ray.put({ inner: ref }), /was released/);
  assert.equal(ref.hex(), ref.id, "naming it still works");
  assert.match(await ray.get(getAfterDispose.remote()), /^Cannot get: .* was released/);
});

rayTest(
  "a handle disposed while its get waits: the get fails with ObjectLostError, no freed bytes",
  async () => {
    const n = 4 * MIB;
    const ref = slowFill.remote(n, 200);
    const got = ray.get(ref);
    ref[Symbol.dispose]();
    await assert.rejects(
      got.then((bytes) => {
        // Freed bytes may be overwritten by the next object: only an error is safe here.
        const others = Array.from({ length: 4 }, () => ray.put(new Uint8Array(n).fill(7)));
        const right = bytes.every((b) => b === 42);
        others.forEach((o) => o[Symbol.dispose]());
        return right ? "right bytes of a freed object" : "wrong bytes";
      }),
      (err: Error) => {
        assert.ok(err instanceof ray.ObjectLostError, `${err}`);
        assert.match(err.message, /freed while a get or wait waited for it/);
        return true;
      },
    );
    assert.equal(await ray.get(disposeWhileGetting.remote(n, 200)), "ObjectLostError", "in a task");
  },
);

rayTest("a task argument keeps a disposed ref's object until the task ran", async () => {
  const before = stored();
  let sum: ray.ObjectRef<number>;
  {
    using big = ray.put(new Float64Array(MIB / 8).fill(2));
    sum = sumLater.remote(big, 300);
  }
  assert.equal(stored(), before + 1, "the argument holds it while the task waits");
  assert.equal(await ray.get(sum), 2 * (MIB / 8));
});

rayTest("a containing object keeps a disposed ref's object", async () => {
  const before = stored();
  let outer: ray.ObjectRef<ray.ObjectRef<string>[]>;
  {
    using inner = ray.put("kept by its container");
    outer = ray.put([inner]);
  }
  assert.equal(stored(), before + 2);
  const [inner] = await ray.get(outer);
  assert.equal(await ray.get(inner), "kept by its container");
  inner[Symbol.dispose]();
  assert.equal(stored(), before + 2, "the container still holds it");
  outer[Symbol.dispose]();
  assert.equal(stored(), before, "both freed once the container went");
});

rayTest("a zero-copy view keeps a disposed ref's object", async () => {
  const before = stored();
  let view: Float64Array;
  {
    using ref = ray.put(new Float64Array(MIB / 8).fill(3));
    view = await ray.get(ref);
  }
  assert.equal(stored(), before + 1);
  assert.ok(view.buffer instanceof SharedArrayBuffer, "a view of the store");
  assert.equal(view[MIB / 8 - 1], 3);
});

rayTest("another handle keeps a disposed ref's object", async () => {
  const before = stored();
  const ref = ray.put({ text: "y".repeat(MIB) });
  const holder = ray.put([ref]);
  const [other] = await ray.get(holder);
  holder[Symbol.dispose]();
  ref[Symbol.dispose]();
  assert.equal(stored(), before + 1, "the decoded handle still holds it");
  assert.equal((await ray.get(other)).text.length, MIB);
  other[Symbol.dispose]();
  assert.equal(stored(), before);
});

rayTest(
  "a disposed task result's later finalizer does not free what another handle holds",
  async () => {
    assert.ok(collectGarbage, "this test needs V8's gc");
    const before = stored();
    // The disposed handle lives only in this function, so that it can be collected.
    const other = await (async () => {
      const ref = add.remote(20, 22); // a task's result: a plain handle, not a watched put
      assert.equal(await ray.get(ref), 42);
      const other = new ray.ObjectRef<number>(ref.id); // a second handle of the same object
      ref[Symbol.dispose]();
      return other;
    })();
    assert.equal(stored(), before + 1, "the other handle holds it");
    // Let the disposed handle be collected and its finalizer run: it must not release again.
    for (let i = 0; i < 3; i++) {
      collectGarbage!();
      await turn();
    }
    assert.equal(stored(), before + 1, "still held by the other handle");
    assert.equal(await ray.get(other), 42);
    other[Symbol.dispose]();
    assert.equal(stored(), before);
  },
);

rayTest("a disposed actor call result cannot be read, and the actor keeps working", async () => {
  const counter = CounterActor.remote(0);
  const first = counter.incr.remote(1);
  first[Symbol.dispose]();
  await assert.rejects(ray.get(first), /Cannot get: .* was released/);
  assert.equal(await ray.get(counter.incr.remote(1)), 2);
});

rayTest(
  "a worker's disposed puts free their bytes: 200 MiB through a 64 MiB store spills nothing",
  async () => {
    assert.equal(await ray.get(putsDisposed.remote(200, MIB)), 200);
    assert.equal(node().spillStats().spills, 0);
    assert.equal(node().spillStats().bornOnDisk, 0);
  },
  { numWorkers: 1, objectStoreMemory: 64 * MIB },
);

rayTest(
  "disposed puts in the driver reuse one block of the store",
  () => {
    for (let i = 0; i < 2000; i++) {
      using _ref = ray.put(new Uint8Array(MIB));
    }
    assert.equal(node().spillStats().spills, 0);
    assert.ok(node().arena.stats().used < 4 * MIB, "at most one object at a time");
  },
  { numWorkers: 1, objectStoreMemory: 64 * MIB },
);

/** Puts `count` fresh 1 MiB arrays, dropping each ref, with a turn every `every` puts. */
async function dropLoop(count: number, every: number): Promise<{ peakMiB: number; ms: number }> {
  let peak = 0;
  const start = performance.now();
  for (let i = 1; i <= count; i++) {
    ray.put(new Float64Array(MIB / 8));
    if (i % every === 0) {
      await turn();
      peak = Math.max(peak, Deno.memoryUsage().rss);
    }
  }
  return { peakMiB: peak / MIB, ms: performance.now() - start };
}

rayTest(
  "10,000 puts of fresh 1 MiB arrays, dropped, into a 256 MiB store: nothing spilled, memory flat",
  async () => {
    const warm = await dropLoop(1000, 100);
    const { peakMiB, ms } = await dropLoop(10_000, 100);
    const stats = node().spillStats();
    assert.equal(stats.spills + stats.bornOnDisk, 0, "dropped objects are freed, not spilled");
    // Generous: a few seconds on an idle 2-core machine.
    assert.ok(ms < 120_000, `took ${ms} ms`);
    assert.ok(peakMiB < warm.peakMiB + 256, `resident ${peakMiB} MiB after ${warm.peakMiB} MiB`);
  },
  { numWorkers: 1, objectStoreMemory: 256 * MIB },
);

rayTest(
  "puts that yield every 1,000 free the refs they dropped in the same run instead of spilling",
  async () => {
    const { ms } = await dropLoop(3000, 1000);
    const stats = node().spillStats();
    assert.equal(stats.spills + stats.bornOnDisk, 0, "dropped objects are freed, not spilled");
    assert.ok(ms < 120_000, `took ${ms} ms`);
  },
  { numWorkers: 1, objectStoreMemory: 256 * MIB },
);

rayTest(
  "a task's fresh ref and a second handle of it are counted apart and both release",
  async () => {
    const before = stored();
    const ref = add.remote(1, 2);
    assert.equal(await ray.get(ref), 3);
    const other = new ray.ObjectRef<number>(ref.id);
    ref[Symbol.dispose]();
    assert.equal(stored(), before + 1, "the second handle holds it");
    other[Symbol.dispose]();
    assert.equal(stored(), before, "both released");
  },
);

Deno.test({
  name: "finalizers of an earlier session's refs do not release this session's",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    assert.ok(collectGarbage, "this test needs V8's gc");
    await ray.init({ numWorkers: 1 });
    try {
      // Refs dropped without a collection: their finalizers come in the next session.
      await (async () => {
        const refs = Array.from({ length: 50 }, (_, i) => add.remote(i, 1));
        await ray.get(refs);
      })();
    } finally {
      await ray.shutdown();
    }
    await ray.init({ numWorkers: 1 });
    try {
      const before = stored();
      const ref = add.remote(2, 3);
      assert.equal(await ray.get(ref), 5);
      for (let i = 0; i < 3; i++) {
        collectGarbage!();
        await turn();
      }
      assert.equal(stored(), before + 1);
      ref[Symbol.dispose]();
      assert.equal(stored(), before, "its release still reaches the node");
    } finally {
      await ray.shutdown();
    }
  },
});
