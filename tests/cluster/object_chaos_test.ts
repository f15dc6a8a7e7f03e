/**
 * A bounded chaos run across three nodes (in-process, about 20 s): random
 * puts by the driver, objects made by tasks and put inside tasks on random
 * nodes, gets by the driver, reads by tasks on random nodes (most of them
 * across nodes), and frees (disposed refs, refs merely dropped), up to
 * eight at once, every byte checked against content derived from its seed.
 * An object freed while an operation on it was under way may only fail
 * with ObjectLostError, never arrive torn. Afterwards, with every ref gone,
 * no node keeps an object or store bytes.
 *
 * The seed is printed; `RAYD_CHAOS_SEED=<seed>` repeats the same sequence of
 * operations (their interleaving still depends on timing).
 */
import assert from "node:assert/strict";
import * as ray from "../../mod.ts";
import { currentBackend } from "../../runtime/core/mod.ts";
import type { Node } from "../../runtime/node/mod.ts";
import { fnv, pattern, patternBytes } from "../fixtures/cluster_fns.ts";
import { checksumOf, putPattern, reclaimHere } from "../fixtures/transfer_fns.ts";
import { startInProcessCluster, TEST_TOKEN } from "./in_process_cluster.ts";
import { withEnv } from "../_cluster/env_lock.ts";

const KIB = 1024;
const MIB = 1024 * KIB;
const RUN_MS = Number(Deno.env.get("RAYD_CHAOS_MS") ?? 20_000);
const IN_FLIGHT = 8;
/** Live objects are freed (oldest first) while their bytes pass this. */
const LIVE_BYTES = 96 * MIB;
const NAMES = ["N0", "N1", "N2"];
/** No single operation may take longer (a hang fails the run, naming the operation). */
const OP_TIMEOUT_MS = 30_000;

/** xorshift32: the run's random choices, from its seed. */
function random(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) / 2 ** 32;
  };
}

interface Live {
  readonly ref: ray.ObjectRef<Uint8Array>;
  readonly size: number;
  readonly seed: number;
  readonly how: string;
  freed: boolean;
}

