/**
 * A Web Worker that connects to the port it is sent, reads everything, and
 * writes one byte back after every `bytes` bytes: the far end of
 * limit_tcp_loopback_gigabytes. Private to scripts/bench/.
 *
 * @module
 */
import type { SinkRequest } from "./_limits.ts";

const scope = self as unknown as {
  onmessage: ((event: MessageEvent<SinkRequest>) => void) | null;
};

scope.onmessage = async (event) => {
  const { port, bytes } = event.data;
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  const buf = new Uint8Array(1024 * 1024);
  const ack = new Uint8Array([1]);
  let received = 0;
  try {
    for (let n = await conn.read(buf); n !== null; n = await conn.read(buf)) {
      received += n;
      if (received >= bytes) {
        received -= bytes;
        await conn.write(ack);
      }
    }
  } finally {
    conn.close();
  }
};
