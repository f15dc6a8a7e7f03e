/**
 * A TCP ping for network tests: `deno run -A _tcp_ping.ts HOSTNAME PORT
 * TIMEOUT_MS` connects, sends `ping`, and prints what comes back (`pong`
 * means the echo server answered). Exits 0 on an answer, 1 on an error
 * (printed), 2 when nothing came back within TIMEOUT_MS.
 *
 * @module
 */
const [hostname, port, timeoutMs = "3000"] = Deno.args;
const timer = setTimeout(() => {
  console.log("timeout");
  Deno.exit(2);
}, Number(timeoutMs));
try {
  const conn = await Deno.connect({ hostname, port: Number(port) });
  await conn.write(new TextEncoder().encode("ping"));
  const buf = new Uint8Array(4);
  let got = 0;
  while (got < 4) {
    const n = await conn.read(buf.subarray(got));
    if (n === null) throw new Error(`connection closed after ${got} bytes`);
    got += n;
  }
  const answer = new TextDecoder().decode(buf);
  console.log(answer === "ping" ? "pong" : `unexpected ${answer}`);
  conn.close();
  clearTimeout(timer);
} catch (error) {
  console.log(`error ${error instanceof Error ? error.message : String(error)}`);
  Deno.exit(1);
}
