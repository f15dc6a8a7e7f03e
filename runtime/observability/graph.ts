/**
 * The computation graph of a job as Graphviz DOT, built from task records:
 * the driver as `op-root`, a box per task, an oval per object, dashed edges
 * from a task (or op-root) to the tasks it launched, solid edges from a task
 * to the objects it produced and from an object to the tasks that consumed it.
 *
 * @module
 */
import type { ObjectId, TaskId } from "../common/mod.ts";
import { config, isPutId, taskIdOf } from "../common/mod.ts";
import type { TaskRecord, TaskState } from "../gcs/mod.ts";

/** The fields of a task record the graph reads. */
export type GraphTask =
  & Pick<
    TaskRecord,
    "taskId" | "name" | "state" | "parentTaskId" | "deps" | "returns"
  >
  & { submittedAt?: number };

/** Options of `buildGraph` (and of `ray.graph()`). */
export interface GraphOptions {
  /**
   * Past this many tasks, the tasks of one function at one depth are drawn as
   * one box with a count, and their objects as one oval (default: the
   * `graphCollapseAbove` setting, 60). `0` always collapses; `Infinity` never.
   */
  collapseAbove?: number;
  /**
   * Draw only the part of the graph behind these objects: the tasks that
   * made them, the tasks those depended on (transitively), and every task
   * any of them launched. Default: the whole graph.
   */
  objects?: readonly ObjectId[];
}

/** Fill colours by task state; states not listed are white. */
const FILL: Partial<Record<TaskState, string>> = {
  submitted: "#eeeeee",
  waiting: "#eeeeee",
  ready: "#eeeeee",
  running: "#fff2b3",
  blocked: "#fff2b3",
  failed: "#f4b6b6",
  cancelled: "#d9d9d9",
};

/** How bad a state is, for the colour of a box standing for several tasks. */
const SEVERITY: Record<TaskState, number> = {
  finished: 0,
  submitted: 1,
  waiting: 1,
  ready: 1,
  running: 2,
  blocked: 2,
  cancelled: 3,
  failed: 4,
};

const ROOT = "op-root";

/**
 * The DOT text of the graph of `tasks`.
 *
 * @param tasks task records, in any order (typically every record of one job)
 * @param options when to collapse
 * @returns a `digraph` in DOT
 * @example
 * ```ts
 * import { buildGraph } from "./graph.ts";
 * const dot = buildGraph([{
 *   taskId: "t1" as never, name: "add", state: "finished",
 *   deps: [], returns: ["t1-0" as never],
 * }]);
 * console.assert(dot.includes('"op-root" -> "t:t1" [style=dashed]'));
 * ```
 */
export function buildGraph(tasks: readonly GraphTask[], options: GraphOptions = {}): string {
  const limit = options.collapseAbove ?? config("graphCollapseAbove");
  const kept = options.objects ? lineage(tasks, options.objects) : tasks;
  const sorted = [...kept].sort((a, b) =>
    (a.submittedAt ?? 0) - (b.submittedAt ?? 0) || (a.taskId < b.taskId ? -1 : 1)
  );
  const g = new DotGraph();
  if (sorted.length > limit) collapsed(g, sorted);
  else detailed(g, sorted);
  return g.toString();
}

/** The tasks behind `objects`: their makers, what those depended on, and all they launched. */
function lineage(tasks: readonly GraphTask[], objects: readonly ObjectId[]): GraphTask[] {
  const byId = new Map(tasks.map((t) => [t.taskId, t]));
  const children = new Map<TaskId, GraphTask[]>();
  for (const t of tasks) {
    if (t.parentTaskId === undefined) continue;
    const list = children.get(t.parentTaskId);
    if (list) list.push(t);
    else children.set(t.parentTaskId, [t]);
  }
  const keep = new Set<TaskId>();
  const todo = objects.map((o) => taskIdOf(o));
  while (todo.length > 0) {
    const id = todo.pop()!;
    const t = byId.get(id);
    if (!t || keep.has(id)) continue;
    keep.add(id);
    for (const d of t.deps) todo.push(taskIdOf(d));
    for (const c of children.get(id) ?? []) todo.push(c.taskId);
  }
  return tasks.filter((t) => keep.has(t.taskId));
}

