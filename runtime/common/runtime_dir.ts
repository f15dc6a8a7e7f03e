/**
 * The per-user runtime folder of rayd on this machine: the cluster token that
 * a head wrote (read by local drivers and commands) and one pid file per
 * daemon that `rayd start` left running (read by `rayd stop`).
 *
 * The folder is `$RAYD_RUNTIME_DIR`, else `$XDG_RUNTIME_DIR/rayd`, else
 * `<tmp>/rayd-<uid>`; it is made user-only (0700) and files in it 0600.
 *
 * @module
 */

/** What a daemon's pid file holds. */
export interface DaemonRecord {
  /** The daemon's process id. */
  pid: number;
  /** `"head"` or `"node"`. */
  role: "head" | "node";
  /** The address the daemon serves at, `HOST:PORT`. */
  address: string;
  /** The node id, when known. */
  nodeId?: string;
  /** When it started (ms since the epoch). */
  startedAt: number;
  /** The process's command line as the OS shows it (guards against a reused pid). */
  command?: string;
}

/** The token file's name inside the runtime folder. */
export const TOKEN_FILE = "token";

/** The runtime folder's path for this user (not made). */
export function runtimeDirPath(env: (name: string) => string | undefined = envOf): string {
  const own = env("RAYD_RUNTIME_DIR");
  if (own) return own;
  const xdg = env("XDG_RUNTIME_DIR");
  if (xdg) return `${xdg}/rayd`;
  const tmp = env("TMPDIR") || "/tmp";
  return `${tmp}/rayd-${Deno.uid() ?? "user"}`;
}

/** Makes the runtime folder (0700) when missing and returns its path. */
export async function ensureRuntimeDir(dir = runtimeDirPath()): Promise<string> {
  await Deno.mkdir(dir, { recursive: true, mode: 0o700 });
  const info = await Deno.stat(dir);
  if (!info.isDirectory) throw new Error(`rayd's runtime folder ${dir} is not a folder`);
  if (Deno.uid() !== null && info.uid !== Deno.uid()) {
    throw new Error(`rayd's runtime folder ${dir} belongs to another user (uid ${info.uid})`);
  }
  await Deno.chmod(dir, 0o700);
  return dir;
}

/** A new random cluster token: 32 bytes, hex. */
export function generateToken(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(32));
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

/** Writes the cluster token to the runtime folder (0600); returns the file's path. */
export async function writeToken(token: string, dir = runtimeDirPath()): Promise<string> {
  checkToken(token, "the cluster token");
  await ensureRuntimeDir(dir);
  const path = `${dir}/${TOKEN_FILE}`;
  await Deno.writeTextFile(path, `${token}\n`, { mode: 0o600 });
  await Deno.chmod(path, 0o600);
  return path;
}

/** The token a local head wrote, or `undefined` when there is none. */
export async function readToken(dir = runtimeDirPath()): Promise<string | undefined> {
  try {
    const token = (await Deno.readTextFile(`${dir}/${TOKEN_FILE}`)).trim();
    return token === "" ? undefined : token;
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return undefined;
    throw e;
  }
}

/**
 * Checks a token given by a user: printable, no spaces, 8 to 1024 characters.
 *
 * @param token the token
 * @param what where it came from, for the message
 */
export function checkToken(token: string, what: string): void {
  if (!/^[\x21-\x7e]{8,1024}$/.test(token)) {
    throw new RangeError(
      `${what} must be 8 to 1024 printable characters without spaces (got ${token.length} characters)`,
    );
  }
}

/** Records a running daemon in the runtime folder; returns the pid file's path. */
export async function writeDaemonRecord(
  record: DaemonRecord,
  dir = runtimeDirPath(),
): Promise<string> {
  await ensureRuntimeDir(dir);
  const path = `${dir}/daemon-${record.pid}.json`;
  await Deno.writeTextFile(path, JSON.stringify(record), { mode: 0o600 });
  return path;
}

/** Every daemon recorded in the runtime folder, with its pid file's path. */
export async function readDaemonRecords(
  dir = runtimeDirPath(),
): Promise<{ path: string; record: DaemonRecord | undefined }[]> {
  const out: { path: string; record: DaemonRecord | undefined }[] = [];
  try {
    for await (const entry of Deno.readDir(dir)) {
      if (!entry.isFile || !/^daemon-\d+\.json$/.test(entry.name)) continue;
      const path = `${dir}/${entry.name}`;
      out.push({ path, record: parseRecord(await Deno.readTextFile(path)) });
    }
  } catch (e) {
    if (!(e instanceof Deno.errors.NotFound)) throw e;
  }
  return out.sort((a, b) => a.path.localeCompare(b.path));
}

function parseRecord(text: string): DaemonRecord | undefined {
  try {
    const r = JSON.parse(text);
    const ok = Number.isSafeInteger(r?.pid) && r.pid > 0 && (r.role === "head" ||
      r.role === "node") &&
      typeof r.address === "string";
    return ok ? r as DaemonRecord : undefined;
  } catch {
    return undefined;
  }
}

function envOf(name: string): string | undefined {
  try {
    return Deno.env.get(name);
  } catch {
    return undefined;
  }
}

/** The command line of process `pid` as the OS shows it, or `undefined` if unknown. */
export function commandLineOf(pid: number): string | undefined {
  try {
    return Deno.readTextFileSync(`/proc/${pid}/cmdline`).split("\0").filter(Boolean).join(" ");
  } catch {
    return undefined;
  }
}
