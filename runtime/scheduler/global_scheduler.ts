/**
 * The global scheduler: where a task or actor goes when the node it was
 * submitted on cannot run it (it lacks a resource) or should not (its queue
 * is over the spillback length). Pure like the local scheduler: node joins,
 * reports and deaths go in as method calls, decisions come back as values;
 * the clock is passed in and the random numbers come from an injectable
 * source.
 *
 * Rules, in order (docs/ARCHITECTURE.md, "Global scheduler"):
 * 1. Candidates are the alive, not draining nodes whose totals hold the demand.
 * 2. `{ nodeId }` affinity: that node if it is a candidate; else a hard
 *    affinity fails naming why, a soft one falls back to rule 3.
 * 3. `"SPREAD"`: round robin by node id over the candidates that have the
 *    demand free now, else over all candidates.
 * 4. `"DEFAULT"` task with argument bytes on some candidates that are not
 *    over the spillback length: the one holding the most bytes.
 * 5. Otherwise the least loaded candidate: first those with the demand free
 *    now, then by load (critical resource utilization after placing it, plus
 *    queued tasks per CPU); the forwarding node loses ties; remaining ties
 *    are broken at random. On a big cluster the scan starts at a random node
 *    and stops after `scanLimit` candidates with the demand free.
 * No candidate: the request fails with a reason naming each missing resource
 * and the largest node, or waits until a node joins that can run it.
 *
 * @module
 */
import type { NodeId } from "../common/mod.ts";
import type { SchedulingStrategy } from "../protocol/mod.ts";
import type { Resources } from "./resources.ts";
import { describeInfeasible, formatResources, validateResources } from "./_placement_text.ts";

const EPSILON = 1e-9;

/** A node's life: taking work, finishing what it has before leaving, or gone for good. */
export type NodeState = "alive" | "draining" | "dead";

/** A node as it joins. */
export interface NodeJoin {
  /** Unique for the cluster's life: a dead node never comes back under its id. */
  readonly nodeId: NodeId;
  /** Where others reach it (`host:port`). */
  readonly address: string;
  /** Resources it offers (`CPU`, fractional amounts allowed, and custom ones). */
  readonly total: Readonly<Resources>;
}

/** A node's periodic report (its heartbeat). */
export interface NodeReport {
  /** Resources free on the node now (what its running tasks and actors do not hold). */
  readonly available: Readonly<Resources>;
  /** Tasks queued on the node that are not running yet. */
  readonly queueLength: number;
  /** When the node sent it (the caller's clock, milliseconds); older reports are ignored. */
  readonly at: number;
}

/** What the global scheduler knows of a node. */
export interface NodeView extends NodeJoin {
  readonly available: Readonly<Resources>;
  readonly queueLength: number;
  readonly state: NodeState;
  /** Time of the join or of the newest report. */
  readonly lastHeartbeat: number;
  /** Actors placed on it that still live. */
  readonly actors: number;
}

/** A task or actor to place. */
export interface PlacementRequest {
  /** Task or actor id: names it in reasons, in the waiting queue and (for actors) in its hold. */
  readonly id: string;
  /** What it asks for (its CPUs included). */
  readonly demand: Readonly<Resources>;
  /** `"DEFAULT"` when absent. */
  readonly strategy?: SchedulingStrategy;
  /** The node that forwarded it: it loses ties. */
  readonly from?: NodeId;
  /** Bytes of the task's arguments already on each node (ignored for actors and other strategies). */
  readonly localityBytes?: ReadonlyMap<NodeId, number>;
  /** When no node could ever run it: fail now, or wait for a node that can to join. */
  readonly ifInfeasible?: "fail" | "wait";
}

/** Which rule chose the node. */
export type PlacementRule = "affinity" | "spread" | "locality" | "load";

/** What to do with a request. */
export type Decision =
  /** Send it to this node (its resources are counted as taken there until the node reports). */
  | {
    readonly type: "place";
    readonly id: string;
    readonly nodeId: NodeId;
    readonly address: string;
    readonly rule: PlacementRule;
  }
  /** No node can run it: fail it with `reason`. */
  | { readonly type: "infeasible"; readonly id: string; readonly reason: string }
  /** No node can run it now; it is parked until a node joins that can (`reason` says why). */
  | { readonly type: "waiting"; readonly id: string; readonly reason: string };

