/**
 * Opens the control store a CLI command reads: a Redis given by
 * `--redis-address`. (Asking a head node by `--address` needs cluster mode.)
 *
 * @module
 */
import { connectRedis, type ControlStore } from "../runtime/gcs/mod.ts";
import { CliError, notImplemented } from "./_command.ts";

/** Where to read from. */
export interface StoreSource {
  address?: string;
  redisAddress?: string;
}

/** Connects to the control store named by the flags. */
export async function openControlStore(source: StoreSource): Promise<ControlStore> {
  if (source.address !== undefined) notImplemented();
  if (source.redisAddress === undefined) {
    throw new CliError(
      "no control store to read: pass --redis-address redis://host:port (an embedded cluster " +
        "keeps its state in Redis with init({ redisAddress }))",
      { exitCode: 2 },
    );
  }
  try {
    return await connectRedis(source.redisAddress);
  } catch (err) {
    throw new CliError(`cannot read the control store: ${(err as Error).message}`, {
      exitCode: 1,
      cause: err,
    });
  }
}
