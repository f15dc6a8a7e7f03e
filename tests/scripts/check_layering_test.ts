import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { checkImports, LAYERS, MAX_LINES, type Violation } from "../../scripts/check_layering.ts";

/** Checks a fake tree given as path -> source. */
function check(tree: Record<string, string>): Violation[] {
  return checkImports(new Map(Object.entries(tree)));
}

/** The messages of the violations, for short assertions. */
function messages(tree: Record<string, string>): string[] {
  return check(tree).map((v) => v.message);
}

const FOLDERS = Object.keys(LAYERS);

Deno.test("checkImports() accepts every allowed folder import through mod.ts", () => {
  for (const [from, rule] of Object.entries(LAYERS)) {
    for (const to of rule.may) {
      const tree = { [`runtime/${from}/a.ts`]: `import { x } from "../${to}/mod.ts";` };
      assert.deepEqual(check(tree), [], `${from} -> ${to}`);
    }
  }
});

Deno.test("checkImports() rejects every folder import that the table does not allow", () => {
  for (const [from, rule] of Object.entries(LAYERS)) {
    const allowed = [from, ...rule.may, ...(rule.typesOnly ?? [])];
    for (const to of FOLDERS.filter((f) => !allowed.includes(f))) {
      const tree = { [`runtime/${from}/a.ts`]: `import { x } from "../${to}/mod.ts";` };
      const [violation, ...more] = check(tree);
      assert.equal(more.length, 0);
      assert.match(violation.message, /^Forbidden import of runtime\/.*: .* may import only/);
    }
  }
});

Deno.test("checkImports() lets common import nothing from other folders", () => {
  assert.match(
    messages({ "runtime/common/ids.ts": `export * from "../serialization/mod.ts";` })[0],
    /common may import only its own files/,
  );
});

Deno.test("checkImports() accepts any import inside one folder, private files included", () => {
  const tree = {
    "runtime/core/submit.ts": `import { a } from "./_refs.ts";\nimport "./sub/_deep.ts";`,
    "runtime/core/sub/x.ts": `import { b } from "../submit.ts";`,
  };
  assert.deepEqual(check(tree), []);
});

Deno.test("checkImports() rejects a private file of another folder", () => {
  const tree = { "runtime/core/a.ts": `import { id } from "../common/_ids.ts";` };
  assert.deepEqual(check(tree), [{
    file: "runtime/core/a.ts",
    line: 1,
    message: "Import of private file runtime/common/_ids.ts: " +
      "files starting with _ are private to runtime/common",
  }]);
});

Deno.test("checkImports() rejects a non-mod.ts file of another folder", () => {
  const [message] = messages({ "runtime/core/a.ts": `import { id } from "../common/ids.ts";` });
  assert.match(message, /^Import of runtime\/common\/ids\.ts: .* only through its mod\.ts$/);
});

Deno.test("checkImports() allows observability to import scheduler only with import type", () => {
  const file = "runtime/observability/graph.ts";
  assert.deepEqual(check({ [file]: `import type { Task } from "../scheduler/mod.ts";` }), []);
  assert.deepEqual(check({ [file]: `export type { Task } from "../scheduler/mod.ts";` }), []);
  const [message] = messages({ [file]: `import { type Task } from "../scheduler/mod.ts";` });
  assert.match(message, /^Value import of runtime\/scheduler\/mod\.ts: .* only with "import type"/);
});

