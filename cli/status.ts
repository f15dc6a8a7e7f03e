/**
 * `rayd status`: nodes, resources in use and queued tasks of the cluster. The
 * command line is checked; the work is later work.
 *
 * @module
 */
import { limitPositionals, parseAddress, parseFlags, parseRedisUrl, stringFlag } from "./_args.ts";
import type { Command } from "./_command.ts";
import { openControlStore, type StoreSource } from "./_control_store.ts";
import type { ControlStore } from "../runtime/gcs/mod.ts";

/**
 * Checks the arguments of `rayd status`, which takes none.
 *
 * @param args everything after `status`
 */
export function parseStatusArgs(args: string[]): StoreSource {
  const { values, positionals } = parseFlags(args, {
    address: { type: "string" },
    "redis-address": { type: "string" },
  });
  limitPositionals(positionals, 0);
  const address = stringFlag(values, "address");
  const redisAddress = stringFlag(values, "redis-address");
  return {
    address: address === undefined ? undefined : parseAddress("--address", address),
    redisAddress: redisAddress === undefined
      ? undefined
      : parseRedisUrl("--redis-address", redisAddress),
  };
}

/** The status report: nodes with their resources, and task counts. */
export async function statusReport(store: ControlStore): Promise<string> {
  const [nodes, summary] = await Promise.all([store.listNodes({ limit: 1000 }), store.summary()]);
  const lines = [`Nodes: ${nodes.filter((n) => n.state === "alive").length} alive`];
  for (const n of nodes) {
    const res = Object.entries(n.resources).map(([k, v]) => `${k} ${v}`).join(", ");
    const avail = n.available
      ? Object.entries(n.available).map(([k, v]) => `${k} ${v}`).join(", ")
      : "unknown";
    lines.push(`  ${n.nodeId} ${n.state} ${n.address}: ${res} (available: ${avail})`);
  }
  lines.push("Tasks by state:");
  for (const [state, count] of Object.entries(summary.tasks.byState)) {
    lines.push(`  ${state.padEnd(10)} ${count}`);
  }
  const queued = (summary.tasks.byState.submitted ?? 0) + (summary.tasks.byState.waiting ?? 0) +
    (summary.tasks.byState.ready ?? 0);
  lines.push(`Queued tasks: ${queued}`);
  lines.push(`Workers: ${summary.workers.alive ?? 0} alive, ${summary.workers.dead ?? 0} dead`);
  lines.push(
    `Objects in the store: ${
      summary.objects.byState.ready ?? 0
    } (${summary.objects.totalBytes} bytes)`,
  );
  return lines.join("\n");
}

/** `rayd status`. */
export const statusCommand: Command = {
  name: "status",
  summary: "Show nodes, resources in use and queued tasks",
  help: `Usage: rayd status [--address HOST:PORT | --redis-address URL]

Shows the cluster's nodes, the resources in use and the queued tasks, from
the control store.

Options:
  --address HOST:PORT  ask the head node at HOST:PORT
  --redis-address URL  read the control store from the Redis at URL (redis://host:port)
  -h, --help           show this help`,
  run: async (args, io) => {
    const store = await openControlStore(parseStatusArgs(args));
    try {
      io.out(await statusReport(store));
      return 0;
    } finally {
      await store.close();
    }
  },
};
