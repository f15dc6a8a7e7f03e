/**
 * A Web Worker that dials the frame listener it is sent, drops one-way
 * frames, and answers every request at once: the far end of
 * `deno task bench:frames`. It dials twice, one link after the other: bodies
 * of the first are read into one reused region (as a node reads into its
 * object store), those of the second into fresh memory. Private to scripts/bench/.
 *
 * @module
 */
import { dialFrames, FrameRpc } from "../../runtime/transport/mod.ts";
import type { FramesSinkRequest } from "./frames.ts";

const scope = self as unknown as {
  onmessage: ((event: MessageEvent<FramesSinkRequest>) => void) | null;
  postMessage(message: unknown): void;
};

/** Dials; `store` bodies land in one reused region (as into an object store), else in fresh memory. */
async function sink(port: number, token: string, store: boolean): Promise<void> {
  let region = new Uint8Array(0);
  const conn = await dialFrames({
    hostname: "127.0.0.1",
    port,
    token,
    role: "bench-sink",
    nodeId: store ? "store" : "fresh",
    allocateBody: store
      ? (bytes) =>
        (region.byteLength >= bytes ? region : region = new Uint8Array(bytes))
          .subarray(0, bytes)
      : undefined,
  });
  let received = 0;
  new FrameRpc(conn, {
    onMessage: (frame) => received += frame.body.byteLength,
    onRequest: () => ({ message: received }),
  });
  await conn.closed;
}

scope.onmessage = (event) => {
  const { port, token } = event.data;
  sink(port, token, true).then(() => sink(port, token, false));
};
