/**
 * Settings through environment variables, for tests. `deno test --parallel`
 * runs test files on threads of one process, which has one environment: a
 * file that sets RAYD_PULL_DEADLINE_MS and then restores it can undo the
 * value another file set meanwhile (a chaos run then waited 30 s for a freed
 * object instead of its 3 s). `withEnv` holds a lock that every other
 * `withEnv` of this process waits for, so the settings stay as set until
 * `fn` ends.
 *
 * @module
 */

/** The lock is a flock on this file (every open of it takes its own lock, threads of one process included). */
const LOCK_PATH = new URL(import.meta.url).pathname;

/** Runs `fn` with `vars` set in the environment, restoring the earlier values after. */
export async function withEnv<T>(vars: Record<string, string>, fn: () => Promise<T>): Promise<T> {
  const lock = await Deno.open(LOCK_PATH, { read: true });
  try {
    await lock.lock(true);
    const before = Object.keys(vars).map((name) => [name, Deno.env.get(name)] as const);
    for (const [name, value] of Object.entries(vars)) Deno.env.set(name, value);
    try {
      return await fn();
    } finally {
      for (const [name, value] of before) {
        if (value === undefined) Deno.env.delete(name);
        else Deno.env.set(name, value);
      }
    }
  } finally {
    lock.close();
  }
}
