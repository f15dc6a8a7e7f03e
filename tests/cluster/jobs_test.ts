/**
 * Job ids in a cluster: a task, a nested task, an actor and an actor made
 * inside a task all run for the job of the driver that submitted them (not
 * the job of the node they run on), with two drivers at once; the nodes'
 * control-store records name the driver's job.
 */
import assert from "node:assert/strict";
import { startInProcessCluster, TEST_TOKEN } from "./in_process_cluster.ts";

const DRIVER = new URL("../fixtures/cluster_driver.ts", import.meta.url);

interface Jobs {
  driver: string;
  tasks: string[];
  nested: string[];
  actor: string[];
  taskActor: string[];
}

async function jobsDriver(env: Record<string, string>): Promise<Jobs> {
  const { code, stdout, stderr } = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", DRIVER.href, "jobs"],
    env,
    stdout: "piped",
    stderr: "piped",
  }).output();
  const out = new TextDecoder().decode(stdout);
  assert.equal(code, 0, `driver exited ${code}:\n${out}\n${new TextDecoder().decode(stderr)}`);
  return JSON.parse(out.trim().split("\n").at(-1)!);
}

Deno.test({
  name: "tasks, nested tasks and actors on nodes run for their driver's job, two drivers at once",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    const c = await startInProcessCluster({ numWorkers: 1 }, [{ numWorkers: 2 }, {
      numWorkers: 2,
    }]);
    try {
      const env = { RAYD_ADDRESS: c.address, RAYD_TOKEN: TEST_TOKEN };
      const [a, b] = await Promise.all([jobsDriver(env), jobsDriver(env)]);
      assert.notEqual(a.driver, b.driver, "two drivers, two jobs");
      const processes = [c.head, ...c.nodes];
      const nodeJobs = new Set(processes.map((p) => p.node.jobId as string));
      for (const j of [a, b]) {
        assert.ok(!nodeJobs.has(j.driver));
        assert.deepEqual(j.tasks, j.tasks.map(() => j.driver), "tasks");
        assert.deepEqual(j.nested, [j.driver, j.driver], "a task and its nested task");
        assert.deepEqual(j.actor, [j.driver, j.driver], "an actor's constructor and method");
        assert.deepEqual(j.taskActor, [j.driver, j.driver], "an actor created in a task");
      }
      // The nodes' records of those tasks and actors name the driver's job.
      const tasks = (await Promise.all(processes.map((p) => p.node.gcs.listTasks()))).flat()
        .filter((t) => t.name === "jobHere" || t.name === "jobNested");
      assert.ok(tasks.length >= 2 * 9, `the nodes recorded the tasks (${tasks.length})`);
      for (const t of tasks) assert.ok(t.jobId === a.driver || t.jobId === b.driver, t.jobId);
      const actors = (await Promise.all(processes.map((p) => p.node.gcs.listActors()))).flat()
        .filter((r) => r.className === "JobActor");
      assert.ok(actors.length >= 4, `the nodes recorded the actors (${actors.length})`);
      for (const r of actors) assert.ok(r.jobId === a.driver || r.jobId === b.driver, r.jobId);
    } finally {
      await c.stop();
    }
  },
});
