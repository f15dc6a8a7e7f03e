/**
 * Actor lifetime by handles: a non-detached actor dies when no handle to it
 * remains anywhere; a detached one stays until killed.
 */
import assert from "node:assert/strict";
import * as ray from "../../mod.ts";
import { rayTest } from "./_with_ray.ts";
import { collectGarbage } from "../../runtime/core/mod.ts";
import { CounterActor, passHandle } from "../fixtures/actor_classes.ts";

async function collect(): Promise<void> {
  for (let i = 0; i < 3; i++) {
    collectGarbage!();
    await new Promise((r) => setTimeout(r, 30));
  }
}

function actorTest(name: string, fn: () => Promise<void>): void {
  rayTest(name, fn);
}

async function alive(name: string): Promise<boolean> {
  try {
    const h = await ray.getActor(name);
    await ray.get(h.incr.remote(0), { timeoutMs: 5000 });
    return true;
  } catch {
    return false;
  }
}

actorTest("a non-detached actor dies once no handle to it remains", async () => {
  await (async () => {
    const h = CounterActor.options({ name: "ephemeral" }).remote();
    assert.equal(await ray.get(h.incr.remote(1)), 1);
  })();
  await collect();
  await new Promise((r) => setTimeout(r, 200));
  await assert.rejects(ray.getActor("ephemeral"));
});

actorTest("a detached actor outlives its handles until killed", async () => {
  await (async () => {
    const h = CounterActor.options({ name: "keeper", lifetime: "detached" }).remote();
    assert.equal(await ray.get(h.incr.remote(1)), 1);
  })();
  await collect();
  assert.ok(await alive("keeper"));
  await ray.kill(await ray.getActor("keeper"));
  await assert.rejects(ray.getActor("keeper"));
});

actorTest("a handle held by a running task keeps its actor alive", async () => {
  const result = (() => {
    const h = CounterActor.options({ name: "lent" }).remote();
    return passHandle.remote(h, 3);
  })();
  await collect();
  assert.equal(await ray.get(result), 3);
});
