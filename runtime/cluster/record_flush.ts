/**
 * Writing every process's queued control-store records before a read that
 * must see them (`ray.graph`, `ray.timeline` in cluster mode). Each node
 * batches its records (`gcsFlushIntervalMs`, and `gcsTaskHoldMs` when set),
 * so a driver that reads right after a `get` would miss the tasks the nodes
 * have not written yet: it asks every live node to flush (`flushRecords`)
 * and flushes its own store, all at once.
 *
 * @module
 */
import type { ClusterState } from "../protocol/mod.ts";
import type { ClusterSide } from "../node/mod.ts";
import { MSG } from "./messages.ts";
import type { Peers } from "./peers.ts";

/** How long one node may take to write its records (a Redis that is down: the read goes on). */
const FLUSH_TIMEOUT_MS = 10_000;

/**
 * Flushes this process's store and every other live node's. A node that
 * cannot be asked or fails to write (dead, Redis away) is passed over: the
 * read that follows shows what was written.
 */
export async function flushEverywhere(
  side: Pick<ClusterSide, "flushRecords">,
  state: () => Promise<ClusterState>,
  peers: Peers,
  self: string,
): Promise<void> {
  const { nodes } = await state();
  const others = nodes.filter((n) => n.alive && n.address !== self);
  await Promise.all([
    side.flushRecords().catch(() => {}),
    ...others.map(async (n) => {
      try {
        const rpc = await peers.get(n.address);
        await rpc.request(MSG.flushRecords, 0, undefined, { timeoutMs: FLUSH_TIMEOUT_MS });
      } catch {
        // Passed over (see above).
      }
    }),
  ]);
}
