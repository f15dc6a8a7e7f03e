/**
 * The code-shipping logic between processes, with the peer links faked:
 * what a sent message names, the order of messages, what a receiver asks
 * for (only the modules it lacks), when it keeps the original files, how a
 * mirror URL ships on, and the error when code cannot be had.
 */
import assert from "node:assert/strict";
import { moduleGraphOf } from "../../runtime/code/mod.ts";
import { CodeShipping } from "../../runtime/cluster/code_shipping.ts";
import { type CodeRequest, MSG } from "../../runtime/cluster/messages.ts";
import { packRun, type RunMessage, unpackRun } from "../../runtime/cluster/run_wire.ts";
import type { Peers } from "../../runtime/cluster/peers.ts";
import type { FunctionDescriptor, TaskSpec } from "../../runtime/protocol/mod.ts";

/** Processes by address, each with its shipping and what it sent and was asked. */
class Net {
  readonly procs = new Map<string, CodeShipping>();
  readonly sent = new Map<string, [to: string, type: number, message: any][]>();
  readonly asked = new Map<string, CodeRequest[]>();

  add(address: string, alwaysMirror = false): CodeShipping {
    const sent: [string, number, any][] = [];
    this.sent.set(address, sent);
    this.asked.set(address, []);
    const peers = {
      send: (to: string, type: number, message: unknown) => void sent.push([to, type, message]),
      get: (to: string) =>
        Promise.resolve({
          request: async (type: number, message: CodeRequest) => {
            assert.equal(type, MSG.code);
            const target = this.procs.get(to);
            if (!target) throw new Error(`no process at ${to}`);
            this.asked.get(to)!.push(message);
            const reply = await target.serve(message);
            return { message: reply.message, body: reply.body ?? new Uint8Array(0) };
          },
        }),
    } as unknown as Peers;
    const p = new CodeShipping({ peers, alwaysMirror });
    this.procs.set(address, p);
    return p;
  }

  async close(): Promise<void> {
    for (const p of this.procs.values()) await p.close();
  }
}

function spec(moduleUrl: string, extra: Partial<FunctionDescriptor> = {}): TaskSpec {
  return {
    taskId: "t" as TaskSpec["taskId"],
    fn: { moduleUrl, key: "f#0", name: "f", ...extra },
    args: new Uint8Array(0),
    deps: [],
    argRefs: [],
    options: {
      numReturns: 1,
      numCpus: 1,
      resources: {},
      maxRetries: 0,
      retryExceptions: false,
      schedulingStrategy: "DEFAULT",
    },
    attempt: 0,
  };
}

async function app(files: Record<string, string>): Promise<string> {
  const dir = await Deno.makeTempDir({ prefix: "rayd_ship_unit_" });
  for (const [path, text] of Object.entries(files)) {
    await Deno.mkdir(`${dir}/${path}`.replace(/\/[^/]+$/, ""), { recursive: true });
    await Deno.writeTextFile(`${dir}/${path}`, text);
  }
  return dir;
}

const FILES = {
  "main.ts": `import { h } from "./lib/h.ts"; export const m = h + 1;`,
  "other.ts": `import { h } from "./lib/h.ts"; export const o = h + 2;`,
  "lib/h.ts": `export const h = 40;`,
};

async function until(check: () => boolean): Promise<void> {
  for (let i = 0; i < 400 && !check(); i++) await new Promise((r) => setTimeout(r, 5));
  assert.ok(check(), "condition reached in time");
}

/** Receives `message` at `p` and resolves with what the handler got. */
function received<M>(p: CodeShipping, type: number, message: M): Promise<M> {
  return new Promise((resolve) => p.receive(type, message, resolve));
}

