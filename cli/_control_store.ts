/**
 * Opens the control store a CLI command reads: a Redis given by
 * `--redis-address`, or the one the head at `--address` names.
 *
 * @module
 */
import { connectRedis, type ControlStore } from "../runtime/gcs/mod.ts";
import { readToken } from "../runtime/common/mod.ts";
import { controlStoreOf } from "../runtime/cluster/mod.ts";
import { CliError } from "./_command.ts";

/** Where to read from. */
export interface StoreSource {
  address?: string;
  redisAddress?: string;
}

/** Connects to the control store named by the flags. */
export async function openControlStore(source: StoreSource): Promise<ControlStore> {
  const redisAddress = source.address !== undefined
    ? await redisOfCluster(source.address)
    : source.redisAddress;
  if (redisAddress === undefined) {
    throw new CliError(
      "no control store to read: pass --redis-address redis://host:port (an embedded cluster " +
        "keeps its state in Redis with init({ redisAddress }))",
      { exitCode: 2 },
    );
  }
  try {
    return await connectRedis(redisAddress);
  } catch (err) {
    throw new CliError(`cannot read the control store: ${(err as Error).message}`, {
      exitCode: 1,
      cause: err,
    });
  }
}

/** The Redis of the cluster whose head is at `address`, asked with the local token. */
async function redisOfCluster(address: string): Promise<string> {
  const token = Deno.env.get("RAYD_TOKEN") ?? await readToken();
  if (!token) {
    throw new CliError(
      `no token for the cluster at ${address}: set RAYD_TOKEN (a head on this machine writes ` +
        "it to its runtime folder, read when present)",
      { exitCode: 2 },
    );
  }
  let redis: string | undefined;
  try {
    redis = await controlStoreOf(address, token);
  } catch (err) {
    throw new CliError(`cannot ask the head at ${address}: ${(err as Error).message}`, {
      exitCode: 1,
      cause: err,
    });
  }
  if (redis === undefined) {
    throw new CliError(
      `the cluster at ${address} keeps its records in memory (its head runs without Redis): ` +
        "nothing to read from outside",
      { exitCode: 1 },
    );
  }
  return redis;
}
