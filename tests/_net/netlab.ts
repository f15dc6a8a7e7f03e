/**
 * Test hosts in network namespaces: each host is an `ip netns` with one
 * interface (`eth0`) on a bridge that lives in the lab's own switch
 * namespace, with an address from 198.18.0.0/15 (RFC 2544, for tests). The
 * test process reaches the hosts through a gateway interface on the same
 * bridge. A host's link can be cut (a partition) and restored. Everything a
 * lab made (namespaces, links, processes inside its hosts) goes away in
 * `close()`, also when the test failed: use `await using`.
 *
 * Needs root and `ip netns`; `netSkipReason()` says why not, and tests skip
 * with one loud line (`skipLine`).
 *
 * ```ts
 * await using lab = await NetLab.create();
 * const a = await lab.addHost("a");
 * const b = await lab.addHost("b");
 * await lab.run(b, ["ping", "-c1", a.address]);
 * ```
 *
 * @module
 */

/** One host of a lab. */
export interface NetHost {
  /** Short name given to `addHost`. */
  readonly name: string;
  /** Name of its network namespace (`ip netns exec <ns> ...`). */
  readonly ns: string;
  /** Its IPv4 address, reachable from the other hosts and from the test process. */
  readonly address: string;
}

/** What a finished command printed. */
export interface RunResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Options of `run` and `spawn`. */
export interface RunOptions {
  /** Folders that the command sees as empty (an `unshare -m` tmpfs over each). */
  readonly hide?: readonly string[];
  /** Extra environment. */
  readonly env?: Record<string, string>;
}

const LOCK_FILE = "/tmp/rayd-netlab.lock";
/** Lab namespace names: `rd<pid>x<n>-<host>`; the pid finds labs of dead test processes. */
const LAB_NAME = /^rd(\d+)x(\d+)-/;
let skipReason: Promise<string | undefined> | undefined;

/** Why network-namespace tests cannot run here (not root, no `ip netns`), or undefined when they can. */
export function netSkipReason(): Promise<string | undefined> {
  skipReason ??= probe();
  return skipReason;
}

async function probe(): Promise<string | undefined> {
  if (Deno.build.os !== "linux") return `the OS is ${Deno.build.os}, not linux`;
  if (Deno.uid() !== 0) return `the tests run as uid ${Deno.uid()}, not root`;
  const name = `rd${Deno.pid}x-probe`;
  try {
    const add = await exec(["ip", "netns", "add", name]);
    if (add.code !== 0) return `\`ip netns add\` failed: ${add.stderr.trim()}`;
    const up = await exec(["ip", "-n", name, "link", "set", "lo", "up"]);
    if (up.code !== 0) return `\`ip -n ${name} link set lo up\` failed: ${up.stderr.trim()}`;
    return undefined;
  } catch (error) {
    return `\`ip\` could not run: ${error instanceof Error ? error.message : String(error)}`;
  } finally {
    await exec(["ip", "netns", "del", name]).catch(() => undefined);
  }
}

/** The one loud line a skipped test prints. */
export function skipLine(what: string, reason: string): string {
  return `SKIPPED ${what} because ${reason}`;
}

/** Runs a command to its end and collects its output (never throws for a non-zero exit). */
export async function exec(
  cmd: readonly string[],
  env?: Record<string, string>,
): Promise<RunResult> {
  const out = await new Deno.Command(cmd[0], {
    args: cmd.slice(1),
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
    env,
  }).output();
  const text = new TextDecoder();
  return { code: out.code, stdout: text.decode(out.stdout), stderr: text.decode(out.stderr) };
}

/** Runs `ip ...args`, throwing an error with the command and its stderr when it fails. */
async function ip(...args: string[]): Promise<string> {
  const r = await exec(["ip", ...args]);
  if (r.code !== 0) throw new Error(`Command failed: ip ${args.join(" ")}: ${r.stderr.trim()}`);
  return r.stdout;
}

/**
 * The argv that runs `cmd` in a private mount namespace where each folder of
 * `folders` is an empty tmpfs (the real folder is untouched and still
 * visible to every other process).
 */
export function hiddenCommand(folders: readonly string[], cmd: readonly string[]): string[] {
  if (folders.length === 0) return [...cmd];
  for (const f of folders) {
    if (!f.startsWith("/")) throw new TypeError(`Cannot hide folder ${f}: give an absolute path`);
  }
  const script = 'for f; do if [ "$f" = -- ]; then shift; break; fi; ' +
    'mount -t tmpfs -o size=1m,mode=0755 rayd-hidden "$f" || exit 97; shift; done; exec "$@"';
  return [
    "unshare",
    "-m",
    "--propagation",
    "private",
    "sh",
    "-c",
    script,
    "sh",
    ...folders,
    "--",
    ...cmd,
  ];
}