Deno.test("a sent run names the graph of its file: modules, in order with later sends", async () => {
  const dir = await app(FILES);
  const net = new Net();
  try {
    const d = net.add("d");
    const url = `file://${dir}/main.ts`;
    const { graph } = await moduleGraphOf(url);
    const specs = [spec(url), spec("npm:x@1/y"), spec("", { source: "() => 1" })];
    d.send("n", MSG.run, packRun("d", specs));
    d.send("n", MSG.cancel, ["t", "normal"]);
    assert.equal(net.sent.get("d")!.length, 0, "waits for the graph, and the cancel behind it");
    await until(() => net.sent.get("d")!.length === 2);
    const [[to, type, run], [, cancelType]] = net.sent.get("d")!;
    assert.equal(to, "n");
    assert.equal(type, MSG.run);
    assert.equal(cancelType, MSG.cancel);
    assert.deepEqual((run as RunMessage).code, [[url, graph.id, graph.root]]);
    assert.deepEqual(unpackRun(run as RunMessage).map((s) => s.fn.moduleUrl), [
      url,
      "npm:x@1/y",
      "",
    ]);
    d.send("n", MSG.run, packRun("d", [spec(url)]));
    assert.equal(net.sent.get("d")!.length, 3, "a known module is sent at once");
  } finally {
    await net.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a receiver asks only for modules it lacks, runs the copy, and ships it on", async () => {
  const dir = await app(FILES);
  const net = new Net();
  try {
    const d = net.add("d");
    const n = net.add("n", true);
    const n2 = net.add("n2", true);
    const main = `file://${dir}/main.ts`;
    const other = `file://${dir}/other.ts`;
    d.send("n", MSG.run, packRun("d", [spec(main)]));
    d.send("n", MSG.run, packRun("d", [spec(other)]));
    await until(() => net.sent.get("d")!.length === 2);
    const [first, second] = net.sent.get("d")!.map(([, , m]) => m as RunMessage);
    const got = await received(n, MSG.run, first);
    const mirror = got.fns[0].moduleUrl;
    assert.match(mirror, /\/rayd_code_[^/]+\/graphs\/[0-9a-f]{64}\/main\.ts$/);
    assert.equal(await Deno.readTextFile(new URL(mirror)), FILES["main.ts"]);
    assert.equal(await Deno.readTextFile(new URL("./lib/h.ts", mirror)), FILES["lib/h.ts"]);
    const asked = net.asked.get("d")!;
    assert.equal(asked.length, 2, "the graph, then its bytes");
    assert.equal(asked[1].hashes!.length, 2);
    // The second graph shares the helper module: only its own entry module travels.
    const got2 = await received(n, MSG.run, second);
    assert.match(got2.fns[0].moduleUrl, /\/graphs\/[0-9a-f]{64}\/other\.ts$/);
    assert.equal(asked.length, 4);
    assert.equal(asked[3].hashes!.length, 1);
    assert.equal(
      asked[3].hashes![0],
      (await moduleGraphOf(other)).graph.modules.find((m) => m.path === "other.ts")!.hash,
    );
    // Sent on from n: the mirror URL goes back to the original, naming the same graph.
    n.send("n2", MSG.run, packRun("n", [spec(mirror)]));
    const [[, , on]] = net.sent.get("n")!;
    assert.deepEqual((on as RunMessage).fns[0].moduleUrl, main);
    assert.deepEqual((on as RunMessage).code, first.code);
    // n2 gets it from n (the driver is not asked again).
    const got3 = await received(n2, MSG.run, on as RunMessage);
    assert.equal(await Deno.readTextFile(new URL(got3.fns[0].moduleUrl)), FILES["main.ts"]);
    assert.equal(net.asked.get("n")!.length, 2);
    assert.equal(asked.length, 4);
  } finally {
    await net.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a receiver that reads the same files keeps them; changed or missing files, the copy", async () => {
  const dir = await app(FILES);
  const net = new Net();
  try {
    const d = net.add("d");
    const same = net.add("same");
    const main = `file://${dir}/main.ts`;
    d.send("same", MSG.run, packRun("d", [spec(main)]));
    await until(() => net.sent.get("d")!.length === 1);
    const message = net.sent.get("d")![0][2] as RunMessage;
    assert.equal((await received(same, MSG.run, message)).fns[0].moduleUrl, main);
    assert.equal(net.asked.get("d")!.length, 1, "only the graph was asked for");
    // A node whose file differs (the driver's graph was made before the change) runs the copy.
    await Deno.writeTextFile(`${dir}/lib/h.ts`, `export const h = 41;`);
    const changed = net.add("changed");
    const got = await received(changed, MSG.run, message);
    assert.match(got.fns[0].moduleUrl, /\/graphs\/[0-9a-f]{64}\/main\.ts$/);
    assert.equal(
      await Deno.readTextFile(new URL("./lib/h.ts", got.fns[0].moduleUrl)),
      FILES["lib/h.ts"],
    );
  } finally {
    await net.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("messages behind one that waits for code are taken after it, in order", async () => {
  const dir = await app(FILES);
  const net = new Net();
  try {
    const d = net.add("d");
    const n = net.add("n", true);
    d.send("n", MSG.run, packRun("d", [spec(`file://${dir}/main.ts`)]));
    await until(() => net.sent.get("d")!.length === 1);
    const order: string[] = [];
    n.receive(MSG.run, net.sent.get("d")![0][2], () => {
      order.push("run");
      throw new Error("a handler that throws does not stop the queue");
    });
    n.receive(MSG.cancel, ["t", "normal"], () => order.push("cancel"));
    n.receive(MSG.actor, { kind: "kill", actorId: "a", noRestart: true }, () => order.push("kill"));
    assert.deepEqual(order, []);
    await until(() => order.length === 3);
    assert.deepEqual(order, ["run", "cancel", "kill"]);
    let now = false;
    n.receive(MSG.cancel, ["t", "normal"], () => now = true);
    assert.ok(now, "nothing waits: taken at once");
  } finally {
    await net.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("code that cannot be had fails the task, saying why", async () => {
  const net = new Net();
  try {
    net.add("d");
    const n = net.add("n", true);
    const ghost = "f".repeat(64);
    const message: RunMessage = {
      ...packRun("d", [spec("file:///nowhere/main.ts")]),
      code: [["file:///nowhere/main.ts", ghost, "file:///nowhere/"]],
    };
    const got = await received(n, MSG.run, message);
    const fn = got.fns[0];
    assert.equal(fn.name, "f");
    assert.ok(fn.source, "runs as a function that throws");
    assert.throws(
      () => (0, eval)(`(${fn.source})`)(),
      /f: cannot get code graph f{12} from d: code graph f{64} is not known here/,
    );
  } finally {
    await net.close();
  }
});

Deno.test("the same files in two drivers' folders: one graph, each driver's paths kept", async () => {
  const dirs = [await app(FILES), await app(FILES)];
  const net = new Net();
  try {
    const urls = dirs.map((dir) => `file://${dir}/main.ts`);
    const messages: RunMessage[] = [];
    for (const [i, url] of urls.entries()) {
      const d = net.add(`d${i}`);
      d.send("n", MSG.run, packRun(`d${i}`, [spec(url)]));
      await until(() => net.sent.get(`d${i}`)!.length === 1);
      messages.push(net.sent.get(`d${i}`)![0][2] as RunMessage);
    }
    assert.equal(messages[0].code![0][1], messages[1].code![0][1], "the same graph id");
    // A node reading both folders runs each driver's own files.
    const same = net.add("same");
    for (const [i, message] of messages.entries()) {
      assert.equal((await received(same, MSG.run, message)).fns[0].moduleUrl, urls[i]);
    }
    // One where the second folder's files differ runs the first's files and a copy for the second.
    await Deno.writeTextFile(`${dirs[1]}/lib/h.ts`, `export const h = 0;`);
    const one = net.add("one");
    assert.equal((await received(one, MSG.run, messages[0])).fns[0].moduleUrl, urls[0]);
    const second = (await received(one, MSG.run, messages[1])).fns[0].moduleUrl;
    assert.match(second, /\/graphs\/[0-9a-f]{64}\/main\.ts$/);
    assert.equal(await Deno.readTextFile(new URL("./lib/h.ts", second)), FILES["lib/h.ts"]);
    // A node running copies runs one copy for both; the second driver sends no bytes.
    const copy = net.add("copy", true);
    const before = net.asked.get("d1")!.length;
    const a = await received(copy, MSG.run, messages[0]);
    const b = await received(copy, MSG.run, messages[1]);
    assert.equal(a.fns[0].moduleUrl, b.fns[0].moduleUrl);
    assert.match(a.fns[0].moduleUrl, /\/graphs\/[0-9a-f]{64}\/main\.ts$/);
    const asked = net.asked.get("d1")!.slice(before);
    assert.ok(asked.every((q) => q.hashes === undefined), "d1 sends only the graph");
  } finally {
    await net.close();
    for (const dir of dirs) await Deno.remove(dir, { recursive: true });
  }
});
