/**
 * `deno run -A scripts/bench/pull_profile.ts`: where the time of a pull
 * goes, outside the cluster machinery. A child process holds one object in
 * its store and answers `fetch` requests as a node does (runtime/cluster's
 * `serveFetch`); this process pulls it into its own store with
 * `fetchObject`, for several chunk sizes and chunks in flight, into a
 * store whose pages were touched before (as a node's store after its first
 * objects) and into fresh pages. Beside it: raw TCP into a reused buffer
 * and into the store (what the wire allows), and a memcpy into fresh store
 * pages (what first touches cost).
 *
 * ```sh
 * deno run -A scripts/bench/pull_profile.ts [--mib 256] [--rounds 5] [--chunks 1,4,8,16] [--inflight 1,2,4,8] \
 *   [--stores touched,fresh] (fresh: a new store per pull, about 3 s per GiB here; few rounds)
 * ```
 *
 * @module
 */
import { parseArgs } from "node:util";
import type { ObjectId } from "../../runtime/common/mod.ts";
import { SharedArena } from "../../runtime/object_store/mod.ts";
import { dialFrames, FrameRpc, listenFrames } from "../../runtime/transport/mod.ts";
import type { ClusterSide } from "../../runtime/node/mod.ts";
import { fetchObject, MSG, type PullMemory, serveFetch } from "../../runtime/cluster/mod.ts";

const MIB = 1024 * 1024;
const TOKEN = "pull-profile-token-0123456789";
const ID = "pulled" as ObjectId;

async function serve(mib: number): Promise<void> {
  const arena = new SharedArena({ initialBytes: 64 * MIB, maxBytes: (mib + 64) * MIB });
  const bytes = arena.alloc(mib * MIB).fill(7);
  const side = {
    readSpilled: () => undefined,
    readObject: (id: ObjectId) =>
      Promise.resolve(
        id === ID ? { bytes, error: false, contained: [], done: () => {} } : undefined,
      ),
  } as unknown as ClusterSide;
  const listener = await listenFrames({
    hostname: "127.0.0.1",
    port: 0,
    token: TOKEN,
    role: "node",
    onConnection: (conn) =>
      new FrameRpc(conn, {
        onRequest: (frame) => {
          if (frame.type !== MSG.fetch) throw new TypeError(`type ${frame.type}`);
          return serveFetch(side, () => [], frame.message as never);
        },
      }),
  });
  // Raw TCP for the wire's own limit: the child writes `mib` MiB from its store per request byte.
  const raw = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  (async () => {
    for await (const conn of raw) {
      (async () => {
        const one = new Uint8Array(1);
        while (await conn.read(one) === 1) {
          for (let off = 0; off < bytes.length;) off += await conn.write(bytes.subarray(off));
        }
      })().catch(() => {});
    }
  })();
  console.log(JSON.stringify({ port: listener.addr.port, raw: raw.addr.port }));
  await new Promise(() => {});
}

