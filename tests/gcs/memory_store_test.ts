import { MemoryControlStore } from "../../runtime/gcs/mod.ts";
import { controlStoreContract } from "./_contract.ts";

Deno.test({
  name: "MemoryControlStore passes the control store contract",
  sanitizeOps: true,
  sanitizeResources: true,
  fn: (t) => controlStoreContract(t, (o) => Promise.resolve(new MemoryControlStore(o))),
});
