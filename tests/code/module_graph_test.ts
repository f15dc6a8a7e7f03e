import assert from "node:assert/strict";
import { ModuleCache, moduleGraphOf, sha256Hex } from "../../runtime/code/mod.ts";
import { hiddenCommand } from "../_net/netlab.ts";

/** Writes `files` (path -> text) under a new temp folder; returns the folder. */
async function tree(files: Record<string, string>): Promise<string> {
  const dir = await Deno.makeTempDir({ prefix: "rayd_code_" });
  for (const [path, text] of Object.entries(files)) {
    await Deno.mkdir(`${dir}/${path}`.replace(/\/[^/]+$/, ""), { recursive: true });
    await Deno.writeTextFile(`${dir}/${path}`, text);
  }
  return dir;
}

const APP = {
  "app/main.ts": `
    import { a } from "./lib/a.ts";
    import type { Shape } from "../shared/types.ts";
    export * from "./lib/b.ts";
    // import "./lib/commented_out.ts";
    const note = "import './lib/in_a_string.ts'";
    export async function run(): Promise<string> {
      const { c } = await import("./lib/c.ts");
      const shape: Shape = { sides: 3 };
      return [a(), c, shape.sides, note.length].join(" ");
    }
    if (import.meta.main) console.log(await run());
  `,
  "app/lib/a.ts": `import { b } from "./b.ts"; export const a = () => "a" + b;`,
  "app/lib/b.ts": `import "./a.ts"; import { parse } from "npm:yaml@^2.8.0"; export const b = "b";
    export const yaml = parse;`,
  "app/lib/c.ts": `export const c = "c";`,
  "shared/types.ts": `export interface Shape { sides: number }`,
  "app/lib/unused.ts": `export const unused = 1;`,
};

