/**
 * The real code-shipping test: a node process in its own mount namespace
 * (`unshare -m`) where the driver's folder is an empty tmpfs runs the
 * driver's functions and actor from the code the driver ships; a task it
 * submits runs on the head, which reads the original files. Needs root
 * and `unshare -m`; skips loudly otherwise.
 */
import assert from "node:assert/strict";
import * as ray from "../../mod.ts";
import { hiddenCommand, skipLine } from "../_net/netlab.ts";
import { startInProcessCluster, TEST_TOKEN } from "./in_process_cluster.ts";
import { writeShippedApp } from "./_shipped_app.ts";

/** What the app's `double` returns. */
type Ran = { url: string; node: string; value: number };

function one<T>(ref: unknown): Promise<T> {
  return ray.get(ref as ray.ObjectRef<T>);
}

async function skipReason(): Promise<string | undefined> {
  if (Deno.build.os !== "linux") return `the OS is ${Deno.build.os}, not linux`;
  if (Deno.uid() !== 0) return `the tests run as uid ${Deno.uid()}, not root`;
  const probe = await new Deno.Command("unshare", { args: ["-m", "true"], stderr: "null" })
    .output().then((o) => o.success, () => false);
  return probe ? undefined : "`unshare -m true` failed";
}

/** Reads `stream` line by line until `ready ...`; the rest is collected into `log`. */
async function readyLine(stream: ReadableStream<Uint8Array>, log: string[]): Promise<string> {
  const lines = stream.pipeThrough(new TextDecoderStream()).getReader();
  let buffered = "";
  for (;;) {
    const { value, done } = await lines.read();
    if (done) throw new Error(`the node exited before it was ready:\n${log.join("")}`);
    buffered += value;
    const at = buffered.indexOf("\n");
    if (at >= 0 && buffered.startsWith("ready ")) {
      (async () => {
        for (;;) {
          const next = await lines.read();
          if (next.done) return;
          log.push(next.value);
        }
      })();
      return buffered.slice(0, at);
    }
  }
}

Deno.test({
  name:
    "a node that cannot read the driver's folder (unshare -m) runs its code from the shipped copy",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    const reason = await skipReason();
    if (reason) {
      console.warn(skipLine(`"a node that cannot read the driver's folder runs its code"`, reason));
      return;
    }
    const app = await writeShippedApp();
    const c = await startInProcessCluster({ numWorkers: 1 }, []);
    const log: string[] = [];
    let cacheDir: string | undefined;
    const script = new URL("./_node_main.ts", import.meta.url).pathname;
    const options = JSON.stringify({ headAddress: c.address, resources: { HIDDEN: 1 } });
    const [cmd, ...args] = hiddenCommand([app.dir], [
      Deno.execPath(),
      ...["run", "-A", "--no-lock", script, options],
    ]);
    const child = new Deno.Command(cmd, { args, stdout: "piped", stderr: "piped" }).spawn();
    (async () => {
      for await (const chunk of child.stderr.pipeThrough(new TextDecoderStream())) log.push(chunk);
    })();
    try {
      const [, hiddenId] = (await readyLine(child.stdout, log)).split(" ");
      await ray.init({ address: c.address, token: TEST_TOKEN });
      try {
        const mod = await import(app.fnsUrl);
        const onHidden = { resources: { HIDDEN: 1 } };
        const ran = await one<Ran>(mod.double.options(onHidden).remote(21));
        assert.equal(ran.value, 42, log.join(""));
        assert.equal(ran.node, hiddenId);
        const mirror = /^file:\/\/(.*\/rayd_code_[^/]+)\/graphs\/[0-9a-f]{64}\/(.*\/)?fns\.ts$/;
        assert.match(ran.url, mirror);
        cacheDir = decodeURIComponent(mirror.exec(ran.url)![1]);
        // From the hidden node's copy to the head, which reads the original files.
        const out = await one<{ url: string; inner: Ran }>(
          mod.nested.options(onHidden).remote(5, c.head.nodeId),
        );
        assert.equal(out.url, ran.url);
        assert.deepEqual(out.inner, { url: app.fnsUrl, node: c.head.nodeId, value: 10 });
        const doubler = mod.DoublerActor.options(onHidden).remote();
        const sums = await Promise.all([1, 2, 3].map((k) => one<number>(doubler.add.remote(k))));
        assert.deepEqual(sums, [2, 6, 12]);
        assert.equal(await one<string>(doubler.url.remote()), ran.url);
      } finally {
        await ray.shutdown();
      }
    } finally {
      try {
        child.kill("SIGTERM");
      } catch { /* already gone */ }
      const status = await child.status;
      await c.stop();
      if (cacheDir) {
        assert.equal(status.code, 0, log.join(""));
        await assert.rejects(
          Deno.stat(cacheDir),
          Deno.errors.NotFound,
          "the node's cache is removed",
        );
      }
      await Deno.remove(app.dir, { recursive: true });
    }
  },
});
