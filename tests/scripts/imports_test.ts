import assert from "node:assert/strict";
import { findImports } from "../../scripts/_imports.ts";

/** The specifiers found in `source`, in order. */
function specifiers(source: string): string[] {
  return findImports(source).map((ref) => ref.specifier);
}

Deno.test("findImports() finds every static import form", () => {
  const source = `
import a from "./a.ts";
import { b, c as d } from "./b.ts";
import * as e from "./e.ts";
import f, { g } from "./f.ts";
import h, * as i from "./h.ts";
import "./side.ts";
import j from "./j.json" with { type: "json" };
`;
  assert.deepEqual(specifiers(source), [
    "./a.ts",
    "./b.ts",
    "./e.ts",
    "./f.ts",
    "./h.ts",
    "./side.ts",
    "./j.json",
  ]);
});

Deno.test("findImports() finds re-exports but not local exports", () => {
  const source = `
export * from "./a.ts";
export * as ns from "./b.ts";
export { x, y as z } from "./c.ts";
export type { T } from "./d.ts";
export type * from "./e.ts";
export { local };
export const k = "./not_an_import.ts";
`;
  assert.deepEqual(specifiers(source), ["./a.ts", "./b.ts", "./c.ts", "./d.ts", "./e.ts"]);
});

Deno.test("findImports() reports the line of the import keyword of a multi-line import", () => {
  const refs = findImports(`// header\n\nimport {\n  a,\n  b,\n} from "./a.ts";\n`);
  assert.deepEqual(refs, [{ specifier: "./a.ts", line: 3, typeOnly: false, dynamic: false }]);
});

Deno.test("findImports() marks import type and export type as type-only", () => {
  const refs = findImports(`
import type { A } from "./a.ts";
import type B from "./b.ts";
import { type C } from "./c.ts";
import type from "./d.ts";
export type { E } from "./e.ts";
`);
  assert.deepEqual(refs.map((r) => [r.specifier, r.typeOnly]), [
    ["./a.ts", true],
    ["./b.ts", true],
    ["./c.ts", false],
    ["./d.ts", false],
    ["./e.ts", true],
  ]);
});

Deno.test("findImports() finds literal dynamic imports and skips computed ones", () => {
  const refs = findImports(`
const a = await import("./a.ts");
const b = await import("./b.json", { with: { type: "json" } });
const c = await import(name);
const d = await import(\`./\${name}.ts\`);
const e = await import(\`./e.ts\`);
type F = typeof import("./f.ts");
`);
  assert.deepEqual(refs.map((r) => [r.specifier, r.dynamic, r.typeOnly]), [
    ["./a.ts", true, false],
    ["./b.json", true, false],
    ["./e.ts", true, false],
    ["./f.ts", true, true],
  ]);
});

Deno.test("findImports() ignores imports inside comments, strings and templates", () => {
  const source = `
// import a from "./a.ts";
/* import b from "./b.ts";
   export * from "./c.ts"; */
const s = 'import d from "./d.ts"';
const t = \`
import e from "./e.ts";
\${"x"} import f from "./f.ts"\`;
import g from "./g.ts";
`;
  assert.deepEqual(findImports(source), [
    { specifier: "./g.ts", line: 9, typeOnly: false, dynamic: false },
  ]);
});

Deno.test("findImports() is not derailed by quotes inside regular expressions", () => {
  const source = `
const quote = /["'\`]/g;
const cls = /[/"]/;
const half = total / 2; const other = 3 / "x".length;
import a from "./a.ts";
`;
  assert.deepEqual(specifiers(source), ["./a.ts"]);
});

Deno.test("findImports() ignores import.meta, property names and methods called import", () => {
  const source = `
const here = import.meta.url;
const o = { import: 1, export: 2 };
loader.import("./not.ts");
export { a, b }
import c from "./c.ts";
`;
  assert.deepEqual(findImports(source).map((r) => [r.specifier, r.line]), [["./c.ts", 6]]);
});

Deno.test("findImports() ignores import-equals declarations", () => {
  assert.deepEqual(specifiers(`import fs = require("fs");`), []);
});
