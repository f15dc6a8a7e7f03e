import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import {
  checkImports,
  checkMentions,
  LAYERS,
  MAX_LINES,
  MAX_RUNTIME_LINES,
  type Violation,
} from "../../scripts/check_layering.ts";

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

Deno.test("checkImports() allows observability to import gcs only with import type", () => {
  const file = "runtime/observability/graph.ts";
  assert.deepEqual(check({ [file]: `import type { Store } from "../gcs/mod.ts";` }), []);
  assert.deepEqual(check({ [file]: `export type { Store } from "../gcs/mod.ts";` }), []);
  const [message] = messages({ [file]: `import { type Store } from "../gcs/mod.ts";` });
  assert.match(message, /^Value import of runtime\/gcs\/mod\.ts: .* only with "import type"/);
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
  assert.deepEqual(check({ "cli/a.ts": atLimit }), []);
  assert.deepEqual(check({ "cli/big.ts": atLimit + "y;\n" }), [{
    file: "cli/big.ts",
    line: MAX_LINES + 1,
    message: `File has ${MAX_LINES + 1} lines: split it (limit ${MAX_LINES})`,
  }]);
});

Deno.test("checkImports() holds the engine's files (runtime/, mod.ts) to 600 lines", () => {
  const atLimit = "x;\n".repeat(MAX_RUNTIME_LINES);
  assert.deepEqual(check({ "runtime/core/a.ts": atLimit, "mod.ts": atLimit }), []);
  assert.deepEqual(check({ "runtime/core/big.ts": atLimit + "y;\n" }), [{
    file: "runtime/core/big.ts",
    line: MAX_RUNTIME_LINES + 1,
    message: `File has ${MAX_RUNTIME_LINES + 1} lines: split it (limit ${MAX_RUNTIME_LINES})`,
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

Deno.test("checkImports() rejects a _ file imported from outside its folder, anywhere", () => {
  const found = check({
    "cli/list.ts": `import { t } from "../scripts/_table.ts";`,
    "tests/integration/a_test.ts": `import { r } from "../gcs/_redis.ts";`,
    "scripts/suite.ts": `import { m } from "./bench/_measure.ts";`,
  });
  assert.deepEqual(found.map((v) => `${v.file}:${v.line}: ${v.message}`), [
    "cli/list.ts:1: Import of private file scripts/_table.ts: " +
    "files starting with _ are private to scripts",
    "scripts/suite.ts:1: Import of private file scripts/bench/_measure.ts: " +
    "files starting with _ are private to scripts/bench",
    "tests/integration/a_test.ts:1: Import of private file tests/gcs/_redis.ts: " +
    "files starting with _ are private to tests/gcs",
  ]);
});

Deno.test("checkImports() lets a folder below and the folder's own tests use its _ files", () => {
  const tree = {
    "scripts/_imports.ts": "",
    "scripts/bench/x.ts": `import { f } from "../_imports.ts";`,
    "tests/scripts/a_test.ts": `import { f } from "../../scripts/_imports.ts";`,
    "tests/bench/b_test.ts": `import { m } from "../../scripts/bench/_measure.ts";`,
    "tests/cli/c_test.ts": `import { c } from "../../cli/_command.ts";`,
    "tests/gcs/d_test.ts": `import { c } from "../../runtime/gcs/_redis_client.ts";`,
    "tests/gcs/e_test.ts": `import { h } from "./_helper.ts";`,
  };
  assert.deepEqual(check(tree), []);
});

/** Mentions checked against a repository holding `paths`. */
function mentions(files: Record<string, string>, paths: string[]): string[] {
  const existing = new Set([...paths, ...Object.keys(files)]);
  return checkMentions(new Map(Object.entries(files)), existing)
    .map((v) => `${v.file}:${v.line}: ${v.message}`);
}

Deno.test("checkMentions() flags a missing file named in a code comment, with its line", () => {
  const source = [
    "/**",
    " * See docs/GONE.md and actor_channel.ts; runtime/core/mod.ts is here.",
    " */",
    `const s = "docs/IN_A_STRING.md"; // and ../core/missing.ts`,
  ].join("\n");
  assert.deepEqual(mentions({ "runtime/gcs/a.ts": source }, ["runtime/core/mod.ts"]), [
    "runtime/gcs/a.ts:2: Mention of docs/GONE.md: no such file in the repository " +
    "(fix or remove the reference)",
    "runtime/gcs/a.ts:2: Mention of actor_channel.ts: no such file in the repository " +
    "(fix or remove the reference)",
    "runtime/gcs/a.ts:4: Mention of ../core/missing.ts: no such file in the repository " +
    "(fix or remove the reference)",
  ]);
});

Deno.test("checkMentions() flags a missing file named in Markdown, outside the repository too", () => {
  const doc = "# Title\n\nThe contract is elsewhere/API.md.\nSee [API](API.md).\n";
  assert.deepEqual(mentions({ "docs/GUIDE.md": doc }, ["docs/API.md"]), [
    "docs/GUIDE.md:3: Mention of elsewhere/API.md: no such file in the repository " +
    "(fix or remove the reference)",
  ]);
});

Deno.test("checkMentions() accepts paths from the root, from the file, and path ends", () => {
  const files = {
    "README.md": "[api](docs/API.md), runtime/core/mod.ts, core/mod.ts, `mod.ts`, ./cli/main.ts",
    "runtime/core/a.ts": "// ../gcs/mod.ts, _redis_script.ts, deno.json\nconst x = 1;",
  };
  const paths = ["docs/API.md", "runtime/core/mod.ts", "runtime/gcs/mod.ts", "mod.ts"];
  paths.push("cli/main.ts", "runtime/gcs/_redis_script.ts", "deno.json");
  assert.deepEqual(mentions(files, paths), []);
});

Deno.test("checkMentions() skips URLs, absolute paths, example names and other extensions", () => {
  const doc = [
    "https://example.com/docs/guide.md and npm:pkg/index.js",
    "/usr/share/doc/x.txt, ~/notes/todo.md",
    "rayd run script.ts -- -o trace.json; ./a.ts; Node.js",
    "graph.svg, FILE.dot, images/missing.png",
  ].join("\n");
  assert.deepEqual(mentions({ "docs/X.md": doc }, []), []);
});

/** Runs check_layering.ts over `root`; its exit code and output. */
async function runCheck(root: string): Promise<{ code: number; text: string }> {
  const script = fileURLToPath(new URL("../../scripts/check_layering.ts", import.meta.url));
  const out = await new Deno.Command(Deno.execPath(), { args: ["run", "-A", script, root] })
    .output();
  const text = new TextDecoder().decode(out.stdout) + new TextDecoder().decode(out.stderr);
  return { code: out.code, text };
}

/** Writes a fixture tree (path -> text) under a new temp dir; returns the dir. */
async function writeTree(tree: Record<string, string>): Promise<string> {
  const root = await Deno.makeTempDir({ prefix: "rayd_layering_tree_" });
  for (const [path, text] of Object.entries(tree)) {
    await Deno.mkdir(`${root}/${path.split("/").slice(0, -1).join("/")}`, { recursive: true });
    await Deno.writeTextFile(`${root}/${path}`, text);
  }
  return root;
}

const GOOD_TREE: Record<string, string> = {
  "README.md": "See [docs/API.md](docs/API.md) and runtime/core/mod.ts.\n",
  "docs/API.md": "# API\n\n`rayd run script.ts`; see [ARCHITECTURE.md](ARCHITECTURE.md).\n",
  "docs/ARCHITECTURE.md": "# Inside\n\nThe tests live in tests/core/a_test.ts.\n",
  "mod.ts": `/** The door (docs/API.md). */\nexport * from "./runtime/core/mod.ts";\n`,
  "runtime/common/mod.ts": "export const a = 1;\n",
  "runtime/core/_refs.ts": "// Private to core; used by mod.ts.\nexport const b = 2;\n",
  "runtime/core/mod.ts": `export * from "../common/mod.ts";\nexport * from "./_refs.ts";\n`,
  "tests/core/a_test.ts": `import { b } from "../../runtime/core/_refs.ts";\nconsole.log(b);\n`,
};

Deno.test("check_layering.ts passes a fixture tree whose docs and imports are all right", async () => {
  const root = await writeTree(GOOD_TREE);
  try {
    const { code, text } = await runCheck(root);
    assert.equal(code, 0, text);
    assert.match(text, /^Layering OK: 5 files .*; 3 Markdown files name no missing file/);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("check_layering.ts fails a fixture tree with a dangling mention and a foreign _ import", async () => {
  const root = await writeTree({
    ...GOOD_TREE,
    "README.md": "The contract is in elsewhere/API.md.\n",
    "runtime/core/mod.ts":
      `// Key layout: docs/CONTROL_STORE.md\nexport * from "../common/mod.ts";\n`,
    "tests/integration/b_test.ts": `import { b } from "../../runtime/core/_refs.ts";\n`,
  });
  try {
    const { code, text } = await runCheck(root);
    assert.equal(code, 1, text);
    assert.match(text, /^README\.md:1: Mention of elsewhere\/API\.md: no such file/m);
    assert.match(text, /^runtime\/core\/mod\.ts:1: Mention of docs\/CONTROL_STORE\.md/m);
    assert.match(
      text,
      /^tests\/integration\/b_test\.ts:1: Import of private file runtime\/core\/_refs\.ts/m,
    );
    assert.match(text, /Layering check failed: 3 violation\(s\)/);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});
