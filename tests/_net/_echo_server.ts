/**
 * A tiny TCP echo server for network tests: `deno run -A _echo_server.ts
 * HOSTNAME [PORT]` prints `ready HOSTNAME:PORT` once listening, then sends
 * back every byte each client sends until the client closes.
 *
 * @module
 */
const [hostname, port = "0"] = Deno.args;
if (!hostname) {
  console.error("Usage: _echo_server.ts HOSTNAME [PORT]");
  Deno.exit(2);
}
const listener = Deno.listen({ hostname, port: Number(port) });
const addr = listener.addr as Deno.NetAddr;
console.log(`ready ${addr.hostname}:${addr.port}`);
for await (const conn of listener) {
  conn.readable.pipeTo(conn.writable).catch(() => conn.close());
}
