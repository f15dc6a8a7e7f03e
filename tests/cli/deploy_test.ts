/**
 * The deployment files of deploy/ (Kubernetes manifests, systemd units, the
 * Dockerfile): every manifest parses, and every command a container or unit
 * runs is checked by `rayd start --dry-run` with the environment it would see.
 * No container engine runs here; this is what can be checked without one.
 */
import assert from "node:assert/strict";
import { parseAllDocuments } from "yaml";

const DEPLOY = new URL("../../deploy/", import.meta.url);
const CLI = new URL("../../cli/main.ts", import.meta.url);
const TOKEN = "a-token-for-the-dry-run-only";

/** Runs `rayd <args> --dry-run` with `env`; returns the settings it printed. */
async function dryRun(args: string[], env: Record<string, string>): Promise<any> {
  const { code, stdout, stderr } = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", CLI.href, ...args, "--dry-run"],
    env,
    clearEnv: true,
    stdout: "piped",
    stderr: "piped",
  }).output();
  const err = new TextDecoder().decode(stderr);
  assert.equal(code, 0, `rayd ${args.join(" ")} --dry-run failed:\n${err}`);
  return JSON.parse(new TextDecoder().decode(stdout));
}

/** Kubernetes' `$(VAR)` expansion of container arguments. */
function expand(arg: string, env: Record<string, string>): string {
  return arg.replace(/\$\((\w+)\)/g, (_, name) => {
    assert.ok(name in env, `$(${name}) is not in the container's environment`);
    return env[name];
  });
}

async function manifests(): Promise<any[]> {
  const docs: any[] = [];
  for await (const entry of Deno.readDir(new URL("kubernetes/", DEPLOY))) {
    const text = await Deno.readTextFile(new URL(`kubernetes/${entry.name}`, DEPLOY));
    for (const doc of parseAllDocuments(text)) {
      assert.deepEqual(doc.errors, [], `${entry.name}: ${doc.errors.join("; ")}`);
      docs.push({ file: entry.name, ...doc.toJS() });
    }
  }
  return docs;
}

Deno.test("every Kubernetes manifest parses and names what the others use", async () => {
  const docs = await manifests();
  const kinds = docs.map((d) => `${d.kind}/${d.metadata.name}`).sort();
  assert.deepEqual(kinds, [
    "Deployment/rayd-head",
    "Deployment/rayd-redis",
    "Deployment/rayd-worker",
    "Secret/rayd-token",
    "Service/rayd-head",
    "Service/rayd-redis",
  ]);
  for (const d of docs.filter((d) => d.kind === "Deployment")) {
    assert.deepEqual(d.spec.selector.matchLabels, d.spec.template.metadata.labels, d.file);
    const service = docs.find((s) => s.kind === "Service" && s.metadata.name === d.metadata.name);
    if (service) assert.deepEqual(service.spec.selector, d.spec.template.metadata.labels);
  }
});

Deno.test("every rayd container's command passes rayd start --dry-run", async () => {
  const docs = await manifests();
  const containers = docs.filter((d) => d.kind === "Deployment")
    .flatMap((d) => d.spec.template.spec.containers)
    .filter((c) => c.image.startsWith("rayd"));
  assert.equal(containers.length, 2);
  const roles: string[] = [];
  for (const c of containers) {
    const env: Record<string, string> = { POD_IP: "10.0.0.7", RAYD_TOKEN: TOKEN };
    for (const e of c.env) {
      if (e.valueFrom?.secretKeyRef) assert.equal(e.valueFrom.secretKeyRef.name, "rayd-token");
      assert.ok(e.name in env, `unexpected env ${e.name}`);
    }
    const settings = await dryRun(c.args.map((a: string) => expand(a, env)), env);
    roles.push(settings.role);
    assert.equal(settings.bind, "0.0.0.0");
    assert.equal(settings.nodeIpAddress, "10.0.0.7");
    assert.deepEqual(settings.token, { source: "env" });
    assert.equal(settings.objectStoreMemory, 2 * 2 ** 30);
    const port = c.ports.find((p: any) => p.name === "cluster").containerPort;
    assert.equal(settings.port, port, "the container port is the port rayd listens on");
    if (settings.role === "head") {
      assert.deepEqual(settings.redis, { address: "redis://rayd-redis:6379" });
    } else {
      assert.equal(settings.headAddress, "rayd-head:6380");
    }
  }
  assert.deepEqual(roles.sort(), ["head", "node"]);
});

Deno.test("every systemd unit's ExecStart passes rayd start --dry-run", async () => {
  for (const name of ["rayd-head.service", "rayd-node.service"]) {
    const unit = await Deno.readTextFile(new URL(`systemd/${name}`, DEPLOY));
    const exec = unit.match(/^ExecStart=(\S+) (.*)$/m);
    assert.ok(exec, `${name} has no ExecStart`);
    assert.equal(exec[1], "/usr/local/bin/rayd");
    const settings = await dryRun(exec[2].split(/\s+/), { RAYD_TOKEN: TOKEN });
    assert.equal(settings.role, name.includes("head") ? "head" : "node");
    assert.equal(settings.block, true);
  }
});

Deno.test("the Dockerfile's default command passes rayd start --dry-run", async () => {
  const text = await Deno.readTextFile(new URL("Dockerfile", DEPLOY));
  const entry = JSON.parse(text.match(/^ENTRYPOINT (.*)$/m)![1]);
  assert.deepEqual(entry, ["deno", "run", "-A", "/opt/rayd/cli/main.ts"]);
  const cmd: string[] = JSON.parse(text.match(/^CMD (.*)$/m)![1]);
  const settings = await dryRun(cmd, {});
  assert.equal(settings.role, "head");
  assert.equal(settings.token.source, "generated");
});
