/**
 * What the suite records about the machine and the code it measured.
 * Private to scripts/bench/.
 *
 * @module
 */
import type { MachineInfo } from "./_report.ts";

const REPO = new URL("../../", import.meta.url);

/** Runs git in the repository; undefined when git or the checkout is missing. */
async function git(...args: string[]): Promise<string | undefined> {
  try {
    const out = await new Deno.Command("git", { args, cwd: REPO, stderr: "null" }).output();
    return out.success ? new TextDecoder().decode(out.stdout).trim() : undefined;
  } catch {
    return undefined;
  }
}

async function cpuModel(): Promise<string | undefined> {
  try {
    const info = await Deno.readTextFile("/proc/cpuinfo");
    return /^model name\s*:\s*(.+)$/m.exec(info)?.[1]?.trim();
  } catch {
    return undefined;
  }
}

function attempt<T>(read: () => T): T | undefined {
  try {
    return read();
  } catch {
    return undefined;
  }
}

/**
 * Describes this machine, this Deno and the git commit of the code.
 *
 * @param numWorkers workers the suite gives rayd and its peers
 * @param quick whether this is a smoke run
 * @returns the `machine` part of the report
 */
export async function machineInfo(numWorkers: number, quick: boolean): Promise<MachineInfo> {
  const [commit, status, model] = await Promise.all([
    git("rev-parse", "HEAD"),
    git("status", "--porcelain"),
    cpuModel(),
  ]);
  return {
    cpus: navigator.hardwareConcurrency,
    deno: Deno.version.deno,
    v8: Deno.version.v8,
    commit: commit ?? "unknown",
    dirty: status !== undefined && status.length > 0,
    os: Deno.build.os,
    arch: Deno.build.arch,
    cpuModel: model,
    memoryBytes: attempt(() => Deno.systemMemoryInfo().total),
    loadavg: attempt(() => Deno.loadavg()),
    numWorkers,
    date: new Date().toISOString(),
    quick,
  };
}
