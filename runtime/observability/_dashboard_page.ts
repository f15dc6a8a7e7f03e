/**
 * The dashboard's one page: plain HTML, CSS and a script that polls
 * `/api/state` and redraws; the graph and timeline are fetched again only
 * when the state's `version` changed. Private to observability/.
 *
 * @module
 */

const STYLE = `
  :root { --fg: #1d2430; --muted: #6b7280; --line: #e3e6eb; --bg: #f6f7f9; --accent: #2563eb; }
  * { box-sizing: border-box; }
  body { margin: 0; font: 14px/1.4 system-ui, sans-serif; color: var(--fg); background: var(--bg); }
  header { display: flex; gap: 16px; align-items: baseline; padding: 12px 20px;
    background: #1d2430; color: #fff; }
  header h1 { font-size: 18px; margin: 0; }
  header .meta { color: #c7ccd6; font-size: 13px; }
  main { display: grid; grid-template-columns: repeat(auto-fit, minmax(380px, 1fr)); gap: 14px;
    padding: 14px 20px; }
  section { background: #fff; border: 1px solid var(--line); border-radius: 8px; padding: 12px 14px;
    min-width: 0; }
  section.wide { grid-column: 1 / -1; }
  h2 { font-size: 14px; margin: 0 0 8px; text-transform: uppercase; letter-spacing: .04em;
    color: var(--muted); }
  table { border-collapse: collapse; width: 100%; font-size: 13px; }
  th, td { text-align: left; padding: 3px 8px 3px 0; border-bottom: 1px solid var(--line);
    white-space: nowrap; }
  td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
  .counts { display: flex; flex-wrap: wrap; gap: 8px; }
  .count { border: 1px solid var(--line); border-radius: 6px; padding: 6px 10px; min-width: 84px; }
  .count b { display: block; font-size: 20px; font-variant-numeric: tabular-nums; }
  .count.failed b { color: #b91c1c; } .count.running b { color: #b45309; }
  .bar { height: 10px; background: var(--line); border-radius: 5px; overflow: hidden; }
  .bar > div { height: 100%; background: var(--accent); }
  .failure { border-left: 3px solid #b91c1c; padding: 4px 10px; margin: 8px 0; background: #fff5f5; }
  .failure pre { margin: 4px 0 0; white-space: pre-wrap; font-size: 12px; max-height: 220px;
    overflow: auto; }
  .muted { color: var(--muted); }
  #graph { overflow: auto; max-height: 640px; text-align: center; }
  #graph svg { max-width: 100%; height: auto; }
  #timeline { position: relative; overflow-x: auto; }
  .tl-row { position: relative; height: 22px; border-bottom: 1px solid var(--line); }
  .tl-label { position: absolute; left: 0; width: 90px; font-size: 12px; line-height: 22px;
    color: var(--muted); }
  .tl-lane { position: absolute; left: 96px; right: 0; top: 2px; bottom: 2px; }
  .tl-slice { position: absolute; top: 0; bottom: 0; min-width: 1px; border-radius: 2px;
    opacity: .85; }
  .tl-slice.failed { background: #dc2626 !important; }
  #status.stale { color: #fca5a5; }
`;

