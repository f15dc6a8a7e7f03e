/**
 * Code shipping in an in-process cluster: a driver's module in a temp
 * folder runs on nodes from their shipped copies (nodes started with
 * `mirrorCode`, as if they could not read the folder), nested tasks ship
 * the same graph on from a node, an actor's class comes the same way, and
 * the caches go when the nodes stop. Nodes that read the same files keep
 * the original URLs. The hidden-folder test (a node in its own mount
 * namespace) is code_shipping_hidden_test.ts.
 */
import assert from "node:assert/strict";
import * as ray from "../../mod.ts";
import { type NodeSpec, startInProcessCluster, TEST_TOKEN } from "./in_process_cluster.ts";
import { writeShippedApp } from "./_shipped_app.ts";

/** What the app's `double` returns. */
type Ran = { url: string; node: string; value: number };
/** The app's module, imported by URL. */
type App = Record<string, any>;

/** The value of one ref of the app's (its functions are untyped here). */
function one<T>(ref: unknown): Promise<T> {
  return ray.get(ref as ray.ObjectRef<T>);
}

async function withApp(
  head: NodeSpec,
  nodes: NodeSpec[],
  fn: (app: App, ids: { head: string; b: string }, fnsUrl: string) => Promise<void>,
): Promise<void> {
  const app = await writeShippedApp();
  const c = await startInProcessCluster(head, nodes);
  try {
    await ray.init({ address: c.address, token: TEST_TOKEN });
    try {
      await fn(await import(app.fnsUrl), { head: c.head.nodeId, b: c.nodes[0].nodeId }, app.fnsUrl);
    } finally {
      await ray.shutdown();
    }
  } finally {
    await c.stop();
    await Deno.remove(app.dir, { recursive: true });
  }
}

/** The cache folder a mirror URL is in (`.../rayd_code_x`). */
function cacheOf(url: string): string {
  const m = /^file:\/\/(.*\/rayd_code_[^/]+)\/graphs\/[0-9a-f]{64}\/(?:.*\/)?fns\.ts$/.exec(url);
  assert.ok(m, `${url} is a laid-out copy of app/fns.ts`);
  return decodeURIComponent(m[1]);
}

Deno.test({
  name: "a driver's module runs on nodes from shipped copies: tasks, nested tasks, actors",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    const caches: string[] = [];
    await withApp(
      { numWorkers: 1, mirrorCode: true },
      [{ numWorkers: 1, resources: { B: 1 }, mirrorCode: true }],
      async (app, ids, fnsUrl) => {
        const ran = await one<Ran>(app.double.options({ resources: { B: 1 } }).remote(21));
        assert.equal(ran.value, 42);
        assert.equal(ran.node, ids.b);
        assert.notEqual(ran.url, fnsUrl);
        caches.push(cacheOf(ran.url));
        // Nested: from node B's copy to the head, which gets the graph from B.
        const out = await one<{ url: string; inner: Ran }>(
          app.nested.options({ resources: { B: 1 } }).remote(5, ids.head),
        );
        assert.equal(out.url, ran.url);
        assert.equal(out.inner.value, 10);
        assert.equal(out.inner.node, ids.head);
        caches.push(cacheOf(out.inner.url));
        assert.notEqual(caches[0], caches[1], "each node has its own cache");
        const doubler = app.DoublerActor.options({ resources: { B: 1 } }).remote();
        const sums = await Promise.all([1, 2, 3].map((k) => one<number>(doubler.add.remote(k))));
        assert.deepEqual(sums, [2, 6, 12]);
        assert.equal(cacheOf(await one<string>(doubler.url.remote())), caches[0]);
      },
    );
    for (const dir of caches) {
      await assert.rejects(Deno.stat(dir), Deno.errors.NotFound, `${dir} removed on stop`);
    }
  },
});

Deno.test({
  name: "nodes that read the driver's files with the same bytes run the original module",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    await withApp(
      { numWorkers: 1 },
      [{ numWorkers: 1, resources: { B: 1 } }],
      async (app, ids, fnsUrl) => {
        const ran = await one<Ran>(app.double.options({ resources: { B: 1 } }).remote(4));
        assert.deepEqual(ran, { url: fnsUrl, node: ids.b, value: 8 });
        const out = await ray.get(app.nested.options({ resources: { B: 1 } }).remote(6, ids.head));
        assert.deepEqual(out, { url: fnsUrl, inner: { url: fnsUrl, node: ids.head, value: 12 } });
      },
    );
  },
});
