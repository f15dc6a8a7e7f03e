/**
 * Pull links (runtime/cluster/peers.ts): at most four per peer, shared in
 * turn by the pulls beyond those; a closed one makes room for a new one.
 */
import assert from "node:assert/strict";
import { type FrameConn, FrameRpc, listenFrames } from "../../runtime/transport/mod.ts";
import { Peers } from "../../runtime/cluster/peers.ts";

const TOKEN = "peers-test-token-0123456789";

Deno.test("borrow opens at most four pull links to a peer; the others wait their turn", async () => {
  const accepted: FrameConn[] = [];
  const listener = await listenFrames({
    hostname: "127.0.0.1",
    port: 0,
    token: TOKEN,
    onConnection: (conn) => {
      accepted.push(conn);
      new FrameRpc(conn, {});
    },
  });
  const peers = new Peers({ token: TOKEN, role: "node", nodeId: "n", unref: false, handlers: {} });
  const address = `127.0.0.1:${listener.addr.port}`;
  try {
    const got: FrameRpc[] = [];
    const borrowed = Array.from(
      { length: 10 },
      () => peers.borrow(address).then((r) => got.push(r)),
    );
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(got.length, 4, "four links, six pulls waiting");
    assert.equal(accepted.length, 4);
    const first = got[0];
    peers.giveBack(address, first);
    await new Promise((r) => setTimeout(r, 50));
    assert.equal(got.length, 5);
    assert.equal(got[4], first, "the link given back goes to the next pull");
    got[1].conn.close("a failed pull");
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(got.length, 6, "a closed link makes room for a new one");
    assert.equal(accepted.length, 5);
    for (const rpc of got.slice(2)) peers.giveBack(address, rpc);
    await Promise.all(borrowed);
    assert.equal(got.length, 10);
    assert.equal(accepted.length, 5, "no more links than four open at once");
  } finally {
    await peers.close();
    listener.close();
    await listener.closed;
  }
});
