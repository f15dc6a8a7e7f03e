/**
 * Resource arithmetic: amounts by name ("CPU", "GPU", custom).
 *
 * @module
 */

/** Amounts by resource name. */
export type Resources = Record<string, number>;

const EPSILON = 1e-9;

/** What a task asks for: its CPUs plus its custom resources. */
export function demandOf(numCpus: number, resources: Readonly<Resources>): Resources {
  return numCpus > 0 ? { ...resources, CPU: numCpus } : { ...resources };
}

/** The first resource in `demand` that `total` could never satisfy, if any. */
export function unmet(demand: Readonly<Resources>, total: Readonly<Resources>): string | undefined {
  for (const [name, amount] of Object.entries(demand)) {
    if (amount > (total[name] ?? 0) + EPSILON) return name;
  }
  return undefined;
}

/** True when `demand` fits in `total - used`. */
export function fits(
  demand: Readonly<Resources>,
  used: Readonly<Resources>,
  total: Readonly<Resources>,
): boolean {
  for (const [name, amount] of Object.entries(demand)) {
    if ((used[name] ?? 0) + amount > (total[name] ?? 0) + EPSILON) return false;
  }
  return true;
}

/** Adds `sign` x `delta` into `into`. */
export function addInto(into: Resources, delta: Readonly<Resources>, sign: 1 | -1): void {
  for (const [name, amount] of Object.entries(delta)) {
    const next = (into[name] ?? 0) + sign * amount;
    into[name] = Math.abs(next) < EPSILON ? 0 : next;
  }
}

/** True when two demands ask for the same amounts. */
export function sameShape(a: Readonly<Resources>, b: Readonly<Resources>): boolean {
  const ka = Object.keys(a);
  if (ka.length !== Object.keys(b).length) return false;
  return ka.every((k) => a[k] === b[k]);
}
