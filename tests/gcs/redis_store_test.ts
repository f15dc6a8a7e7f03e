import { connectRedis } from "../../runtime/gcs/mod.ts";
import { controlStoreContract } from "./_contract.ts";
import { REDIS_SERVER, startRedis } from "./redis_server.ts";

Deno.test({
  name: "RedisControlStore passes the control store contract",
  ignore: !REDIS_SERVER,
  sanitizeOps: true,
  sanitizeResources: true,
  async fn(t) {
    const server = await startRedis();
    let n = 0;
    try {
      await controlStoreContract(t, (o) => connectRedis(server.url, { ...o, prefix: `t${++n}:` }));
    } finally {
      await server.dispose();
    }
  },
});
