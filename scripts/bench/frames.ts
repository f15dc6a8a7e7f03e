/**
 * `deno task bench:frames`: the cluster wire (runtime/transport's TCP frame
 * links) against `limit_tcp_loopback_gigabytes`, measured in the same run:
 * bulk bodies (4 MiB frames, 256 MiB per batch, as the limit sends; read
 * into a reused region as into a store, and into fresh memory), small
 * frames per second (batched into few writes), and request round trips.
 * The receiving end is a Web Worker, as in the limit.
 *
 * ```sh
 * deno task bench:frames [--quick] [--json]
 * ```
 *
 * @module
 */
import { type FrameConn, FrameRpc, listenFrames } from "../../runtime/transport/mod.ts";
import { LIMIT_METRICS } from "./_limits.ts";
import { FULL, measure, type MeasureOptions, QUICK } from "./_measure.ts";

/** What the sink worker is sent to start it. */
export interface FramesSinkRequest {
  /** Port of the frame listener on 127.0.0.1. */
  port: number;
  /** Cluster token. */
  token: string;
}

/** Bytes per batch of the bulk metric, as limit_tcp_loopback_gigabytes. */
const BULK_BYTES = 256 * 1024 * 1024;
/** Body of each bulk frame, as the limit's write size. */
const BULK_CHUNK = 4 * 1024 * 1024;
/** Small frames per batch. */
const SMALL_FRAMES = 50_000;
/** Sequential round trips per batch. */
const ROUND_TRIPS = 1000;
/** Requests in flight per batch of the pipelined metric. */
const IN_FLIGHT = 1000;

/** The run's numbers. */
export interface FramesReport {
  limit_tcp_loopback_gigabytes: number;
  /** Bodies read into one reused region, as a node reads into its object store. */
  frames_bulk_gigabytes: number;
  /** Bodies read into fresh memory (a new Uint8Array per frame). */
  frames_bulk_fresh_gigabytes: number;
  frames_small_per_second: number;
  frames_request_roundtrips_sync: number;
  frames_requests_async: number;
  /** Socket writes per small frame in the small-frames metric (batching). */
  small_frames_writes_per_frame: number;
  /** frames_bulk_gigabytes / limit_tcp_loopback_gigabytes. */
  bulk_vs_limit: number;
}

async function limit(options: MeasureOptions, quick: boolean): Promise<number> {
  const metric = LIMIT_METRICS.find((m) => m.name === "limit_tcp_loopback_gigabytes")!;
  const m = await metric.run({
    quick,
    numWorkers: 1,
    measure: (batch) => measure(batch, options),
    useRay: () => Promise.reject(new Error("not used")),
    defer: () => {},
  });
  return m.value;
}

/**
 * Runs `body` with the sink worker's two links, one after the other: the
 * first reads bodies into a reused region, the second into fresh memory.
 */
async function withSink<T>(
  body: (next: () => Promise<{ conn: FrameConn; rpc: FrameRpc }>) => Promise<T>,
): Promise<T> {
  const token = crypto.randomUUID();
  const links: FrameConn[] = [];
  let waiting = Promise.withResolvers<FrameConn>();
  const listener = await listenFrames({
    hostname: "127.0.0.1",
    port: 0,
    token,
    role: "bench",
    onConnection: (conn) => waiting.resolve(conn),
    onRejected: (err) => waiting.reject(err),
  });
  const worker = new Worker(new URL("./_frames_sink_worker.ts", import.meta.url), {
    type: "module",
  });
  const next = async () => {
    links.at(-1)?.close();
    const conn = await waiting.promise;
    waiting = Promise.withResolvers<FrameConn>();
    links.push(conn);
    return { conn, rpc: new FrameRpc(conn) };
  };
  try {
    worker.postMessage({ port: listener.addr.port, token } satisfies FramesSinkRequest);
    try {
      return await body(next);
    } finally {
      for (const conn of links) conn.close();
    }
  } finally {
    listener.close();
    await listener.closed;
    worker.terminate();
  }
}

/** Runs every metric once (medians of the runs) and returns the numbers. */
export async function framesBench(quick = false): Promise<FramesReport> {
  const options = quick ? QUICK : FULL;
  const scale = quick ? 8 : 1; // smoke runs move an eighth
  const limitGbps = await limit(options, quick);
  return await withSink(async (next) => {
    const chunk = new Uint8Array(BULK_CHUNK).fill(1);
    const bulkOver = ({ conn, rpc }: { conn: FrameConn; rpc: FrameRpc }) =>
      measure(async () => {
        const bytes = BULK_BYTES / scale;
        for (let sent = 0; sent < bytes; sent += BULK_CHUNK) await conn.send(1, sent, chunk);
        await rpc.request(2);
        return bytes / 1e9;
      }, options);
    const bulk = await bulkOver(await next());
    const { conn, rpc } = await next();
    const fresh = await bulkOver({ conn, rpc });
    const writesBefore = conn.writes;
    let smallFrames = 0;
    const small = await measure(async () => {
      const frames = SMALL_FRAMES / scale;
      let last: Promise<void> = Promise.resolve();
      for (let i = 0; i < frames; i++) {
        last = conn.send(3, { seq: i, op: "ping" });
        if (i % 10_000 === 9_999) await last;
      }
      await rpc.request(2);
      smallFrames += frames;
      return frames;
    }, options);
    // Each batch's mark request and its flush add a write or two: counted in.
    const writesPerFrame = (conn.writes - writesBefore) / smallFrames;
    const sync = await measure(async () => {
      for (let i = 0; i < ROUND_TRIPS / scale; i++) await rpc.request(4, i);
      return ROUND_TRIPS / scale;
    }, options);
    const pipelined = await measure(async () => {
      const all: Promise<unknown>[] = [];
      for (let i = 0; i < IN_FLIGHT / scale; i++) all.push(rpc.request(4, i));
      await Promise.all(all);
      return IN_FLIGHT / scale;
    }, options);
    return {
      limit_tcp_loopback_gigabytes: limitGbps,
      frames_bulk_gigabytes: bulk.value,
      frames_bulk_fresh_gigabytes: fresh.value,
      frames_small_per_second: small.value,
      frames_request_roundtrips_sync: sync.value,
      frames_requests_async: pipelined.value,
      small_frames_writes_per_frame: writesPerFrame,
      bulk_vs_limit: bulk.value / limitGbps,
    };
  });
}

if (import.meta.main) {
  const report = await framesBench(Deno.args.includes("--quick"));
  if (Deno.args.includes("--json")) {
    console.log(JSON.stringify(report));
  } else {
    const n = (x: number, digits = 0) =>
      x.toLocaleString("en-US", { maximumFractionDigits: digits });
    console.log(
      `limit_tcp_loopback_gigabytes    ${n(report.limit_tcp_loopback_gigabytes, 2)} GB/s`,
    );
    console.log(
      `frames_bulk_gigabytes           ${n(report.frames_bulk_gigabytes, 2)} GB/s ` +
        `(${n(report.bulk_vs_limit * 100)}% of the limit)`,
    );
    console.log(
      `frames_bulk_fresh_gigabytes     ${n(report.frames_bulk_fresh_gigabytes, 2)} GB/s ` +
        `(bodies in fresh memory)`,
    );
    console.log(
      `frames_small_per_second         ${n(report.frames_small_per_second)} frames/s ` +
        `(${n(report.small_frames_writes_per_frame, 4)} socket writes per frame)`,
    );
    console.log(`frames_request_roundtrips_sync  ${n(report.frames_request_roundtrips_sync)} /s`);
    console.log(`frames_requests_async           ${n(report.frames_requests_async)} /s`);
  }
}
