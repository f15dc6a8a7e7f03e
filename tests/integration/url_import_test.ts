/**
 * rayd imported the way another Deno project imports it: from an http URL
 * (here a file server on loopback serving this repository), with the remote
 * functions and actor classes in the importing project's own module.
 */
import assert from "node:assert/strict";

const ROOT = new URL("../../", import.meta.url);

const DRIVER = (base: string) => `
import * as ray from "${base}mod.ts";

export const square = ray.remote(function square(x: number) {
  return x * x;
});

export class Counter {
  n = 0;
  add(k: number) {
    return (this.n += k);
  }
}
export const RemoteCounter = ray.remote(Counter);

if (import.meta.main) {
  await ray.init({ numWorkers: 2 });
  const squares = await ray.get([1, 2, 3, 4].map((x) => square.remote(x)));
  const counter = RemoteCounter.remote();
  for (const k of [1, 2, 3]) counter.add.remote(k);
  const total = await ray.get(counter.add.remote(4));
  console.log(JSON.stringify({ squares, total }));
  await ray.shutdown();
}
`;

Deno.test("a project that imports rayd by http URL runs its own tasks and actors", async () => {
  const served: string[] = [];
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, async (req) => {
    const path = decodeURIComponent(new URL(req.url).pathname).slice(1);
    if (path.includes("..")) return new Response("bad path", { status: 400 });
    try {
      const body = await Deno.readFile(new URL(path, ROOT));
      served.push(path);
      return new Response(body, { headers: { "content-type": "application/typescript" } });
    } catch {
      return new Response("not found", { status: 404 });
    }
  });
  const project = await Deno.makeTempDir({ prefix: "rayd_url_import_" });
  try {
    const base = `http://127.0.0.1:${server.addr.port}/`;
    await Deno.writeTextFile(`${project}/driver.ts`, DRIVER(base));
    const { code, stdout, stderr } = await new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", "--no-lock", "--reload=" + base, "driver.ts"],
      cwd: project,
      stdout: "piped",
      stderr: "piped",
    }).output();
    const out = new TextDecoder().decode(stdout);
    const err = new TextDecoder().decode(stderr);
    assert.equal(code, 0, `the importing project failed:\n${out}\n${err}`);
    assert.deepEqual(JSON.parse(out.trim().split("\n").at(-1)!), {
      squares: [1, 4, 9, 16],
      total: 10,
    });
    assert.ok(served.includes("mod.ts"), "mod.ts came from the server");
    assert.ok(served.includes("runtime/worker/entry.ts"), "workers load their entry by URL");
  } finally {
    await server.shutdown();
    await Deno.remove(project, { recursive: true });
  }
});
