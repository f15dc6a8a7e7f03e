/**
 * The head's part in object ownership (runtime/cluster/head.ts): `hello`
 * gives each process a distinct owner tag, `join` records it, `whereIs`
 * answers the member with a tag (dead and departed ones too), and `place`
 * turns the requester's locality (bytes by address) into node ids.
 */
import assert from "node:assert/strict";
import { isOwnerTag, type NodeId, type TaskId } from "../../runtime/common/mod.ts";
import { HeadService } from "../../runtime/cluster/mod.ts";

function head() {
  const h = new HeadService({ healthCheck: { periodMs: 60_000, failureThreshold: 5 } });
  const link = { nodeDied: () => {}, close: () => {} };
  return { h, api: () => h.apiFor(link) };
}

Deno.test("head: hello gives distinct owner tags; whereIs answers by tag, gone members too", async () => {
  const { h, api } = head();
  try {
    const [n1, d1] = [api(), api()];
    const t1 = (await n1.hello()).ownerTag;
    const t2 = (await d1.hello()).ownerTag;
    assert.ok(isOwnerTag(t1) && isOwnerTag(t2));
    assert.notEqual(t1, t2);
    const resources = { CPU: 1 };
    await n1.join({
      nodeId: "n1" as NodeId,
      role: "node",
      address: "h:1",
      resources,
      numWorkers: 1,
      ownerTag: t1,
    });
    await d1.join({
      nodeId: "d1" as NodeId,
      role: "driver",
      address: "h:2",
      resources: {},
      numWorkers: 0,
      ownerTag: t2,
    });
    assert.deepEqual(await n1.whereIs(t2), { nodeId: "d1", address: "h:2", alive: true });
    h.left("d1" as NodeId);
    assert.deepEqual(await n1.whereIs(t2), { nodeId: "d1", address: "h:2", alive: false });
    assert.equal(await n1.whereIs("0badcafe"), undefined);
    await assert.rejects(async () => await n1.whereIs("nope"), /Invalid owner tag "nope"/);
    const other = api();
    await assert.rejects(
      async () =>
        await other.join({
          nodeId: "n2" as NodeId,
          role: "node",
          address: "h:3",
          resources,
          numWorkers: 1,
          ownerTag: t1,
        }),
      /Invalid owner tag "[0-9a-f]{8}": ask hello for one/,
      "a live member's tag is not taken twice",
    );
    // Locality comes by address and goes to the scheduler by node id.
    const [d] = await d1.place([{
      taskId: "t".repeat(24) as TaskId,
      demand: resources,
      strategy: "DEFAULT",
      locality: [["h:1", 1 << 20], ["h:2", 1 << 30]],
    }]);
    assert.equal(d.type, "place");
    assert.equal((d as { nodeId: string }).nodeId, "n1");
  } finally {
    h.close();
  }
});
