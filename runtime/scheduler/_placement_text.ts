/**
 * Words of the global scheduler: checks of resource amounts and the reason a
 * request fits no node.
 *
 * @module
 */
import type { Resources } from "./resources.ts";

const EPSILON = 1e-9;

/** What the reason needs of a node. */
interface NodeTotals {
  readonly nodeId: string;
  readonly total: Readonly<Resources>;
  readonly state: string;
}

/** `{CPU: 2, GPU: 0.5}` as `CPU: 2, GPU: 0.5` (`nothing` when empty). */
export function formatResources(amounts: Readonly<Resources>): string {
  const parts = Object.entries(amounts).map(([k, v]) => `${k}: ${v}`);
  return parts.length === 0 ? "nothing" : parts.join(", ");
}

/** Throws a RangeError naming `what` and the resource unless every amount is a finite number >= 0. */
export function validateResources(what: string, amounts: Readonly<Resources>): void {
  if (amounts === null || typeof amounts !== "object") {
    throw new TypeError(`Invalid ${what}: ${String(amounts)} (must be an object of amounts)`);
  }
  for (const name in amounts) {
    const v = amounts[name];
    if (typeof v !== "number" || !Number.isFinite(v) || v < 0) {
      throw new RangeError(
        `Invalid ${what}: ${name} is ${String(v)} (must be a finite number >= 0)`,
      );
    }
  }
}

/**
 * Why no node can run `demand`: each resource that even the largest node
 * lacks, with that node; or, when every resource exists somewhere but never
 * all on one node, what the closest node lacks.
 *
 * @param nodes the alive and draining nodes
 * @param dead how many nodes died
 */
export function describeInfeasible(
  demand: Readonly<Resources>,
  nodes: readonly NodeTotals[],
  dead: number,
): string {
  const alive = nodes.filter((n) => n.state === "alive");
  if (alive.length === 0) {
    const draining = nodes.length - alive.length;
    return `no alive node takes work (${draining} draining, ${dead} dead); asks ${
      formatResources(demand)
    }`;
  }
  const missing: string[] = [];
  for (const [name, amount] of Object.entries(demand)) {
    let largest = alive[0];
    for (const n of alive) if ((n.total[name] ?? 0) > (largest.total[name] ?? 0)) largest = n;
    const has = largest.total[name] ?? 0;
    if (amount > has + EPSILON) {
      missing.push(
        has === 0
          ? `${name} (asks ${amount}; no node has any)`
          : `${name} (asks ${amount}; the largest node ${largest.nodeId} has ${has})`,
      );
    }
  }
  if (missing.length > 0) return `no node has enough ${missing.join(", ")}`;
  let closest = alive[0];
  let closestLacks: string[] = [];
  for (const n of alive) {
    const lacks = Object.entries(demand)
      .filter(([name, amount]) => amount > (n.total[name] ?? 0) + EPSILON)
      .map(([name, amount]) => `${name} ${amount - (n.total[name] ?? 0)}`);
    if (closest === n || lacks.length < closestLacks.length) {
      closest = n;
      closestLacks = lacks;
    }
  }
  return `no single node has all of ${
    formatResources(demand)
  }; the closest, ${closest.nodeId}, lacks ${closestLacks.join(", ")}`;
}