Deno.test("moduleGraphOf() finds every local import form, once, and lists externals", async () => {
  const dir = await tree(APP);
  try {
    const { graph, sources } = await moduleGraphOf(new URL(`file://${dir}/app/main.ts`));
    assert.equal(graph.root, `file://${dir}/`);
    assert.equal(graph.entry, "app/main.ts");
    assert.deepEqual(graph.modules.map((m) => m.path), [
      "app/lib/a.ts",
      "app/lib/b.ts",
      "app/lib/c.ts",
      "app/main.ts",
      "shared/types.ts",
    ]);
    assert.deepEqual(graph.externals, ["npm:yaml@^2.8.0"]);
    for (const m of graph.modules) {
      const bytes = await Deno.readFile(`${dir}/${m.path}`);
      assert.equal(m.hash, await sha256Hex(bytes));
      assert.equal(m.bytes, bytes.length);
      assert.deepEqual(sources.get(m.hash), bytes);
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("moduleGraphOf(): same files, same id; a changed byte, another id", async () => {
  const one = await tree(APP);
  const two = await tree(APP);
  try {
    const entry = (dir: string) => new URL(`file://${dir}/app/main.ts`);
    const [a, b] = await Promise.all([moduleGraphOf(entry(one)), moduleGraphOf(entry(two))]);
    assert.equal(a.graph.id, b.graph.id);
    await Deno.writeTextFile(`${two}/app/lib/c.ts`, `export const c = "C";`);
    const changed = await moduleGraphOf(entry(two));
    assert.notEqual(changed.graph.id, a.graph.id);
    const hashOf = (g: typeof a, path: string) =>
      g.graph.modules.find((m) => m.path === path)!.hash;
    assert.equal(hashOf(changed, "app/lib/a.ts"), hashOf(a, "app/lib/a.ts"));
    assert.notEqual(hashOf(changed, "app/lib/c.ts"), hashOf(a, "app/lib/c.ts"));
  } finally {
    await Deno.remove(one, { recursive: true });
    await Deno.remove(two, { recursive: true });
  }
});

Deno.test("moduleGraphOf() names the importer of a missing module", async () => {
  const dir = await tree({ "main.ts": `import "./gone.ts";` });
  try {
    await assert.rejects(
      moduleGraphOf(new URL(`file://${dir}/main.ts`)),
      new RegExp(`Cannot ship ${dir}/gone.ts \\(imported by ${dir}/main.ts\\)`),
    );
    await assert.rejects(moduleGraphOf("https://example.com/x.ts"), /only file: modules/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("ModuleCache keeps bytes once by hash, checks them, and lays graphs out to run", async () => {
  const dir = await tree(APP);
  const cacheDir = await Deno.makeTempDir({ prefix: "rayd_code_cache_" });
  try {
    const { graph, sources } = await moduleGraphOf(new URL(`file://${dir}/app/main.ts`));
    const cache = new ModuleCache(cacheDir);
    assert.equal((await cache.missing(graph)).length, 5);
    await assert.rejects(cache.layOut(graph), /5 module\(s\) not shipped/);
    const [first] = graph.modules;
    await assert.rejects(
      cache.put(first.hash, new TextEncoder().encode("tampered")),
      /do not match their hash/,
    );
    await assert.rejects(cache.put("../../etc/passwd", new Uint8Array()), /Not a SHA-256/);
    for (const hash of await cache.missing(graph)) await cache.put(hash, sources.get(hash)!);
    assert.deepEqual(await cache.missing(graph), []);
    const mirror = await cache.mirrorOf(graph, `${graph.root}app/main.ts`);
    assert.ok(mirror?.startsWith(`file://${cacheDir}/graphs/${graph.id}/`), mirror);
    assert.equal(await cache.mirrorOf(graph, `${graph.root}app/lib/unused.ts`), undefined);
    const { code, stdout, stderr } = await new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", "--no-lock", mirror!],
      stdout: "piped",
      stderr: "piped",
    }).output();
    assert.equal(code, 0, new TextDecoder().decode(stderr));
    assert.equal(new TextDecoder().decode(stdout).trim(), "ab c 3 29");
    // A second graph with the same files shares their bytes.
    const same = await moduleGraphOf(new URL(`file://${dir}/app/lib/a.ts`));
    assert.deepEqual(await cache.missing(same.graph), []);
    const blobs = [...Deno.readDirSync(`${cacheDir}/blobs`)].length;
    assert.equal(blobs, 5);
  } finally {
    await Deno.remove(dir, { recursive: true });
    await Deno.remove(cacheDir, { recursive: true });
  }
});

Deno.test("ModuleCache refuses a graph whose paths leave its folder", async () => {
  const cacheDir = await Deno.makeTempDir({ prefix: "rayd_code_cache_" });
  try {
    const bytes = new TextEncoder().encode("export {};");
    const hash = await sha256Hex(bytes);
    const cache = new ModuleCache(cacheDir);
    await cache.put(hash, bytes);
    const evil = {
      id: hash,
      root: "file:///x/",
      entry: "../escape.ts",
      modules: [{ path: "../escape.ts", hash, bytes: bytes.length }],
      externals: [],
    };
    await assert.rejects(cache.layOut(evil), /outside its graph/);
  } finally {
    await Deno.remove(cacheDir, { recursive: true });
  }
});

Deno.test("shipped code runs where the driver's folder is hidden (unshare -m)", async (t) => {
  const isRoot = Deno.uid() === 0;
  const probe = isRoot
    ? await new Deno.Command("unshare", { args: ["-m", "true"], stderr: "null" }).output()
      .then((o) => o.success, () => false)
    : false;
  if (!probe) {
    console.warn(
      `SKIPPED "shipped code runs where the driver's folder is hidden": needs root and unshare -m` +
        ` (uid ${Deno.uid()})`,
    );
    return;
  }
  const dir = await tree(APP);
  const cacheDir = await Deno.makeTempDir({ prefix: "rayd_code_cache_" });
  try {
    const { graph, sources } = await moduleGraphOf(new URL(`file://${dir}/app/main.ts`));
    const cache = new ModuleCache(cacheDir);
    for (const hash of await cache.missing(graph)) await cache.put(hash, sources.get(hash)!);
    const mirror = (await cache.mirrorOf(graph, `${graph.root}app/main.ts`))!;
    const hidden = (target: string) => {
      const [cmd, ...args] = hiddenCommand([dir], [
        Deno.execPath(),
        ...["run", "-A", "--no-lock", target],
      ]);
      return new Deno.Command(cmd, { args, stdout: "piped", stderr: "piped" }).output();
    };
    await t.step("the original cannot be read there", async () => {
      const original = await hidden(`${dir}/app/main.ts`);
      assert.notEqual(original.code, 0);
    });
    await t.step("the laid-out copy runs there", async () => {
      const copy = await hidden(mirror);
      assert.equal(copy.code, 0, new TextDecoder().decode(copy.stderr));
      assert.equal(new TextDecoder().decode(copy.stdout).trim(), "ab c 3 29");
    });
  } finally {
    await Deno.remove(dir, { recursive: true });
    await Deno.remove(cacheDir, { recursive: true });
  }
});

Deno.test("rayd's own modules are not shipped: a laid-out copy imports the node's rayd", async () => {
  const dir = await Deno.makeTempDir({ prefix: "rayd_code_" });
  const cacheDir = await Deno.makeTempDir({ prefix: "rayd_code_cache_" });
  try {
    const raydMod = new URL("../../mod.ts", import.meta.url).pathname;
    const up = `${"../".repeat(dir.split("/").length - 1)}${raydMod.slice(1)}`;
    const text = `import * as ray from "${up}";\nimport { x } from './x.ts';\n` +
      `export const f = ray.remote(() => x);\n`;
    await Deno.writeTextFile(`${dir}/main.ts`, text);
    await Deno.writeTextFile(`${dir}/x.ts`, `export const x = 1;`);
    const { graph, sources } = await moduleGraphOf(`file://${dir}/main.ts`);
    assert.deepEqual(graph.modules.map((m) => m.path), ["main.ts", "x.ts"]);
    assert.deepEqual(graph.modules[0].rayd, [[up, "mod.ts"]]);
    await assert.rejects(moduleGraphOf(new URL("../../mod.ts", import.meta.url)), /rayd's own/);
    const cache = new ModuleCache(cacheDir, "file:///elsewhere/rayd/");
    for (const hash of await cache.missing(graph)) await cache.put(hash, sources.get(hash)!);
    const copy = await Deno.readTextFile(
      new URL((await cache.mirrorOf(graph, `file://${dir}/main.ts`))!),
    );
    assert.equal(copy, text.replace(up, "file:///elsewhere/rayd/mod.ts"));
  } finally {
    await Deno.remove(dir, { recursive: true });
    await Deno.remove(cacheDir, { recursive: true });
  }
});
