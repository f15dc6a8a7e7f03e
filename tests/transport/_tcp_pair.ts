/**
 * Opens frame links on loopback for the cluster-wire tests.
 *
 * @module
 */
import {
  dialFrames,
  type FrameConn,
  type FrameListener,
  type HandshakeError,
  type LinkOptions,
  listenFrames,
} from "../../runtime/transport/mod.ts";

/** The token the tests' listeners hold. */
export const TOKEN = "test-cluster-token";

/** A listener that queues the connections and rejections it sees. */
export interface TestListener {
  listener: FrameListener;
  /** The next accepted connection. */
  accepted(): Promise<FrameConn>;
  /** The next rejected handshake. */
  rejected(): Promise<HandshakeError>;
  /** Options that dial this listener. */
  dialOptions(extra?: Partial<LinkOptions>): LinkOptions;
}

function queue<T>(): { push(v: T): void; next(): Promise<T> } {
  const items: T[] = [];
  const waiters: ((v: T) => void)[] = [];
  return {
    push(v) {
      const w = waiters.shift();
      if (w) w(v);
      else items.push(v);
    },
    next() {
      if (items.length > 0) return Promise.resolve(items.shift()!);
      return new Promise((resolve) => waiters.push(resolve));
    },
  };
}

/** Starts a listener on 127.0.0.1 with the test token (options override). */
export async function testListener(extra: Partial<LinkOptions> = {}): Promise<TestListener> {
  const conns = queue<FrameConn>();
  const rejections = queue<HandshakeError>();
  const listener = await listenFrames({
    hostname: "127.0.0.1",
    port: 0,
    token: TOKEN,
    role: "head",
    nodeId: "head-node",
    ...extra,
    onConnection: (conn) => conns.push(conn),
    onRejected: (err) => rejections.push(err),
  });
  return {
    listener,
    accepted: conns.next,
    rejected: rejections.next,
    dialOptions: (more = {}) => ({
      hostname: "127.0.0.1",
      port: listener.addr.port,
      token: TOKEN,
      role: "node",
      nodeId: "worker-node",
      ...more,
    }),
  };
}

/** A connected pair: `client` dialed `server`; `close` closes both and the listener. */
export async function framePair(
  server: Partial<LinkOptions> = {},
  client: Partial<LinkOptions> = {},
): Promise<{ server: FrameConn; client: FrameConn; close(): Promise<void> }> {
  const t = await testListener(server);
  const [c, s] = await Promise.all([dialFrames(t.dialOptions(client)), t.accepted()]);
  return {
    server: s,
    client: c,
    async close() {
      c.close();
      s.close();
      t.listener.close();
      await t.listener.closed;
    },
  };
}
