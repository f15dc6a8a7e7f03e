/**
 * A small app written to a temp folder for the code-shipping tests: a
 * module of remote functions and an actor that imports a helper (which
 * imports an npm package) and rayd itself by a relative path, as a
 * project next to a rayd checkout would.
 *
 * @module
 */
import { relative } from "node:path";
import { fileURLToPath } from "node:url";

/** What the app's module exports (the test imports it dynamically). */
export interface ShippedApp {
  /** The app's folder (hide it from a node to make that node need the shipped copy). */
  readonly dir: string;
  /** URL of the app's module of remote functions. */
  readonly fnsUrl: string;
}

const RAYD_MOD = new URL("../../mod.ts", import.meta.url);

/** Writes the app to a fresh temp folder. */
export async function writeShippedApp(): Promise<ShippedApp> {
  const dir = await Deno.makeTempDir({ prefix: "rayd_app_" });
  await Deno.mkdir(`${dir}/app/lib`, { recursive: true });
  const rel = relative(`${dir}/app`, fileURLToPath(RAYD_MOD));
  const rayd = rel.startsWith(".") ? rel : `./${rel}`;
  await Deno.writeTextFile(
    `${dir}/app/lib/helper.ts`,
    `import { Packr } from "npm:msgpackr@2.1.4";
const packr = new Packr();
/** 2 x, through a round trip by msgpackr (an npm: import the node resolves itself). */
export function twice(x: number): number {
  return 2 * (packr.unpack(packr.pack(x)) as number);
}
`,
  );
  await Deno.writeTextFile(
    `${dir}/app/fns.ts`,
    `import * as ray from "${rayd}";
import { twice } from "./lib/helper.ts";

/** Where this ran: the module's URL, the node, and 2 x. */
export const double = ray.remote(function double(x: number) {
  return { url: import.meta.url, node: ray.getRuntimeContext().nodeId, value: twice(x) };
});

/** Runs double(x) as a nested task (on \`nodeId\` when given). */
export const nested = ray.remote(async function nested(x: number, nodeId?: string) {
  const inner = nodeId
    ? double.options({ schedulingStrategy: { nodeId } }).remote(x)
    : double.remote(x);
  return { url: import.meta.url, inner: await ray.get(inner) };
});

/** A counter adding twice what it is given. */
export class Doubler {
  n = 0;
  add(k: number): number {
    return (this.n += twice(k));
  }
  url(): string {
    return import.meta.url;
  }
}
export const DoublerActor = ray.remote(Doubler);
`,
  );
  return { dir, fnsUrl: new URL(`file://${dir}/app/fns.ts`).href };
}