/** Deletes namespaces left by labs whose test process is gone (killed before its cleanup ran). */
async function removeStaleLabs(): Promise<void> {
  for (const line of (await ip("netns", "list")).split("\n")) {
    const name = line.split(" ")[0];
    const m = LAB_NAME.exec(name);
    if (!m || Number(m[1]) === Deno.pid || pidAlive(Number(m[1]))) continue;
    await killNamespace(name);
  }
}

/**
 * A lab number no namespace of this process uses. Test files that run in
 * parallel share the process (and its pid) but not their modules, so a
 * counter per module would give two labs the same names; the namespaces
 * themselves are the record (read under the lab lock).
 */
async function unusedLabNumber(): Promise<number> {
  let last = 0;
  for (const line of (await ip("netns", "list")).split("\n")) {
    const m = LAB_NAME.exec(line.split(" ")[0]);
    if (m && Number(m[1]) === Deno.pid) last = Math.max(last, Number(m[2]));
  }
  return last + 1;
}

function pidAlive(pid: number): boolean {
  try {
    Deno.statSync(`/proc/${pid}`);
    return true;
  } catch {
    return false;
  }
}

/** Kills every process inside namespace `ns` (only a lab's own hosts) and deletes it. */
async function killNamespace(ns: string): Promise<void> {
  const pids = await exec(["ip", "netns", "pids", ns]);
  for (const pid of pids.stdout.split("\n").filter((p) => /^\d+$/.test(p))) {
    try {
      Deno.kill(Number(pid), "SIGKILL");
    } catch { /* already gone */ }
  }
  await exec(["ip", "netns", "del", ns]);
}

/** A set of hosts on one bridge, plus the test process on a gateway interface. */
export class NetLab implements AsyncDisposable {
  /** Prefix of every name the lab makes. */
  readonly id: string;
  /** The test process's address on the lab's bridge. */
  readonly gateway: string;
  readonly #subnet: string;
  readonly #switch: string;
  readonly #gatewayLink: string;
  readonly #hosts = new Map<string, NetHost & { port: string }>();
  readonly #children = new Set<Deno.ChildProcess>();
  #closed = false;

  private constructor(id: string, subnet: string) {
    this.id = id;
    this.#subnet = subnet;
    this.#switch = `${id}-sw`;
    this.#gatewayLink = `rdg${id.slice(2)}`;
    this.gateway = `${subnet}.254`;
  }

  /**
   * Makes the switch namespace with its bridge and the gateway link, on a
   * /24 of 198.18.0.0/15 that no interface of this machine uses. Removes
   * what labs of dead test processes left first. Throws when it cannot
   * (check `netSkipReason()` before).
   */
  static async create(): Promise<NetLab> {
    const lockFile = await Deno.open(LOCK_FILE, { create: true, write: true });
    try {
      await lockFile.lock(true);
      await removeStaleLabs();
      const lab = new NetLab(`rd${Deno.pid}x${await unusedLabNumber()}`, await freeSubnet());
      try {
        await lab.#build();
      } catch (error) {
        await lab.close();
        throw error;
      }
      return lab;
    } finally {
      lockFile.close();
    }
  }

