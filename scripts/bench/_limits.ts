/**
 * The limit metrics: what the machine and Deno allow at best for what rayd
 * does — a postMessage round trip to a Web Worker, a memcpy into shared
 * memory, a TCP transfer over loopback. Private to scripts/bench/.
 *
 * @module
 */
import type { Metric } from "./_metric.ts";

/** What limit_tcp_loopback_gigabytes sends its sink worker to start it. */
export interface SinkRequest {
  /** Port on 127.0.0.1 to connect to. */
  port: number;
  /** Bytes per transfer: the sink writes one byte back after each. */
  bytes: number;
}

/** Round trips timed back to back in one batch. */
const ROUND_TRIPS = 100;
/** Bytes copied per batch of limit_memcpy_gigabytes (as rayd's put of 100 MiB). */
const COPY_BYTES = 100 * 1024 * 1024;
/** Bytes sent per batch of limit_tcp_loopback_gigabytes. */
const TCP_BYTES = 256 * 1024 * 1024;
/** Size of each TCP write. */
const TCP_CHUNK = 4 * 1024 * 1024;

function workerUrl(file: string): URL {
  return new URL(file, import.meta.url);
}

/** limit_tcp_loopback_gigabytes, set up: one connection to its sink worker, ready for batches. */
export interface TcpLoopback {
  /** Sends 256 MiB and waits for the sink's byte back; returns the gigabytes sent. */
  batch(): Promise<number>;
  /** Closes the connection and the listener and ends the worker. */
  close(): void;
}

/**
 * Opens the far end of limit_tcp_loopback_gigabytes: a Web Worker that
 * connects to a listener on 127.0.0.1, then reads everything. Used by the
 * limit metric itself and by the cluster driver, which times its batches in
 * turn with the transfers'.
 *
 * @returns the connection, ready for batches
 */
export async function openTcpLoopback(): Promise<TcpLoopback> {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const worker = new Worker(workerUrl("./_tcp_sink_worker.ts"), { type: "module" });
  let conn: Deno.TcpConn;
  try {
    const request: SinkRequest = { port: listener.addr.port, bytes: TCP_BYTES };
    worker.postMessage(request);
    conn = await listener.accept();
  } catch (error) {
    listener.close();
    worker.terminate();
    throw error;
  }
  const chunk = new Uint8Array(TCP_CHUNK).fill(1);
  const ack = new Uint8Array(1);
  return {
    async batch() {
      for (let left = TCP_BYTES; left > 0;) {
        left -= await conn.write(left >= chunk.length ? chunk : chunk.subarray(0, left));
      }
      if (await conn.read(ack) !== 1) throw new Error("TCP sink closed the connection early");
      return TCP_BYTES / 1e9;
    },
    close() {
      conn.close();
      listener.close();
      worker.terminate();
    },
  };
}

/** The limit metrics, in the order of docs/BENCHMARKS.md. */
export const LIMIT_METRICS: readonly Metric[] = [
  {
    name: "limit_postmessage_roundtrip",
    unit: "round trips/s",
    kind: "limit",
    async run(ctx) {
      const worker = new Worker(workerUrl("./_echo_worker.ts"), { type: "module" });
      let answered: () => void = () => {};
      worker.onmessage = () => answered();
      const roundTrip = () =>
        new Promise<void>((resolve) => {
          answered = resolve;
          worker.postMessage(0);
        });
      try {
        return await ctx.measure(async () => {
          for (let i = 0; i < ROUND_TRIPS; i++) await roundTrip();
          return ROUND_TRIPS;
        });
      } finally {
        worker.terminate();
      }
    },
  },
  {
    name: "limit_memcpy_gigabytes",
    unit: "GB/s",
    kind: "limit",
    run(ctx) {
      const source = new Uint8Array(COPY_BYTES).fill(1);
      const target = new Uint8Array(new SharedArrayBuffer(COPY_BYTES));
      return ctx.measure(() => {
        target.set(source);
        return COPY_BYTES / 1e9;
      });
    },
  },
  {
    name: "limit_tcp_loopback_gigabytes",
    unit: "GB/s",
    kind: "limit",
    async run(ctx) {
      const limit = await openTcpLoopback();
      try {
        return await ctx.measure(limit.batch);
      } finally {
        limit.close();
      }
    },
  },
];
