/**
 * Helpers for network tests: hosts in network namespaces (`NetLab`), a TCP
 * proxy that delays, refuses and kills connections (`TcpProxy`), folders
 * hidden from a process (`hiddenCommand`), and the echo server and ping
 * scripts (`ECHO_SERVER`, `TCP_PING`).
 *
 * @module
 */
export * from "./netlab.ts";
export * from "./tcp_proxy.ts";

/** Path of the echo server script (`deno run -A ECHO_SERVER HOSTNAME [PORT]`). */
export const ECHO_SERVER = new URL("./_echo_server.ts", import.meta.url).pathname;
/** Path of the ping script (`deno run -A TCP_PING HOSTNAME PORT TIMEOUT_MS`). */
export const TCP_PING = new URL("./_tcp_ping.ts", import.meta.url).pathname;