Deno.test("checkImports() rejects runtime/ importing cli/, the root mod.ts or tests/", () => {
  const tree = {
    "runtime/node/a.ts": [
      `import { main } from "../../cli/main.ts";`,
      `import * as ray from "../../mod.ts";`,
      `import { x } from "../../tests/fixtures/values.ts";`,
    ].join("\n"),
  };
  const found = check(tree);
  assert.deepEqual(found.map((v) => v.line), [1, 2, 3]);
  for (const v of found) assert.match(v.message, /^Forbidden import of .*: nothing in runtime\//);
});

Deno.test("checkImports() allows runtime/ to import deno.json", () => {
  const tree = {
    "runtime/common/version.ts": `import c from "../../deno.json" with { type: "json" };`,
  };
  assert.deepEqual(check(tree), []);
});

Deno.test("checkImports() ignores npm:, node: and bare specifiers and new URL()", () => {
  const tree = {
    "runtime/common/a.ts": [
      `import { pack } from "npm:msgpackr@2.1.4";`,
      `import { Buffer } from "node:buffer";`,
      `import { x } from "msgpackr";`,
      `const url = new URL("../worker/entry.ts", import.meta.url);`,
    ].join("\n"),
  };
  assert.deepEqual(check(tree), []);
});

Deno.test("checkImports() checks literal dynamic imports and reports their line", () => {
  const tree = { "runtime/scheduler/a.ts": `const x = 1;\n\nawait import("../gcs/mod.ts");` };
  const [violation] = check(tree);
  assert.equal(violation.line, 3);
  assert.match(violation.message, /^Forbidden import of runtime\/gcs\/mod\.ts/);
});

Deno.test("checkImports() lets cli/ and mod.ts use runtime folders only through mod.ts", () => {
  assert.deepEqual(check({ "cli/start.ts": `import { Node } from "../runtime/node/mod.ts";` }), []);
  assert.deepEqual(check({ "mod.ts": `export * from "./runtime/core/mod.ts";` }), []);
  assert.match(
    messages({ "cli/start.ts": `import { x } from "../runtime/node/_daemon.ts";` })[0],
    /^Import of private file/,
  );
  assert.match(
    messages({ "mod.ts": `export { put } from "./runtime/core/put.ts";` })[0],
    /only through its mod\.ts/,
  );
});

Deno.test("checkImports() lets tests/ import runtime internals", () => {
  const tree = { "tests/core/refs_test.ts": `import { x } from "../../runtime/core/_refs.ts";` };
  assert.deepEqual(check(tree), []);
});

Deno.test("checkImports() lets examples/ import only the root mod.ts", () => {
  assert.deepEqual(check({ "examples/pi.ts": `import * as ray from "../mod.ts";` }), []);
  assert.match(
    messages({ "examples/pi.ts": `import { x } from "../runtime/core/mod.ts";` })[0],
    /examples import only the root mod\.ts/,
  );
});

Deno.test("checkImports() flags a file over the line limit at the first line past it", () => {
  const atLimit = "x;\n".repeat(MAX_LINES);
  assert.deepEqual(check({ "runtime/core/a.ts": atLimit }), []);
  assert.deepEqual(check({ "cli/big.ts": atLimit + "y;\n" }), [{
    file: "cli/big.ts",
    line: MAX_LINES + 1,
    message: `File has ${MAX_LINES + 1} lines: split it (limit ${MAX_LINES})`,
  }]);
});

Deno.test("checkImports() flags a runtime/ folder missing from the table", () => {
  assert.match(messages({ "runtime/plugins/a.ts": "" })[0], /^Unknown folder runtime\/plugins/);
  assert.match(messages({ "runtime/loose.ts": "" })[0], /^File directly in runtime\//);
});

Deno.test("checkImports() sorts violations by file and line", () => {
  const found = check({
    "runtime/gcs/b.ts": `import "../core/mod.ts";`,
    "runtime/common/a.ts": `\nimport "../gcs/mod.ts";\nimport "../core/mod.ts";`,
  });
  assert.deepEqual(found.map((v) => `${v.file}:${v.line}`), [
    "runtime/common/a.ts:2",
    "runtime/common/a.ts:3",
    "runtime/gcs/b.ts:1",
  ]);
});

Deno.test("check_layering.ts exits 1 and prints file:line: message for a bad tree", async () => {
  const root = await Deno.makeTempDir({ prefix: "rayd_layering_test_" });
  const script = fileURLToPath(new URL("../../scripts/check_layering.ts", import.meta.url));
  const run = async () => {
    const out = await new Deno.Command(Deno.execPath(), { args: ["run", "-A", script, root] })
      .output();
    const text = new TextDecoder().decode(out.stdout) + new TextDecoder().decode(out.stderr);
    return { code: out.code, text };
  };
  try {
    await Deno.mkdir(`${root}/runtime/common`, { recursive: true });
    await Deno.mkdir(`${root}/runtime/core`, { recursive: true });
    await Deno.writeTextFile(`${root}/runtime/common/mod.ts`, `export const a = 1;\n`);
    await Deno.writeTextFile(`${root}/runtime/core/mod.ts`, `export * from "../common/mod.ts";\n`);
    const good = await run();
    assert.equal(good.code, 0, good.text);
    assert.match(good.text, /^Layering OK: 2 files/);

    await Deno.writeTextFile(`${root}/runtime/common/mod.ts`, `\nimport "../core/mod.ts";\n`);
    const bad = await run();
    assert.equal(bad.code, 1);
    assert.match(
      bad.text,
      /^runtime\/common\/mod\.ts:2: Forbidden import of runtime\/core\/mod\.ts/m,
    );
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});
