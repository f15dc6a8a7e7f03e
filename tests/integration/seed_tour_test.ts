import assert from "node:assert/strict";

Deno.test("examples/seed_tour.ts runs every seed example and exits 0", async () => {
  const graphDir = await Deno.makeTempDir({ prefix: "rayd_seed_tour_test_" });
  try {
    const tour = new URL("../../examples/seed_tour.ts", import.meta.url);
    const { code, stdout, stderr } = await new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", tour.href, graphDir],
      stdout: "piped",
      stderr: "piped",
    }).output();
    const out = new TextDecoder().decode(stdout);
    const err = new TextDecoder().decode(stderr);
    assert.equal(code, 0, `seed tour failed:\n${out}\n${err}`);
    assert.ok(out.includes("All results match the seed."), out);
    assert.ok(out.includes("[45,55,65,75,85]"), out);
    // The first tasks after init run on a warm pool: about 2.05 s when quiet (a cold one took 3.2-3.4 s).
    const sleeps = out.match(/running the ten tasks\s+-> ([\d.]+) s/);
    assert.ok(sleeps, out);
    assert.ok(Number(sleeps[1]) < 3, `ten 2-second sleeps took ${sleeps[1]} s`);
  } finally {
    await Deno.remove(graphDir, { recursive: true });
  }
});