Deno.test({
  name:
    "a chaos run of puts, task-made objects, gets, cross-node reads and frees: every byte right",
  sanitizeOps: false,
  sanitizeResources: false,
  // A get of an object freed meanwhile ends as lost this soon after its copy was found gone.
  fn: () =>
    withEnv({ RAYD_PULL_DEADLINE_MS: "3000" }, async () => {
      const seed = Number(Deno.env.get("RAYD_CHAOS_SEED") ?? (Date.now() % 2 ** 31));
      console.log(`chaos seed ${seed} (RAYD_CHAOS_SEED=${seed} repeats its operations)`);
      const rand = random(seed);
      const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)];
      const size = () => {
        const r = rand();
        if (r < 0.5) return 1 + Math.floor(rand() * 100 * KIB); // inline
        if (r < 0.85) return 100 * KIB + Math.floor(rand() * 2 * MIB);
        return 2 * MIB + Math.floor(rand() * 14 * MIB); // several chunks
      };
      const c = await startInProcessCluster({ numWorkers: 1, resources: { N0: 1 } }, [
        { numWorkers: 1, resources: { N1: 1 }, objectStoreMemory: 192 * MIB },
        { numWorkers: 1, resources: { N2: 1 }, objectStoreMemory: 192 * MIB },
      ]);
      const counts: Record<string, number> = {};
      const count = (what: string) => counts[what] = (counts[what] ?? 0) + 1;
      try {
        await ray.init({ address: c.address, token: TEST_TOKEN, objectStoreMemory: 192 * MIB });
        const driver = currentBackend() as Node;
        const nodes = [c.head, ...c.nodes].map((p) => p.node);
        const baseline = nodes.map((n) => n.arena.used);
        try {
          let live: Live[] = [];
          let liveBytes = 0;
          let nextSeed = seed;
          const add = (entry: Live) => {
            live.push(entry);
            liveBytes += entry.size;
          };
          const free = (entry: Live, dispose: boolean) => {
            if (entry.freed) return;
            entry.freed = true;
            live = live.filter((e) => e !== entry);
            liveBytes -= entry.size;
            if (dispose) entry.ref[Symbol.dispose]();
            count(dispose ? "free (dispose)" : "free (drop)");
          };
          /** Checks what an operation on `entry` got: its bytes' checksum, or why it failed. */
          const check = async (entry: Live, what: string, got: Promise<number>) => {
            try {
              const sum = await got;
              assert.equal(
                sum,
                fnv(patternBytes(entry.size, entry.seed)),
                `${what} of ${entry.how} (${entry.size} bytes, seed ${entry.seed})`,
              );
              count(what.replace(/ on N\d$/, ""));
            } catch (err) {
              if (err instanceof assert.AssertionError) {
                console.error(`chaos seed ${seed}: ${err.message}`);
                throw err;
              }
              const lost = err instanceof ray.ObjectLostError ||
                String((err as Error)?.message).includes("ObjectLostError");
              if (!(entry.freed && lost)) {
                console.error(`chaos seed ${seed}: ${what} of ${entry.how} failed: ${err}`);
                throw new Error(
                  `${what} of ${entry.how} (${entry.size} bytes, seed ${entry.seed}, ` +
                    `${entry.freed ? "freed meanwhile" : "live"}) failed: ${err}`,
                  { cause: err },
                );
              }
              count(`${what.replace(/ on N\d$/, "")}: lost, freed meanwhile`);
            }
          };
          const operation = async (): Promise<void> => {
            const r = rand();
            if (live.length < 4 || r < 0.3) {
              const n = size();
              const s = ++nextSeed;
              const node = pick(NAMES);
              const kind = rand();
              if (kind < 0.35) {
                add({
                  ref: ray.put(patternBytes(n, s)),
                  size: n,
                  seed: s,
                  how: "a put",
                  freed: false,
                });
                count("put");
              } else if (kind < 0.7) {
                const ref = pattern.options({ resources: { [node]: 1 } }).remote(n, s);
                add({ ref, size: n, seed: s, how: `a task's return on ${node}`, freed: false });
                count("task-made");
              } else {
                const holder = putPattern.options({ resources: { [node]: 1 } }).remote(n, s);
                const { ref } = await ray.get(holder, { timeoutMs: OP_TIMEOUT_MS });
                holder[Symbol.dispose]();
                add({ ref, size: n, seed: s, how: `a put in a task on ${node}`, freed: false });
                count("put in a task");
              }
              while (liveBytes > LIVE_BYTES) free(live[0], true);
              return;
            }
            const entry = pick(live);
            if (r < 0.55) {
              const node = pick(NAMES);
              const read = checksumOf.options({ resources: { [node]: 1 } }).remote({
                ref: entry.ref,
              });
              const sum = ray.get(read, { timeoutMs: OP_TIMEOUT_MS }).then((s) => s.sum);
              return check(entry, `read by a task on ${node}`, sum);
            }
            if (r < 0.8) {
              const sum = ray.get(entry.ref, { timeoutMs: OP_TIMEOUT_MS }).then((b) => fnv(b));
              return check(entry, "get by the driver", sum);
            }
            free(entry, rand() < 0.8);
          };
          const deadline = Date.now() + RUN_MS;
          const workers = Array.from({ length: IN_FLIGHT }, async () => {
            while (Date.now() < deadline) await operation();
          });
          await Promise.all(workers);
          console.log(`chaos seed ${seed}: ${JSON.stringify(counts)}`);
          for (const entry of [...live]) free(entry, true);
        } finally {
          await ray.shutdown().catch(() => {});
        }
        assert.ok((counts["read by a task"] ?? 0) > 20, "tasks read objects");
        assert.ok((counts["get by the driver"] ?? 0) > 20, "the driver got objects");
        // With every ref gone (the driver's shut down), the nodes let go of every object.
        await ray.init({ address: c.address, token: TEST_TOKEN });
        try {
          const until = Date.now() + 15_000;
          let now = "";
          for (;;) {
            await ray.get(
              NAMES.map((r) => reclaimHere.options({ resources: { [r]: 1 } }).remote()),
            );
            now = JSON.stringify(nodes.map((n) => [n.objectCounts().stored, n.arena.used]));
            if (
              nodes.every((n, k) => n.objectCounts().stored <= 1 && n.arena.used === baseline[k])
            ) {
              break;
            }
            assert.ok(
              Date.now() < until,
              `nodes keep [objects, store bytes] ${now} (seed ${seed})`,
            );
            await new Promise((r) => setTimeout(r, 200));
          }
          assert.ok(driver !== currentBackend(), "a new driver");
        } finally {
          await ray.shutdown();
        }
      } finally {
        await c.stop();
      }
    }),
});