function memoryOf(arena: SharedArena): PullMemory {
  return {
    now: (size) => arena.tryAlloc(size),
    later: (size) => Promise.resolve(arena.alloc(size)),
    free: (bytes) => arena.free(arena.locate(bytes)!),
  };
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    args: Deno.args,
    options: {
      serve: { type: "string" },
      mib: { type: "string", default: "256" },
      rounds: { type: "string", default: "5" },
      chunks: { type: "string", default: "16" },
      inflight: { type: "string", default: "1" },
      stores: { type: "string", default: "touched" },
      pause: { type: "string", default: "0" },
    },
  });
  if (values.serve) return serve(Number(values.serve));
  const mib = Number(values.mib);
  const rounds = Number(values.rounds);
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", new URL(import.meta.url).pathname, "--serve", String(mib)],
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let line = "";
  while (!line.includes("\n")) line += (await reader.read()).value ?? "";
  const ports = JSON.parse(line) as { port: number; raw: number };
  const gb = (mib * MIB) / 1e9;
  const report = (what: string, secs: number[]) =>
    console.log(
      `${what.padEnd(48)} ${(gb / median(secs)).toFixed(2)} GB/s  (${
        secs.map((s) => (gb / s).toFixed(2)).join(" ")
      })`,
    );
  try {
    // The wire: raw TCP from the child's store into a reused 1 MiB buffer, and into a reused store region.
    const raw = await Deno.connect({ hostname: "127.0.0.1", port: ports.raw });
    const small = new Uint8Array(MIB);
    const store = new SharedArena({ initialBytes: 64 * MIB, maxBytes: (mib + 64) * MIB });
    const region = store.alloc(mib * MIB).fill(0);
    for (
      const [what, into] of [["raw tcp -> reused 1 MiB", small], [
        "raw tcp -> touched store",
        region,
      ]] as const
    ) {
      const secs: number[] = [];
      for (let r = 0; r < rounds; r++) {
        const t = performance.now();
        await raw.write(new Uint8Array(1));
        for (let got = 0; got < mib * MIB;) {
          const n = await raw.read(into === small ? small : region.subarray(got));
          got += n!;
        }
        secs.push((performance.now() - t) / 1000);
      }
      report(what, secs);
    }
    raw.close();
    store.free(store.locate(region)!);
    // First touches: memcpy into a fresh arena's pages, and into the same pages again.
    {
      const fresh: number[] = [];
      const again: number[] = [];
      const src = new Uint8Array(mib * MIB).fill(3);
      for (let r = 0; r < Math.min(rounds, 3); r++) {
        const a = new SharedArena({ initialBytes: 64 * MIB, maxBytes: (mib + 64) * MIB });
        let t = performance.now();
        const dst = a.alloc(mib * MIB);
        dst.set(src);
        fresh.push((performance.now() - t) / 1000);
        t = performance.now();
        dst.set(src);
        again.push((performance.now() - t) / 1000);
      }
      report("memcpy -> fresh store pages (grow + touch)", fresh);
      report("memcpy -> touched store pages", again);
    }
    const conn = await dialFrames({ hostname: "127.0.0.1", port: ports.port, token: TOKEN });
    const rpc = new FrameRpc(conn, {});
    const chunkList = values.chunks!.split(",").map(Number);
    const inflightList = values.inflight!.split(",").map(Number);
    // Configurations take turns round by round, so that the machine's swings spread over all.
    const configs = values.stores!.split(",").flatMap((store) =>
      chunkList.flatMap((chunkMib) =>
        inflightList.map((inflight) => ({ touched: store === "touched", chunkMib, inflight }))
      )
    );
    const warm = new SharedArena({ initialBytes: 64 * MIB, maxBytes: (mib + 64) * MIB });
    warm.free(warm.locate(warm.alloc(mib * MIB).fill(0))!);
    const secs = configs.map(() => [] as number[]);
    for (let r = 0; r < rounds; r++) {
      for (const [i, { touched, chunkMib, inflight }] of configs.entries()) {
        await new Promise((resolve) => setTimeout(resolve, Number(values.pause)));
        const arena = touched
          ? warm
          : new SharedArena({ initialBytes: 64 * MIB, maxBytes: (mib + 64) * MIB });
        const t = performance.now();
        const got = await fetchObject(rpc, ID, "", memoryOf(arena), {
          chunkBytes: chunkMib * MIB,
          inFlight: inflight,
        });
        secs[i].push((performance.now() - t) / 1000);
        arena.free(arena.locate(got!.bytes)!);
      }
    }
    for (const [i, { touched, chunkMib, inflight }] of configs.entries()) {
      report(
        `pull ${chunkMib} MiB x ${inflight} into ${touched ? "touched" : "fresh"} store`,
        secs[i],
      );
    }
    conn.close();
  } finally {
    child.kill("SIGTERM");
    await child.status;
  }
}

if (import.meta.main) await main();
