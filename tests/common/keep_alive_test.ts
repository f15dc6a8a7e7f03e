import assert from "node:assert/strict";
import { KeepAlive } from "../../runtime/common/mod.ts";

const POOL = new URL("../../runtime/pool/mod.ts", import.meta.url).href;
const STORE = new URL("../../runtime/object_store/mod.ts", import.meta.url).href;
const tick = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

Deno.test("KeepAlive holds only while busy() says work is outstanding", async () => {
  let busy = false;
  const alive = new KeepAlive(() => busy, 5);
  try {
    alive.poke();
    assert.equal(alive.holding, false, "nothing outstanding: nothing kept alive");
    busy = true;
    alive.poke();
    assert.equal(alive.holding, true);
    await tick(30);
    assert.equal(alive.holding, true, "still busy");
    busy = false;
    await tick(30);
    assert.equal(alive.holding, false, "released once the work ended");
  } finally {
    alive.stop();
  }
});

Deno.test("KeepAlive.during() holds until the work settles, then stop() holds nothing", async () => {
  const alive = new KeepAlive(() => false, 5);
  const { promise, resolve } = Promise.withResolvers<number>();
  const held = alive.during(promise);
  assert.equal(alive.holding, true);
  await tick(20);
  assert.equal(alive.holding, true, "the work has not settled");
  resolve(7);
  assert.equal(await held, 7);
  await tick(20);
  assert.equal(alive.holding, false);
  alive.stop();
  await alive.during(Promise.resolve());
  alive.poke();
  assert.equal(alive.holding, false, "after stop() nothing is held");
});

Deno.test("a ThreadWorker made by unrefThreadWorker does not keep a process alive", async () => {
  // In a child process: an idle unref'd worker lets the process end; a ref'd one would not.
  const code = `
    import { canUnrefWorkers, unrefThreadWorker } from ${JSON.stringify(POOL)};
    import { SharedArena } from ${JSON.stringify(STORE)};
    if (!canUnrefWorkers) Deno.exit(3);
    const arena = new SharedArena({ initialBytes: 1 << 20, maxBytes: 1 << 22 });
    unrefThreadWorker("a1", { jobId: "j", nodeId: "n", sab: arena.sab }, {
      onMessage: () => {},
      onDeath: (_w, detail) => { console.error(detail); Deno.exit(4); },
    });
    // Long enough for the worker to start (a death would show); then nothing keeps the process.
    await new Promise((resolve) => setTimeout(resolve, 1500));
    addEventListener("unload", () => console.log("exited"));
  `;
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["eval", "--ext=ts", code],
    stdout: "piped",
    stderr: "piped",
    signal: AbortSignal.timeout(30_000),
  }).output();
  assert.equal(out.code, 0, new TextDecoder().decode(out.stderr));
  assert.match(new TextDecoder().decode(out.stdout), /exited/);
});