const SCRIPT = `
const $ = (id) => document.getElementById(id);
const fmt = (n) => Number(n).toLocaleString("en-US");
const bytes = (n) => {
  if (n === undefined) return "?";
  const units = ["B", "KiB", "MiB", "GiB", "TiB"];
  let i = 0;
  while (n >= 1024 && i < units.length - 1) { n /= 1024; i++; }
  return (i ? n.toFixed(1) : n) + " " + units[i];
};
const el = (tag, props = {}, ...kids) => {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(props)) {
    if (k === "text") e.textContent = v; else if (k === "style") e.style.cssText = v;
    else e.setAttribute(k, v);
  }
  for (const kid of kids) e.append(kid);
  return e;
};
const table = (head, rows, numeric = []) => el("table", {},
  el("tr", {}, ...head.map((h, i) => el("th", { text: h, class: numeric.includes(i) ? "num" : "" }))),
  ...rows.map((r) => el("tr", {}, ...r.map((c, i) =>
    el("td", { text: String(c ?? ""), class: numeric.includes(i) ? "num" : "" })))));
const STATES = ["submitted", "waiting", "ready", "running", "blocked", "finished", "failed",
  "cancelled"];
const ago = (ts, now) => ts ? ((now - ts) / 1000).toFixed(1) + "s ago" : "";

function drawState(s) {
  $("job").textContent = s.jobId ? "job " + s.jobId : "all jobs";
  const live = s.live || {};
  $("nodes").replaceChildren(table(["node", "state", "address", "workers", "resources"],
    s.nodes.map((n) => [n.nodeId.slice(0, 12), n.state, n.address, n.numWorkers,
      Object.entries(n.resources).map(([k, v]) => k + " " + v).join(", ")]), [3]));
  const alive = s.workers.filter((w) => w.state === "alive").length;
  $("workers").replaceChildren(
    el("p", { text: alive + " alive, " + (s.workers.length - alive) + " dead" }),
    table(["worker", "state", "started", "reason"],
      s.workers.map((w) => [w.workerId, w.state, ago(w.startedAt, s.now), w.reason]), []));
  const total = {};
  for (const n of s.nodes) if (n.state === "alive") {
    for (const [k, v] of Object.entries(n.resources)) total[k] = (total[k] || 0) + v;
  }
  const avail = live.available || {};
  $("resources").replaceChildren(...Object.entries(total).map(([k, v]) => {
    const used = Math.max(0, v - (avail[k] ?? v));
    return el("div", { style: "margin: 6px 0" },
      el("div", { text: k + ": " + fmt(used) + " of " + fmt(v) + " in use" }),
      el("div", { class: "bar" }, el("div", { style: "width:" + (v ? 100 * used / v : 0) + "%" })));
  }));
  const by = s.summary.tasks.byState;
  $("counts").replaceChildren(...STATES.filter((k) => by[k]).map((k) =>
    el("div", { class: "count " + k, "data-state": k }, el("b", { text: fmt(by[k]) }), k)));
  if (!Object.keys(by).length) $("counts").replaceChildren(el("p", { class: "muted", text: "no tasks yet" }));
  const fns = Object.entries(s.summary.tasks.byFunction).sort((a, b) => a[0].localeCompare(b[0]));
  $("functions").replaceChildren(table(["function", ...STATES],
    fns.map(([name, c]) => [name, ...STATES.map((k) => c[k] ? fmt(c[k]) : "")]),
    STATES.map((_, i) => i + 1)));
  $("failures").replaceChildren(...(s.failures.length ? s.failures.map((f) =>
    el("div", { class: "failure" },
      el("div", {}, el("b", { text: f.name }), " ",
        el("span", { class: "muted", text: f.taskId + (f.workerId ? " on " + f.workerId : "") +
          " " + ago(f.endedAt, s.now) })),
      el("pre", { text: f.error }))) : [el("p", { class: "muted", text: "no failures" })]));
  const o = s.summary.objects;
  const cap = live.storeCapacity, used = live.storeUsed;
  $("objects").replaceChildren(
    el("p", { text: fmt(o.byState.ready || 0) + " objects in the shared store (" +
      bytes(o.totalBytes) + "); small objects travel inline and are not listed" }),
    el("div", { text: "store: " + bytes(used) + " used of " + bytes(cap) +
      (live.storeMax ? " (may grow to " + bytes(live.storeMax) + ")" : "") }),
    el("div", { class: "bar" }, el("div", { style: "width:" + (cap ? 100 * used / cap : 0) + "%" })),
    table(["object", "size", "state", "created"],
      s.objects.slice(0, 15).map((x) => [x.objectId, bytes(x.size), x.state, ago(x.createdAt, s.now)]),
      [1]));
}

function color(name) {
  let h = 0;
  for (const c of name) h = (h * 31 + c.charCodeAt(0)) % 360;
  return "hsl(" + h + ", 60%, 55%)";
}

function drawTimeline(events) {
  const names = new Map();
  for (const e of events) if (e.ph === "M" && e.name === "thread_name") names.set(e.pid + ":" + e.tid, e.args.name);
  const slices = events.filter((e) => e.ph === "X").slice(-3000);
  const box = $("timeline");
  if (!slices.length) { box.replaceChildren(el("p", { class: "muted", text: "no finished tasks yet" })); return; }
  const t0 = Math.min(...slices.map((e) => e.ts));
  const t1 = Math.max(...slices.map((e) => e.ts + e.dur));
  const span = Math.max(1, t1 - t0);
  const rows = new Map();
  for (const e of slices) {
    const key = e.pid + ":" + e.tid;
    if (!rows.has(key)) rows.set(key, []);
    rows.get(key).push(e);
  }
  const keys = [...rows.keys()].sort((a, b) => {
    const [pa, ta] = a.split(":").map(Number), [pb, tb] = b.split(":").map(Number);
    return pa - pb || ta - tb;
  });
  box.replaceChildren(
    el("p", { class: "muted", text: slices.length + " task runs over " + (span / 1000).toFixed(1) +
      " ms (download: /api/timeline.json, opens in Perfetto or chrome://tracing)" }),
    ...keys.map((key) => el("div", { class: "tl-row" },
      el("div", { class: "tl-label", text: names.get(key) || key }),
      el("div", { class: "tl-lane" }, ...rows.get(key).map((e) => el("div", {
        class: "tl-slice " + (e.args.state || ""),
        title: e.name + " (" + e.args.taskId + ")\\n" + (e.dur / 1000).toFixed(2) + " ms, waited " +
          e.args.waitMs + " ms, " + e.args.state,
        style: "left:" + (100 * (e.ts - t0) / span) + "%;width:" + (100 * e.dur / span) +
          "%;background:" + color(e.name),
      }))))));
}

let version = "";
async function refresh() {
  try {
    const s = await (await fetch("/api/state")).json();
    drawState(s);
    $("status").textContent = "updated " + new Date(s.now).toLocaleTimeString();
    $("status").className = "";
    if (s.version !== version) {
      version = s.version;
      const [svg, events] = await Promise.all([
        fetch("/api/graph.svg").then((r) => r.ok ? r.text() : Promise.reject(r.statusText)),
        fetch("/api/timeline.json").then((r) => r.json()),
      ]);
      $("graph").innerHTML = svg.slice(svg.indexOf("<svg"));
      drawTimeline(events);
    }
    setTimeout(refresh, s.refreshMs);
  } catch (err) {
    $("status").textContent = "cannot reach the cluster (" + err + "); retrying";
    $("status").className = "stale";
    setTimeout(refresh, 2000);
  }
}
refresh();
`;

/** The whole page. */
export const DASHBOARD_PAGE = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>rayd dashboard</title>
<style>${STYLE}</style>
</head>
<body>
<header><h1>rayd dashboard</h1><span class="meta" id="job"></span>
<span class="meta" id="status">loading</span></header>
<main>
<section><h2>Nodes</h2><div id="nodes"></div></section>
<section><h2>Resources</h2><div id="resources"></div></section>
<section><h2>Workers</h2><div id="workers"></div></section>
<section class="wide"><h2>Tasks by state</h2><div id="counts" class="counts"></div></section>
<section class="wide"><h2>Tasks by function</h2><div id="functions"></div></section>
<section class="wide"><h2>Latest failures</h2><div id="failures"></div></section>
<section class="wide"><h2>Computation graph</h2>
<p class="muted">boxes are tasks, ovals objects; dashed: launched, solid: produced / consumed
(<a href="/api/graph.dot">DOT</a>, <a href="/api/graph.svg">SVG</a>)</p><div id="graph"></div></section>
<section class="wide"><h2>Timeline</h2><div id="timeline"></div></section>
<section class="wide"><h2>Objects and store</h2><div id="objects"></div></section>
</main>
<script>${SCRIPT}</script>
</body>
</html>
`;