/** Tuning of the global scheduler. */
export interface GlobalSchedulerOptions {
  /** Random numbers in [0, 1) for tie-breaks (default `Math.random`; tests pass a seeded one). */
  readonly random?: () => number;
  /** Queued tasks beyond which a node should spill its newest and locality no longer draws to it. */
  readonly spillbackQueueLength?: number;
  /** A node without a report for this long is dead (see `expire`). */
  readonly heartbeatTimeoutMs?: number;
  /** Default of `PlacementRequest.ifInfeasible`. */
  readonly ifInfeasible?: "fail" | "wait";
  /**
   * Rule 5 on a big cluster: stop after this many nodes with the demand free,
   * scanning from a random node (default 64). All nodes are scanned when
   * fewer have the demand free, so a free node is never missed.
   */
  readonly scanLimit?: number;
}

interface NodeRecord {
  readonly nodeId: NodeId;
  readonly address: string;
  readonly total: Resources;
  available: Resources;
  queueLength: number;
  state: NodeState;
  lastHeartbeat: number;
  /** CPUs used to weigh the queue (at least 1). */
  readonly cpuWeight: number;
  readonly actors: Set<string>;
}

interface ActorHold {
  readonly node: NodeRecord;
  readonly demand: Resources;
}

interface Parked {
  readonly request: PlacementRequest;
  readonly kind: "task" | "actor";
}

/** The placement state machine. */
export class GlobalScheduler {
  readonly #random: () => number;
  readonly #spillbackQueueLength: number;
  readonly #heartbeatTimeoutMs: number;
  readonly #ifInfeasible: "fail" | "wait";
  readonly #scanLimit: number;
  /** Each demand object's entries, checked once (calls of one function share it). */
  readonly #entries = new WeakMap<object, [string, number][]>();
  readonly #nodes = new Map<NodeId, NodeRecord>();
  /** Alive and draining nodes, sorted by id (the order of SPREAD). */
  #order: NodeRecord[] = [];
  #spreadNext = 0;
  readonly #actors = new Map<string, ActorHold>();
  #parked: Parked[] = [];
  /** Scratch lists reused by every decision. */
  readonly #best: NodeRecord[] = [];