  async #build(): Promise<void> {
    const sw = this.#switch;
    await ip("netns", "add", sw);
    await ip("-n", sw, "link", "set", "lo", "up");
    await ip("-n", sw, "link", "add", "br0", "type", "bridge");
    await ip("-n", sw, "link", "set", "br0", "up");
    await ip("link", "add", this.#gatewayLink, "type", "veth", "peer", "name", "gw", "netns", sw);
    await ip("-n", sw, "link", "set", "gw", "master", "br0", "up");
    await ip("addr", "add", `${this.gateway}/24`, "dev", this.#gatewayLink);
    await ip("link", "set", this.#gatewayLink, "up");
  }

  /** A new host named `name` (letters, digits, at most 8), up and on the bridge. */
  async addHost(name: string): Promise<NetHost> {
    if (this.#closed) throw new Error(`Cannot add host ${name}: the lab is closed`);
    if (!/^[a-z0-9]{1,8}$/.test(name)) {
      throw new TypeError(
        `Invalid host name: ${JSON.stringify(name)} (1-8 lowercase letters or digits)`,
      );
    }
    if (this.#hosts.has(name)) throw new Error(`Cannot add host ${name}: the lab has one`);
    const index = this.#hosts.size + 1;
    if (index > 253) throw new RangeError(`Cannot add host ${name}: a lab holds at most 253 hosts`);
    const host = {
      name,
      ns: `${this.id}-${name}`,
      address: `${this.#subnet}.${index}`,
      port: `p${index}`,
    };
    this.#hosts.set(name, host);
    await ip("netns", "add", host.ns);
    await ip("-n", host.ns, "link", "set", "lo", "up");
    await ip(
      "-n",
      this.#switch,
      "link",
      "add",
      host.port,
      "type",
      "veth",
      "peer",
      "name",
      "eth0",
      "netns",
      host.ns,
    );
    await ip("-n", this.#switch, "link", "set", host.port, "master", "br0", "up");
    await ip("-n", host.ns, "addr", "add", `${host.address}/24`, "dev", "eth0");
    await ip("-n", host.ns, "link", "set", "eth0", "up");
    await ip("-n", host.ns, "route", "add", "default", "via", this.gateway);
    return { name: host.name, ns: host.ns, address: host.address };
  }

  /** Cuts the host off the bridge: nothing reaches it or leaves it until `restore`. */
  async cut(host: NetHost): Promise<void> {
    await ip("-n", this.#switch, "link", "set", this.#portOf(host), "down");
  }

  /** Puts a cut host back on the bridge. */
  async restore(host: NetHost): Promise<void> {
    await ip("-n", this.#switch, "link", "set", this.#portOf(host), "up");
  }

  #portOf(host: NetHost): string {
    const rec = this.#hosts.get(host.name);
    if (!rec || rec.ns !== host.ns) throw new Error(`Unknown host ${host.name} in lab ${this.id}`);
    return rec.port;
  }

  #argv(host: NetHost, cmd: readonly string[], options: RunOptions): string[] {
    this.#portOf(host);
    return ["ip", "netns", "exec", host.ns, ...hiddenCommand(options.hide ?? [], cmd)];
  }

  /** Runs `cmd` inside the host to its end. */
  run(host: NetHost, cmd: readonly string[], options: RunOptions = {}): Promise<RunResult> {
    return exec(this.#argv(host, cmd, options), { DENO_NO_UPDATE_CHECK: "1", ...options.env });
  }

  /** Starts `cmd` inside the host (stdout and stderr piped); `close()` ends it if still running. */
  spawn(host: NetHost, cmd: readonly string[], options: RunOptions = {}): Deno.ChildProcess {
    if (this.#closed) throw new Error(`Cannot spawn in host ${host.name}: the lab is closed`);
    const argv = this.#argv(host, cmd, options);
    const child = new Deno.Command(argv[0], {
      args: argv.slice(1),
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
      env: { DENO_NO_UPDATE_CHECK: "1", ...options.env },
    }).spawn();
    this.#children.add(child);
    child.status.finally(() => this.#children.delete(child));
    return child;
  }

  /** Ends every process in the hosts and deletes the hosts, the switch and the gateway link. */
  async close(): Promise<void> {
    this.#closed = true;
    for (const child of this.#children) {
      try {
        child.kill("SIGKILL");
      } catch { /* already gone */ }
    }
    for (const host of this.#hosts.values()) await killNamespace(host.ns);
    await Promise.allSettled([...this.#children].map(async (child) => {
      await child.status;
      await Promise.allSettled([child.stdout.cancel(), child.stderr.cancel()]);
    }));
    // Deleting the switch namespace deletes the gateway link's peer, and so the link.
    await killNamespace(this.#switch);
    await exec(["ip", "link", "del", this.#gatewayLink]);
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }
}

/** A /24 of 198.18.0.0/15 on no interface of this machine (called under the lab lock). */
async function freeSubnet(): Promise<string> {
  const used = new Set<string>();
  for (const m of (await ip("-o", "-4", "addr", "show")).matchAll(/inet (198\.1[89]\.\d+)\.\d+/g)) {
    used.add(m[1]);
  }
  const start = Deno.pid % 512;
  for (let i = 0; i < 512; i++) {
    const k = (start + i) % 512;
    const subnet = `198.${18 + (k >> 8)}.${k & 255}`;
    if (!used.has(subnet)) return subnet;
  }
  throw new Error("Cannot create a lab: every /24 of 198.18.0.0/15 is in use on this machine");
}

/**
 * Reads a child's stdout until a line matches `pattern`, then stops reading
 * it; rejects after `timeoutMs` or when the output ends first.
 */
export async function waitForLine(
  child: Deno.ChildProcess,
  pattern: RegExp,
  timeoutMs = 15_000,
): Promise<string> {
  const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let seen = "";
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new Error(`No line matching ${pattern} within ${timeoutMs} ms; got: ${seen}`)),
      timeoutMs,
    );
  });
  try {
    while (true) {
      const { value, done } = await Promise.race([reader.read(), timeout]);
      if (done) throw new Error(`Output ended before a line matching ${pattern}; got: ${seen}`);
      seen += value;
      const line = seen.split("\n").find((l) => pattern.test(l));
      if (line !== undefined) return line;
    }
  } finally {
    clearTimeout(timer);
    await reader.cancel().catch(() => undefined);
  }
}
