/**
 * The dashboard: a read-only web page over a control store (nodes, workers,
 * resources, tasks by state and by function, the latest failures with their
 * stacks, objects and store usage, the live computation graph, a timeline),
 * served with `Deno.serve` and refreshed by polling.
 *
 * @module
 */
import type { JobId } from "../common/mod.ts";
import { config, MAX_TIMER_MS } from "../common/mod.ts";
import type {
  ControlStore,
  NodeRecord,
  ObjectRecord,
  StoreSummary,
  WorkerRecord,
} from "../gcs/mod.ts";
import { DASHBOARD_PAGE } from "./_dashboard_page.ts";
import { graphOf, timelineOf } from "./reader.ts";
import { renderSvg } from "./render.ts";

/** Numbers the control store does not keep, read live from the node. */
export interface LiveStats {
  /** Resources of the node not held by running tasks. */
  available?: Record<string, number>;
  /** Bytes of the shared object store in use. */
  storeUsed?: number;
  /** Bytes the shared object store has now. */
  storeCapacity?: number;
  /** Most bytes the shared object store may grow to. */
  storeMax?: number;
}

/** How to start a dashboard. */
export interface DashboardOptions {
  /** Where the state is read from. */
  store: ControlStore;
  /** The job to show (default: every task in the store). */
  jobId?: JobId;
  /** TCP port (default: the `dashboardPort` setting, 8265; 0 = any free port). */
  port?: number;
  /** Address to bind (default 127.0.0.1). */
  hostname?: string;
  /** Live numbers (resources free, store bytes), called on each refresh. */
  live?: () => LiveStats;
}

/** A running dashboard. */
export interface Dashboard {
  /** `http://127.0.0.1:<port>/`. */
  readonly url: string;
  readonly port: number;
  /** Stops serving; safe to call twice. */
  close(): Promise<void>;
}

/** What `/api/state` answers. */
export interface DashboardState {
  jobId?: string;
  now: number;
  refreshMs: number;
  /** Changes whenever a task or object changes: the page redraws the graph and timeline then. */
  version: string;
  nodes: NodeRecord[];
  workers: WorkerRecord[];
  summary: StoreSummary;
  failures: { taskId: string; name: string; endedAt?: number; workerId?: string; error: string }[];
  objects: ObjectRecord[];
  live: LiveStats;
}

/**
 * The dashboard's state, as `/api/state` serves it.
 *
 * @param options the store, the job and the live numbers
 * @returns the state
 */
export async function dashboardState(
  options: Pick<DashboardOptions, "store" | "jobId" | "live">,
): Promise<DashboardState> {
  const { store, jobId } = options;
  await store.flush();
  const [nodes, workers, summary, failed, objects] = await Promise.all([
    store.listNodes({ limit: 100 }),
    store.listWorkers({ limit: 1000 }),
    store.summary(),
    store.listTasks({ state: "failed", jobId, limit: config("dashboardFailures") }),
    store.listObjects({ limit: 50 }),
  ]);
  const version = JSON.stringify([summary.tasks, summary.objects]);
  return {
    jobId,
    now: Date.now(),
    // The page's setTimeout would refresh at once past MAX_TIMER_MS.
    refreshMs: Math.min(config("dashboardRefreshMs"), MAX_TIMER_MS),
    version,
    nodes,
    workers,
    summary,
    failures: failed.map((t) => ({
      taskId: t.taskId,
      name: t.name,
      endedAt: t.endedAt,
      workerId: t.workerId,
      error: t.error ?? "(no error text recorded)",
    })),
    objects,
    live: options.live?.() ?? {},
  };
}

/**
 * Serves the dashboard until `close()`. It does not keep the process alive by itself.
 *
 * @param options the store to show, the port, the live numbers
 * @returns its URL and `close`
 * @throws Deno.errors.AddrInUse when the port is taken
 * @example
 * ```ts
 * import { MemoryControlStore } from "../gcs/mod.ts";
 * import { startDashboard } from "./dashboard.ts";
 * const store = new MemoryControlStore();
 * const dash = startDashboard({ store, port: 0 });
 * const page = await (await fetch(dash.url)).text();
 * console.assert(page.includes("rayd dashboard"));
 * await dash.close();
 * await store.close();
 * ```
 */
export function startDashboard(options: DashboardOptions): Dashboard {
  const hostname = options.hostname ?? "127.0.0.1";
  let graphCache: { version: string; svg: Promise<string> } | undefined;
  const graphSvg = async (): Promise<string> => {
    const state = await dashboardState(options);
    if (graphCache?.version !== state.version) {
      const svg = graphOf(options.store, { jobId: options.jobId }).then(renderSvg);
      graphCache = { version: state.version, svg };
      svg.catch(() => graphCache = undefined);
    }
    return await graphCache.svg;
  };
  const routes: Record<string, () => Promise<Response>> = {
    "/": () => Promise.resolve(respond(DASHBOARD_PAGE, "text/html; charset=utf-8")),
    "/api/state": async () => json(await dashboardState(options)),
    "/api/graph.svg": async () => respond(await graphSvg(), "image/svg+xml"),
    "/api/graph.dot": async () =>
      respond(await graphOf(options.store, { jobId: options.jobId }), "text/vnd.graphviz"),
    "/api/timeline.json": async () => json(await timelineOf(options.store, options)),
  };
  const server = Deno.serve({
    hostname,
    port: options.port ?? config("dashboardPort"),
    onListen: () => {},
  }, async (req) => {
    if (req.method !== "GET" && req.method !== "HEAD") {
      return new Response("Method not allowed: the dashboard is read-only\n", { status: 405 });
    }
    const route = routes[new URL(req.url).pathname];
    if (!route) return new Response("Not found\n", { status: 404 });
    try {
      return await route();
    } catch (err) {
      return new Response(`Cannot answer: ${err instanceof Error ? err.message : err}\n`, {
        status: 503,
      });
    }
  });
  server.unref();
  const port = server.addr.port;
  let closing: Promise<void> | undefined;
  return {
    url: `http://${hostname}:${port}/`,
    port,
    close: () => closing ??= server.shutdown(),
  };
}

function respond(body: string, type: string): Response {
  return new Response(body, { headers: { "content-type": type, "cache-control": "no-store" } });
}

function json(value: unknown): Response {
  return respond(JSON.stringify(value), "application/json");
}