/** One box per task, one oval per object. */
function detailed(g: DotGraph, tasks: readonly GraphTask[]): void {
  const byId = new Map(tasks.map((t) => [t.taskId, t]));
  for (const t of tasks) {
    const id = `t:${t.taskId}`;
    g.node(id, taskAttrs(t.name, t.state, 1, t.taskId));
    g.edge(parentNode(g, t.parentTaskId, byId), id, true);
    for (const r of t.returns) {
      g.node(`o:${r}`, objectAttrs(objectLabel(r), r));
      g.edge(id, `o:${r}`, false);
    }
  }
  for (const t of tasks) {
    for (const d of t.deps) {
      if (!g.has(`o:${d}`)) {
        const label = isPutId(d) ? `put ${objectLabel(d)}` : objectLabel(d);
        g.node(`o:${d}`, objectAttrs(label, d));
      }
      g.edge(`o:${d}`, `t:${t.taskId}`, false);
    }
  }
}

/** The node a task's dashed edge comes from: its parent's box, op-root, or a stand-in. */
function parentNode(
  g: DotGraph,
  parent: TaskId | undefined,
  known: ReadonlyMap<TaskId, GraphTask>,
): string {
  if (parent === undefined) return ROOT;
  if (known.has(parent)) return `t:${parent}`;
  g.node(`t:${parent}`, { shape: "box", style: "dashed", label: "(not kept)", tooltip: parent });
  return `t:${parent}`;
}

/** A group of tasks: one function at one depth. */
interface Group {
  id: string;
  name: string;
  count: number;
  severity: number;
  state: TaskState;
  /** Tasks per return index (the size of each object oval). */
  returns: number[];
}

/** One box per (depth, function), one oval per (group, return index). */
function collapsed(g: DotGraph, tasks: readonly GraphTask[]): void {
  const byId = new Map(tasks.map((t) => [t.taskId, t]));
  const depthOf = depths(tasks, byId);
  const groups = new Map<string, Group>();
  const groupOf = new Map<TaskId, Group>();
  for (const t of tasks) {
    const key = `${depthOf.get(t.taskId)}\u0000${t.name}`;
    let group = groups.get(key);
    if (!group) {
      group = {
        id: `g${groups.size}`,
        name: t.name,
        count: 0,
        severity: -1,
        state: t.state,
        returns: [],
      };
      groups.set(key, group);
    }
    group.count++;
    if (SEVERITY[t.state] > group.severity) {
      group.severity = SEVERITY[t.state];
      group.state = t.state;
    }
    t.returns.forEach((_, i) => group!.returns[i] = (group!.returns[i] ?? 0) + 1);
    groupOf.set(t.taskId, group);
  }
  for (const group of groups.values()) {
    g.node(group.id, taskAttrs(group.name, group.state, group.count));
    group.returns.forEach((n, i) => {
      g.node(`${group.id}:${i}`, objectAttrs(n === 1 ? "1 object" : `${n} objects`));
    });
  }
  for (const t of tasks) {
    const group = groupOf.get(t.taskId)!;
    const parent = t.parentTaskId;
    const from = parent === undefined
      ? ROOT
      : groupOf.get(parent)?.id ?? parentNode(g, "(not kept)" as TaskId, byId);
    g.edge(from, group.id, true);
    t.returns.forEach((_, i) => g.edge(group.id, `${group.id}:${i}`, false));
    for (const d of t.deps) g.edge(objectGroup(g, d, byId, groupOf), group.id, false);
  }
}

/** The oval standing for object `d` in a collapsed graph. */
function objectGroup(
  g: DotGraph,
  d: ObjectId,
  byId: ReadonlyMap<TaskId, GraphTask>,
  groupOf: ReadonlyMap<TaskId, Group>,
): string {
  const producer = byId.get(taskIdOf(d));
  const index = producer?.returns.indexOf(d) ?? -1;
  if (producer && index >= 0) return `${groupOf.get(producer.taskId)!.id}:${index}`;
  const id = isPutId(d) ? "puts" : "unknown";
  g.node(id, objectAttrs(isPutId(d) ? "put objects" : "objects (producer not kept)"));
  return id;
}

