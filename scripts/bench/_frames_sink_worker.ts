/**
 * A Web Worker that dials the frame listener it is sent, drops one-way
 * frames, and answers every request at once: the far end of
 * `deno task bench:frames`. Private to scripts/bench/.
 *
 * @module
 */
import { dialFrames, FrameRpc } from "../../runtime/transport/mod.ts";
import type { FramesSinkRequest } from "./frames.ts";

const scope = self as unknown as {
  onmessage: ((event: MessageEvent<FramesSinkRequest>) => void) | null;
  postMessage(message: unknown): void;
};

scope.onmessage = async (event) => {
  const { port, token } = event.data;
  const conn = await dialFrames({ hostname: "127.0.0.1", port, token, role: "bench-sink" });
  let received = 0;
  new FrameRpc(conn, {
    onMessage: (frame) => received += frame.body.byteLength,
    onRequest: () => ({ message: received }),
  });
  await conn.closed;
};
