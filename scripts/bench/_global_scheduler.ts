/**
 * The global scheduler alone, on simulated nodes: how many placement
 * decisions per second it makes. No processes, no I/O: the nodes are
 * records that report now and then, the tasks a mix of strategies.
 *
 * @module
 */
import type { NodeId } from "../../runtime/common/mod.ts";
import {
  GlobalScheduler,
  type PlacementRequest,
  type Resources,
} from "../../runtime/scheduler/mod.ts";

/** What one simulation did. */
export interface GlobalSchedulerRun {
  nodes: number;
  decisions: number;
  placed: number;
  infeasible: number;
  seconds: number;
  decisionsPerSecond: number;
}

/** A seeded generator, so every run simulates the same cluster and tasks. */
function seeded(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 4294967296;
  };
}

/**
 * Places `decisions` spilled tasks on `nodes` simulated nodes: 70% DEFAULT
 * with argument bytes on two nodes, 10% DEFAULT without, 10% SPREAD, 5%
 * affinity, 5% actors (each ended right after); 1 in 20 ask for a GPU that
 * a quarter of the nodes have, fractional CPUs throughout. After each
 * decision the next node in turn reports all its resources free again (the
 * tasks finish as fast as they come); the reports are part of the timed loop.
 *
 * @param sample called every 10,000 decisions (the caller's memory sampler)
 */
export function runGlobalScheduler(
  nodes: number,
  decisions: number,
  sample: () => void = () => {},
): GlobalSchedulerRun {
  const random = seeded(42);
  const gs = new GlobalScheduler({ random, spillbackQueueLength: 64 });
  const ids: NodeId[] = [];
  const totals: Record<string, number>[] = [];
  for (let i = 0; i < nodes; i++) {
    const nodeId = `node${String(i).padStart(5, "0")}` as NodeId;
    const total: Record<string, number> = { CPU: 4 * (1 + (i % 8)), memory: 2 ** 34 };
    if (i % 4 === 0) total.GPU = 1 + (i % 3);
    ids.push(nodeId);
    totals.push(total);
    gs.addNode({ nodeId, address: `198.18.${i >> 8}.${i & 255}:6380`, total }, 0);
  }
  // A few shapes, shared like the options object of one remote function.
  const cpu: Resources[] = [{ CPU: 1 }, { CPU: 0.5 }, { CPU: 2 }, { CPU: 0.25, memory: 2 ** 30 }];
  const gpu: Resources = { CPU: 1, GPU: 1 };
  let placed = 0;
  let infeasible = 0;
  let reporter = 0;
  const start = performance.now();
  for (let i = 0; i < decisions; i++) {
    const roll = random();
    const demand = i % 20 === 0 ? gpu : cpu[i & 3];
    let request: PlacementRequest;
    if (roll < 0.7) {
      const a = ids[Math.floor(random() * nodes)];
      const b = ids[Math.floor(random() * nodes)];
      const localityBytes = new Map([[a, 1 << 20], [b, 4 << 20]]);
      request = { id: `t${i}`, demand, localityBytes, from: a };
    } else if (roll < 0.8) {
      request = { id: `t${i}`, demand, from: ids[i % nodes] };
    } else if (roll < 0.9) {
      request = { id: `t${i}`, demand, strategy: "SPREAD" };
    } else if (roll < 0.95) {
      request = { id: `t${i}`, demand, strategy: { nodeId: ids[i % nodes], soft: true } };
    } else {
      request = { id: `a${i}`, demand };
    }
    const decision = roll < 0.95 ? gs.place(request) : gs.placeActor(request);
    if (decision.type === "place") placed++;
    else infeasible++;
    if (roll >= 0.95 && decision.type === "place") gs.actorGone(request.id);
    const n = reporter++ % nodes;
    gs.report(ids[n], { available: totals[n], queueLength: i % 7, at: i });
    if (i % 10_000 === 0) sample();
  }
  const seconds = (performance.now() - start) / 1000;
  return { nodes, decisions, placed, infeasible, seconds, decisionsPerSecond: decisions / seconds };
}
