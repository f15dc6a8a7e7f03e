import assert from "node:assert/strict";
import type { JobId, NodeId, TaskId, WorkerId } from "../../runtime/common/mod.ts";
import { settingEnvName } from "../../runtime/common/mod.ts";
import { MemoryControlStore } from "../../runtime/gcs/mod.ts";
import type { TaskSpec } from "../../runtime/protocol/mod.ts";
import {
  type DashboardState,
  dashboardState,
  startDashboard,
} from "../../runtime/observability/mod.ts";

const job = "j1" as JobId;
const node = "n1" as NodeId;

function spec(taskId: string, name: string): TaskSpec {
  return {
    taskId: taskId as TaskId,
    fn: { moduleUrl: "file:///m.ts", key: `${name}#0`, name },
    args: new Uint8Array(0),
    deps: [],
    argRefs: [],
    options: {
      numReturns: 1,
      numCpus: 1,
      resources: {},
      maxRetries: 3,
      retryExceptions: false,
      schedulingStrategy: "DEFAULT",
    },
    attempt: 0,
  };
}

/** A store holding one node, one worker, a finished and a failed task. */
function fixture(): MemoryControlStore {
  const store = new MemoryControlStore();
  const ts = Date.now();
  store.record({ type: "jobStarted", jobId: job, ts, nodeId: node });
  store.record({
    type: "nodeAdded",
    nodeId: node,
    ts,
    address: "embedded",
    resources: { CPU: 2 },
    numWorkers: 1,
  });
  store.record({ type: "workerStarted", nodeId: node, workerId: "w1" as WorkerId, ts });
  for (
    const [id, name] of [["aaaaaaaaaaaaaaaa00000001", "add"], ["aaaaaaaaaaaaaaaa00000002", "boom"]]
  ) {
    store.record({ type: "taskSubmitted", jobId: job, spec: spec(id, name), ts });
    store.record({
      type: "taskState",
      taskId: id as TaskId,
      state: "running",
      ts: ts + 1,
      nodeId: node,
      workerId: "w1" as WorkerId,
    });
  }
  store.record({
    type: "taskState",
    taskId: "aaaaaaaaaaaaaaaa00000001" as TaskId,
    state: "finished",
    ts: ts + 2,
  });
  store.record({
    type: "taskState",
    taskId: "aaaaaaaaaaaaaaaa00000002" as TaskId,
    state: "failed",
    ts: ts + 3,
    error:
      "RayTaskError: Task boom failed: Error: kaput\n\nRemote stack:\nError: kaput\n    at boom",
  });
  return store;
}

Deno.test({
  name: "startDashboard() serves the page, the state, the graph and the timeline",
  sanitizeResources: true,
  sanitizeOps: true,
  async fn() {
    const store = fixture();
    const dash = startDashboard({
      store,
      jobId: job,
      port: 0,
      live: () => ({ available: { CPU: 1 }, storeUsed: 10, storeCapacity: 100 }),
    });
    try {
      assert.equal(dash.url, `http://127.0.0.1:${dash.port}/`);
      const page = await fetch(dash.url);
      assert.match(page.headers.get("content-type")!, /text\/html/);
      assert.match(await page.text(), /<title>rayd dashboard<\/title>/);
      const state: DashboardState = await (await fetch(`${dash.url}api/state`)).json();
      assert.equal(state.nodes.length, 1);
      assert.equal(state.workers[0].workerId, "w1");
      assert.deepEqual(state.summary.tasks.byState, { finished: 1, failed: 1 });
      assert.deepEqual(Object.keys(state.summary.tasks.byFunction).sort(), ["add", "boom"]);
      assert.equal(state.failures.length, 1);
      assert.match(state.failures[0].error, /Remote stack:\nError: kaput/);
      assert.deepEqual(state.live.available, { CPU: 1 });
      const svg = await fetch(`${dash.url}api/graph.svg`);
      assert.equal(svg.headers.get("content-type"), "image/svg+xml");
      const svgText = await svg.text();
      assert.match(svgText, />boom</);
      assert.match(svgText, /class="node task failed"/);
      assert.match(await (await fetch(`${dash.url}api/graph.dot`)).text(), /^digraph rayd/);
      const trace = await (await fetch(`${dash.url}api/timeline.json`)).json();
      assert.equal(trace.filter((e: { ph: string }) => e.ph === "X").length, 2);
      const missing = await fetch(`${dash.url}nope`);
      assert.equal(missing.status, 404);
      await missing.body?.cancel();
      const post = await fetch(`${dash.url}api/state`, { method: "POST" });
      assert.equal(post.status, 405);
      await post.body?.cancel();
    } finally {
      await dash.close();
      await dash.close();
      await store.close();
    }
  },
});

Deno.test("startDashboard() answers 503 when the store is closed", async () => {
  const store = fixture();
  const dash = startDashboard({ store, port: 0 });
  try {
    await store.close();
    const res = await fetch(`${dash.url}api/state`);
    assert.equal(res.status, 503);
    assert.match(await res.text(), /^Cannot answer: /);
  } finally {
    await dash.close();
  }
});

Deno.test("startDashboard() throws AddrInUse when the port is taken", async () => {
  const store = fixture();
  const first = startDashboard({ store, port: 0 });
  try {
    assert.throws(() => startDashboard({ store, port: first.port }), Deno.errors.AddrInUse);
  } finally {
    await first.close();
    await store.close();
  }
});

Deno.test("dashboardState() gives the page a refreshMs its browser timer keeps (under 2^31)", async () => {
  const store = fixture();
  const env = settingEnvName("dashboardRefreshMs");
  try {
    Deno.env.set(env, "1e10");
    assert.equal((await dashboardState({ store })).refreshMs, 2 ** 31 - 1);
    Deno.env.set(env, "1500");
    assert.equal((await dashboardState({ store })).refreshMs, 1500);
  } finally {
    Deno.env.delete(env);
    await store.close();
  }
});