  /**
   * @param options tie-break randomness, spillback length, heartbeat timeout, infeasible default
   * @example
   * ```ts
   * import { GlobalScheduler } from "./global_scheduler.ts";
   * const gs = new GlobalScheduler({ random: () => 0 });
   * gs.addNode({ nodeId: "n1" as never, address: "10.0.0.1:6380", total: { CPU: 4 } }, 0);
   * const d = gs.place({ id: "t1", demand: { CPU: 1 } });
   * console.assert(d.type === "place" && d.nodeId === "n1");
   * ```
   */
  constructor(options: GlobalSchedulerOptions = {}) {
    this.#random = options.random ?? Math.random;
    this.#spillbackQueueLength = options.spillbackQueueLength ?? 1000;
    this.#heartbeatTimeoutMs = options.heartbeatTimeoutMs ?? 15_000;
    this.#ifInfeasible = options.ifInfeasible ?? "fail";
    this.#scanLimit = options.scanLimit ?? 64;
    if (!(this.#scanLimit >= 1)) {
      throw new RangeError(`Invalid scanLimit: ${options.scanLimit} (must be >= 1)`);
    }
    if (!(this.#spillbackQueueLength >= 0)) {
      throw new RangeError(
        `Invalid spillbackQueueLength: ${options.spillbackQueueLength} (must be >= 0)`,
      );
    }
    if (!(this.#heartbeatTimeoutMs > 0)) {
      throw new RangeError(
        `Invalid heartbeatTimeoutMs: ${options.heartbeatTimeoutMs} (must be > 0)`,
      );
    }
  }

  /**
   * A node joins with all its resources free.
   * @param now the caller's clock (its first heartbeat)
   * @returns decisions for parked requests that this node can run
   */
  addNode(join: NodeJoin, now: number): Decision[] {
    if (typeof join.nodeId !== "string" || join.nodeId === "") {
      throw new TypeError(
        `Invalid node id: ${JSON.stringify(join.nodeId)} (must be a non-empty string)`,
      );
    }
    const known = this.#nodes.get(join.nodeId);
    if (known) {
      throw new Error(
        `Cannot add node ${join.nodeId}: the id is already ${
          known.state === "dead" ? "used by a dead node" : "in use"
        }`,
      );
    }
    validateResources(`node ${join.nodeId} total`, join.total);
    const total = { ...join.total };
    const rec: NodeRecord = {
      nodeId: join.nodeId,
      address: join.address,
      total,
      available: { ...total },
      queueLength: 0,
      state: "alive",
      lastHeartbeat: now,
      cpuWeight: Math.max(1, total.CPU ?? 0),
      actors: new Set(),
    };
    this.#nodes.set(rec.nodeId, rec);
    let at = this.#order.findIndex((n) => n.nodeId > rec.nodeId);
    if (at < 0) at = this.#order.length;
    this.#order.splice(at, 0, rec);
    if (at < this.#spreadNext) this.#spreadNext++;
    return this.#retryParked();
  }

  /**
   * A node's report: its free resources and queue replace what was counted here.
   * @returns false when the node is unknown or dead, or the report is older than the last one
   */
  report(nodeId: NodeId, report: NodeReport): boolean {
    const rec = this.#nodes.get(nodeId);
    if (!rec || rec.state === "dead" || report.at < rec.lastHeartbeat) return false;
    validateResources(`report of node ${nodeId}`, report.available);
    if (!(report.queueLength >= 0)) {
      throw new RangeError(
        `Invalid report of node ${nodeId}: queueLength is ${report.queueLength} (must be >= 0)`,
      );
    }
    rec.available = { ...report.available };
    rec.queueLength = report.queueLength;
    rec.lastHeartbeat = report.at;
    return true;
  }

  /** The node takes no new work (rule 1); false when it is unknown or dead. */
  drain(nodeId: NodeId): boolean {
    const rec = this.#nodes.get(nodeId);
    if (!rec || rec.state === "dead") return false;
    rec.state = "draining";
    return true;
  }

  /**
   * The node is gone for good.
   * @returns the ids of the actors that lived on it (their holds are dropped), or undefined when it was unknown or already dead
   */
  nodeDied(nodeId: NodeId): string[] | undefined {
    const rec = this.#nodes.get(nodeId);
    if (!rec || rec.state === "dead") return undefined;
    rec.state = "dead";
    const at = this.#order.indexOf(rec);
    this.#order.splice(at, 1);
    if (at < this.#spreadNext) this.#spreadNext--;
    const actors = [...rec.actors];
    for (const id of actors) this.#actors.delete(id);
    rec.actors.clear();
    return actors;
  }

  /**
   * Declares dead every node whose last heartbeat is older than the timeout.
   * @returns each such node with the actors that lived on it
   */
  expire(now: number): { nodeId: NodeId; actors: string[] }[] {
    const late = this.#order.filter((n) => now - n.lastHeartbeat > this.#heartbeatTimeoutMs);
    return late.map((n) => ({ nodeId: n.nodeId, actors: this.nodeDied(n.nodeId) ?? [] }));
  }

  /**
   * Whether a node should hand a task to the global scheduler.
   * @returns "infeasible" when the node lacks the demand, "draining" when it takes no new work,
   * "busy" when its queue is over the spillback length, else undefined
   */
  spillReason(
    nodeId: NodeId,
    demand: Readonly<Resources>,
  ): "infeasible" | "draining" | "busy" | undefined {
    const rec = this.#nodes.get(nodeId);
    if (!rec || rec.state === "dead") {
      throw new Error(`Cannot judge spillback: node ${nodeId} is ${rec ? "dead" : "unknown"}`);
    }
    if (!holds(rec.total, Object.entries(demand))) return "infeasible";
    if (rec.state === "draining") return "draining";
    return rec.queueLength > this.#spillbackQueueLength ? "busy" : undefined;
  }

  /** Places a task (rules 1 to 5); a placed task counts as queued on its node until the node reports. */
  place(request: PlacementRequest): Decision {
    return this.#decide(request, "task");
  }

  /**
   * Places an actor (rules 1 to 3 and 5: no locality); its demand stays held
   * on the node for the actor's life, until `actorGone` or the node's death.
   */
  placeActor(request: PlacementRequest): Decision {
    if (this.#actors.has(request.id)) {
      throw new Error(`Cannot place actor ${request.id}: it is already placed`);
    }
    return this.#decide(request, "actor");
  }

  /** The actor ended: its node gets its demand back. False when it holds nothing here. */
  actorGone(actorId: string): boolean {
    const hold = this.#actors.get(actorId);
    if (!hold) return false;
    this.#actors.delete(actorId);
    hold.node.actors.delete(actorId);
    add(hold.node.available, hold.demand, 1);
    return true;
  }

  /** Drops a parked request (its task was cancelled); false when it was not parked. */
  cancelWaiting(id: string): boolean {
    const before = this.#parked.length;
    this.#parked = this.#parked.filter((p) => p.request.id !== id);
    return this.#parked.length < before;
  }

  /** Ids of the parked requests, oldest first. */
  waiting(): string[] {
    return this.#parked.map((p) => p.request.id);
  }

  /** Every node the scheduler has known, dead ones included, sorted by id. */
  nodes(): NodeView[] {
    return [...this.#nodes.values()]
      .sort((a, b) => (a.nodeId < b.nodeId ? -1 : a.nodeId > b.nodeId ? 1 : 0))
      .map((n) => ({
        nodeId: n.nodeId,
        address: n.address,
        total: { ...n.total },
        available: { ...n.available },
        queueLength: n.queueLength,
        state: n.state,
        lastHeartbeat: n.lastHeartbeat,
        actors: n.actors.size,
      }));
  }

  /** Sum of the totals (`which: "total"`) or of the free resources of the alive and draining nodes. */
  resources(which: "total" | "available"): Resources {
    const sum: Resources = {};
    for (const n of this.#order) add(sum, which === "total" ? n.total : n.available, 1);
    return sum;
  }

  #decide(request: PlacementRequest, kind: "task" | "actor"): Decision {
    let entries = this.#entries.get(request.demand);
    if (entries === undefined) {
      validateResources(`demand of ${kind} ${request.id}`, request.demand);
      entries = Object.entries(request.demand);
      this.#entries.set(request.demand, entries);
    }
    const strategy = request.strategy ?? "DEFAULT";
    let node: NodeRecord | undefined;
    let rule: PlacementRule = "load";
    if (typeof strategy === "object") {
      const target = this.#nodes.get(strategy.nodeId);
      const why = target === undefined
        ? "is unknown"
        : target.state !== "alive"
        ? `is ${target.state}`
        : holds(target.total, entries)
        ? undefined
        : `cannot hold ${formatResources(request.demand)} (it has ${
          formatResources(target.total)
        })`;
      if (why === undefined) {
        node = target;
        rule = "affinity";
      } else if (!strategy.soft) {
        return {
          type: "infeasible",
          id: request.id,
          reason: `Cannot place ${kind} ${request.id}: its affinity node ${strategy.nodeId} ${why}`,
        };
      }
    } else if (strategy === "SPREAD") {
      node = this.#spread(entries);
      rule = "spread";
    } else if (strategy !== "DEFAULT") {
      throw new TypeError(
        `Invalid scheduling strategy of ${kind} ${request.id}: ${JSON.stringify(strategy)}`,
      );
    }
    if (node === undefined && kind === "task" && strategy === "DEFAULT" && request.localityBytes) {
      node = this.#byLocality(request, entries);
      if (node) rule = "locality";
    }
    if (node === undefined) {
      node = this.#leastLoaded(request, entries);
      rule = "load";
    }
    if (node === undefined) return this.#noNode(request, kind);
    add(node.available, request.demand, -1);
    if (kind === "actor") {
      node.actors.add(request.id);
      this.#actors.set(request.id, { node, demand: { ...request.demand } });
    } else {
      node.queueLength++;
    }
    return { type: "place", id: request.id, nodeId: node.nodeId, address: node.address, rule };
  }

  /** Rule 3: the next candidate by id after the last one chosen, preferring those with the demand free. */
  #spread(entries: [string, number][]): NodeRecord | undefined {
    const n = this.#order.length;
    for (const needFree of [true, false]) {
      for (let i = 0; i < n; i++) {
        const at = (this.#spreadNext + i) % n;
        const rec = this.#order[at];
        if (rec.state !== "alive" || !holds(rec.total, entries)) continue;
        if (needFree && !holds(rec.available, entries)) continue;
        this.#spreadNext = (at + 1) % n;
        return rec;
      }
    }
    return undefined;
  }

  /** Rule 4: the candidate not over the spillback length that holds the most argument bytes. */
  #byLocality(request: PlacementRequest, entries: [string, number][]): NodeRecord | undefined {
    let most = 0;
    const best = this.#best;
    best.length = 0;
    for (const [nodeId, bytes] of request.localityBytes!) {
      if (!(bytes > 0) || bytes < most) continue;
      const rec = this.#nodes.get(nodeId);
      if (!rec || rec.state !== "alive" || rec.queueLength > this.#spillbackQueueLength) continue;
      if (!holds(rec.total, entries)) continue;
      if (bytes > most) {
        most = bytes;
        best.length = 0;
      }
      best.push(rec);
    }
    if (best.length <= 1) return best[0];
    return this.#leastLoaded(request, entries, [...best]);
  }

  /**
   * Rule 5 over `among` (default: every node). Past `scanLimit` nodes with
   * the demand free it stops, having started at a random node.
   */
  #leastLoaded(
    request: PlacementRequest,
    entries: [string, number][],
    among: NodeRecord[] = this.#order,
  ): NodeRecord | undefined {
    const best = this.#best;
    best.length = 0;
    let bestTier = 2;
    let bestLoad = Infinity;
    let fromNode: NodeRecord | undefined;
    const n = among.length;
    const start = n > this.#scanLimit ? Math.floor(this.#random() * n) % n : 0;
    let free = 0;
    for (let i = 0; i < n && free < this.#scanLimit; i++) {
      const at = start + i;
      const rec = among[at < n ? at : at - n];
      if (rec.state !== "alive" || !holds(rec.total, entries)) continue;
      const tier = holds(rec.available, entries) ? 0 : 1;
      if (tier === 0) free++;
      if (tier > bestTier) continue;
      const load = loadAfter(rec, entries);
      if (tier < bestTier || load < bestLoad - EPSILON) {
        bestTier = tier;
        bestLoad = load;
        best.length = 0;
        fromNode = undefined;
      } else if (load > bestLoad + EPSILON) continue;
      if (rec.nodeId === request.from) fromNode = rec;
      else best.push(rec);
    }
    if (best.length === 0) return fromNode;
    return best.length === 1
      ? best[0]
      : best[Math.floor(this.#random() * best.length) % best.length];
  }

  /** No candidate: fail, or park until a node joins. */
  #noNode(request: PlacementRequest, kind: "task" | "actor"): Decision {
    const reason = `Cannot place ${kind} ${request.id}: ${
      describeInfeasible(request.demand, this.#order, this.#nodes.size - this.#order.length)
    }`;
    if ((request.ifInfeasible ?? this.#ifInfeasible) === "fail") {
      return { type: "infeasible", id: request.id, reason };
    }
    if (!this.#parked.some((p) => p.request.id === request.id)) {
      this.#parked.push({ request, kind });
    }
    return { type: "waiting", id: request.id, reason };
  }

  /** Places the parked requests that a node now fits, oldest first. */
  #retryParked(): Decision[] {
    if (this.#parked.length === 0) return [];
    const parked = this.#parked;
    this.#parked = [];
    const out: Decision[] = [];
    for (const p of parked) {
      const decision = this.#decide(p.request, p.kind);
      if (decision.type !== "waiting") out.push(decision);
    }
    return out;
  }
}

/** True when `amounts` holds every demanded amount. */
function holds(amounts: Readonly<Resources>, entries: [string, number][]): boolean {
  for (let i = 0; i < entries.length; i++) {
    const [name, amount] = entries[i];
    if (amount > (amounts[name] ?? 0) + EPSILON) return false;
  }
  return true;
}

/**
 * A node's load if it took the demand: the highest utilization among the
 * demanded resources and CPU, plus its queued tasks per CPU.
 */
function loadAfter(rec: NodeRecord, entries: [string, number][]): number {
  let util = 0;
  const cpuTotal = rec.total.CPU ?? 0;
  if (cpuTotal > 0) util = (cpuTotal - (rec.available.CPU ?? 0)) / cpuTotal;
  for (let i = 0; i < entries.length; i++) {
    const [name, amount] = entries[i];
    const total = rec.total[name] ?? 0;
    if (total <= 0) continue;
    const u = (total - (rec.available[name] ?? 0) + amount) / total;
    if (u > util) util = u;
  }
  return util + rec.queueLength / rec.cpuWeight;
}

/** Adds `sign` x `delta` into `into` (a node's view may go below zero until it reports). */
function add(into: Resources, delta: Readonly<Resources>, sign: 1 | -1): void {
  for (const name in delta) {
    const next = (into[name] ?? 0) + sign * delta[name];
    into[name] = Math.abs(next) < EPSILON ? 0 : next;
  }
}