/** Depth of each task: 1 for tasks the driver submitted, parent's + 1 below. */
function depths(
  tasks: readonly GraphTask[],
  byId: ReadonlyMap<TaskId, GraphTask>,
): Map<TaskId, number> {
  const out = new Map<TaskId, number>();
  const depth = (t: GraphTask): number => {
    const known = out.get(t.taskId);
    if (known !== undefined) return known;
    const chain: GraphTask[] = [];
    let cur: GraphTask | undefined = t;
    let base = 0;
    while (cur) {
      const d = out.get(cur.taskId);
      if (d !== undefined) {
        base = d;
        break;
      }
      chain.push(cur);
      if (cur.parentTaskId === undefined) break;
      const next = byId.get(cur.parentTaskId);
      // A parent whose record is gone counts as one level (its own parent is unknown).
      if (!next) base = 1;
      cur = next;
    }
    for (let i = chain.length - 1; i >= 0; i--) out.set(chain[i].taskId, ++base);
    return out.get(t.taskId)!;
  };
  for (const t of tasks) depth(t);
  return out;
}

type Attrs = Record<string, string>;

function taskAttrs(name: string, state: TaskState, count: number, tooltip?: string): Attrs {
  const attrs: Attrs = {
    shape: "box",
    label: count === 1 ? name : `${name} \u00d7${count}`,
    class: `task ${state}`,
  };
  const fill = FILL[state];
  if (fill) Object.assign(attrs, { style: "filled", fillcolor: fill });
  if (tooltip) attrs.tooltip = `${tooltip} (${state})`;
  return attrs;
}

function objectAttrs(label: string, tooltip?: string): Attrs {
  const attrs: Attrs = { shape: "ellipse", label, class: "object" };
  if (tooltip) attrs.tooltip = tooltip;
  return attrs;
}

/**
 * A short label for an object: its task's counter (hex, no leading zeros)
 * and, past the first return, `/index`. The full id is the node's tooltip.
 */
function objectLabel(id: ObjectId): string {
  const task = taskIdOf(id);
  const counter = task.slice(-8).replace(/^0+(?=.)/, "");
  const index = parseInt(id.slice(task.length), 16);
  return isPutId(id) || !(index > 0) ? counter : `${counter}/${index}`;
}

/** Nodes and deduplicated edges, written out in insertion order. */
class DotGraph {
  readonly #nodes = new Map<string, Attrs>([[ROOT, {
    shape: "box",
    style: "bold",
    label: ROOT,
    class: "root",
  }]]);
  readonly #edges = new Map<string, { from: string; to: string; dashed: boolean; n: number }>();

  has(id: string): boolean {
    return this.#nodes.has(id);
  }

  node(id: string, attrs: Attrs): void {
    if (!this.#nodes.has(id)) this.#nodes.set(id, attrs);
  }

  edge(from: string, to: string, dashed: boolean): void {
    const key = `${from}\u0000${to}\u0000${dashed}`;
    const e = this.#edges.get(key);
    if (e) e.n++;
    else this.#edges.set(key, { from, to, dashed, n: 1 });
  }

  toString(): string {
    const lines = [
      "digraph rayd {",
      '  graph [fontname="Helvetica"];',
      '  node [fontname="Helvetica", fontsize=11];',
      '  edge [arrowsize=0.7, fontname="Helvetica", fontsize=10];',
    ];
    for (const [id, attrs] of this.#nodes) lines.push(`  ${quote(id)} [${attrList(attrs)}];`);
    for (const e of this.#edges.values()) {
      const attrs: Attrs = {};
      if (e.dashed) attrs.style = "dashed";
      if (e.n > 1) attrs.label = `\u00d7${e.n}`;
      const list = attrList(attrs);
      lines.push(`  ${quote(e.from)} -> ${quote(e.to)}${list ? ` [${list}]` : ""};`);
    }
    lines.push("}");
    return lines.join("\n") + "\n";
  }
}

function attrList(attrs: Attrs): string {
  return Object.entries(attrs).map(([k, v]) =>
    k === "style" && v === "dashed" || k === "shape" ? `${k}=${v}` : `${k}=${quote(v)}`
  ).join(", ");
}

/** A DOT double-quoted string. */
function quote(s: string): string {
  return `"${s.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n")}"`;
}
