/**
 * A pull over two links (runtime/cluster/fetch.ts `secondLink`, peers.ts
 * `borrowIfFree`): an object of several chunks arrives byte for byte with
 * chunks asked over both links; a second link is borrowed only when one is
 * free; a second link that fails mid-pull fails the pull.
 */
import assert from "node:assert/strict";
import type { ObjectId } from "../../runtime/common/mod.ts";
import type { ClusterSide } from "../../runtime/node/mod.ts";
import { type FrameConn, FrameRpc, listenFrames } from "../../runtime/transport/mod.ts";
import {
  fetchObject,
  PullFailed,
  type PullMemory,
  serveFetch,
} from "../../runtime/cluster/fetch.ts";
import { MSG } from "../../runtime/cluster/messages.ts";
import { Peers } from "../../runtime/cluster/peers.ts";

const TOKEN = "fetch-links-test-token-0123456789";
const ID = "pulled" as ObjectId;
const CHUNK = 64 * 1024;
const SIZE = 10 * CHUNK + 123;

/** A holder of one object; counts the chunk requests each connection got. */
async function holder(bytes: Uint8Array, onRequest?: (conn: FrameConn, n: number) => void) {
  const side = {
    readSpilled: () => undefined,
    readObject: (id: ObjectId) =>
      Promise.resolve(
        id === ID ? { bytes, error: false, contained: [], done: () => {} } : undefined,
      ),
  } as unknown as ClusterSide;
  const requests = new Map<FrameConn, number>();
  const listener = await listenFrames({
    hostname: "127.0.0.1",
    port: 0,
    token: TOKEN,
    onConnection: (conn) =>
      new FrameRpc(conn, {
        onRequest: (frame) => {
          assert.equal(frame.type, MSG.fetch);
          const n = (requests.get(conn) ?? 0) + 1;
          requests.set(conn, n);
          onRequest?.(conn, n);
          return serveFetch(side, () => [], frame.message as never);
        },
      }),
  });
  return { listener, requests, address: `127.0.0.1:${listener.addr.port}` };
}

function heapMemory(): PullMemory {
  return {
    now: (size) => new Uint8Array(size),
    later: (size) => Promise.resolve(new Uint8Array(size)),
    free: () => {},
  };
}

function peersFor(): Peers {
  return new Peers({ token: TOKEN, role: "node", nodeId: "n", unref: false, handlers: {} });
}

Deno.test("a pull of several chunks asks over a second link too and arrives byte for byte", async () => {
  const bytes = new Uint8Array(SIZE).map((_, i) => (i * 31 + 7) & 0xff);
  const { listener, requests, address } = await holder(bytes);
  const peers = peersFor();
  try {
    const first = await peers.borrow(address);
    let asked = 0;
    const got = await fetchObject(first, ID, "", heapMemory(), {
      chunkBytes: CHUNK,
      inFlight: 4,
      secondLink: () => {
        asked++;
        return peers.borrowIfFree(address);
      },
    });
    assert.ok(got);
    assert.deepEqual(got.bytes, bytes);
    assert.equal(asked, 1, "the second link is asked for once");
    const counts = [...requests.values()];
    assert.equal(counts.length, 2, "chunks came over two connections");
    assert.equal(counts[0] + counts[1], 11, "eleven chunk requests in all");
    assert.ok(counts.every((n) => n >= 2), `both links carried chunks: ${counts}`);
  } finally {
    await peers.close();
    listener.close();
    await listener.closed;
  }
});

Deno.test("an object of one chunk asks for no second link; none is lent when all four are", async () => {
  const bytes = new Uint8Array(CHUNK).fill(5);
  const { listener, address } = await holder(bytes);
  const peers = peersFor();
  try {
    const first = await peers.borrow(address);
    let asked = 0;
    const got = await fetchObject(first, ID, "", heapMemory(), {
      chunkBytes: CHUNK,
      secondLink: () => {
        asked++;
        return peers.borrowIfFree(address);
      },
    });
    assert.deepEqual(got?.bytes, bytes);
    assert.equal(asked, 0);
    const lent = await Promise.all([1, 2, 3].map(() => peers.borrow(address)));
    assert.equal(await peers.borrowIfFree(address), undefined, "four lent: no fifth");
    peers.giveBack(address, lent[0]);
    assert.equal(await peers.borrowIfFree(address), lent[0], "an idle one is lent");
  } finally {
    await peers.close();
    listener.close();
    await listener.closed;
  }
});

Deno.test("a second link that closes mid-pull fails the pull", async () => {
  const bytes = new Uint8Array(SIZE).fill(9);
  let firstConn: FrameConn | undefined;
  const { listener, address } = await holder(bytes, (conn, n) => {
    firstConn ??= conn;
    if (conn !== firstConn && n === 2) conn.close("holder drops the second link");
  });
  const peers = peersFor();
  try {
    const first = await peers.borrow(address);
    await assert.rejects(
      fetchObject(first, ID, "", heapMemory(), {
        chunkBytes: CHUNK,
        inFlight: 4,
        secondLink: () => peers.borrowIfFree(address),
      }),
      PullFailed,
    );
  } finally {
    await peers.close();
    listener.close();
    await listener.closed;
  }
});
