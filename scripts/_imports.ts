/**
 * Finds the module specifiers a TypeScript/JavaScript file imports, without a
 * full parser: a small tokenizer that knows comments, strings, template
 * literals and regular expressions, and a matcher for import and export
 * statements. Private to scripts/.
 *
 * @module
 */

/** One import of a module by a literal specifier. */
export interface ImportRef {
  /** The specifier as written, e.g. `"../common/mod.ts"`. */
  specifier: string;
  /** 1-based line of the `import` or `export` keyword. */
  line: number;
  /** `import type`, `export type` or `typeof import(...)`: erased at run time. */
  typeOnly: boolean;
  /** `import("...")` rather than a static statement. */
  dynamic: boolean;
}

interface Token {
  kind: "name" | "string" | "punct" | "other";
  value: string;
  line: number;
}

/** Keywords after which a `/` starts a regular expression, not a division. */
const BEFORE_REGEX = new Set(
  "return typeof instanceof in of new delete void throw case do else yield await".split(" "),
);

/**
 * Lists the static imports, re-exports and literal dynamic imports of a source file.
 *
 * @param source the file's text
 * @returns the imports in source order
 * @example
 * ```ts
 * const [ref] = findImports(`import type { A } from "./a.ts";`);
 * console.assert(ref.specifier === "./a.ts" && ref.typeOnly && ref.line === 1);
 * ```
 */
export function findImports(source: string): ImportRef[] {
  const tokens = tokenize(source);
  const at = (i: number) => tokens[i] ?? { kind: "other", value: "", line: 0 };
  const is = (i: number, value: string) => at(i).kind !== "string" && at(i).value === value;
  const refs: ImportRef[] = [];
  const fromClause = (j: number, line: number, typeOnly: boolean) => {
    if (is(j, "from") && at(j + 1).kind === "string") {
      refs.push({ specifier: at(j + 1).value, line, typeOnly, dynamic: false });
    }
  };
  const closeBrace = (j: number) => {
    while (j < tokens.length && !is(j, "}")) j++;
    return j + 1;
  };
  for (let i = 0; i < tokens.length; i++) {
    const { kind, value, line } = tokens[i];
    if (kind !== "name" || is(i - 1, ".")) continue;
    if (value === "import") {
      if (is(i + 1, "(") && at(i + 2).kind === "string" && (is(i + 3, ")") || is(i + 3, ","))) {
        refs.push({
          specifier: at(i + 2).value,
          line,
          typeOnly: is(i - 1, "typeof"),
          dynamic: true,
        });
      } else if (at(i + 1).kind === "string") {
        refs.push({ specifier: at(i + 1).value, line, typeOnly: false, dynamic: false });
      } else if (!is(i + 1, "(") && !is(i + 1, ".")) {
        const typeOnly = is(i + 1, "type") && !is(i + 2, ",") &&
          !(is(i + 2, "from") && at(i + 3).kind === "string");
        let j = typeOnly ? i + 2 : i + 1;
        if (at(j).kind === "name" && !is(j, "from")) j++;
        if (is(j, ",")) j++;
        if (is(j, "{")) j = closeBrace(j);
        else if (is(j, "*") && is(j + 1, "as")) j += 3;
        fromClause(j, line, typeOnly);
      }
    } else if (value === "export") {
      const typeOnly = is(i + 1, "type");
      const j = typeOnly ? i + 2 : i + 1;
      if (is(j, "{")) fromClause(closeBrace(j), line, typeOnly);
      else if (is(j, "*")) fromClause(is(j + 1, "as") ? j + 3 : j + 1, line, typeOnly);
    }
  }
  return refs;
}

/** One comment of a source file. */
export interface Comment {
  /** The comment's text, with its markers (two slashes, or slash-star to star-slash). */
  text: string;
  /** 1-based line where it starts. */
  line: number;
}

/**
 * Lists the comments of a source file (not text inside strings, templates or
 * regular expressions that looks like one).
 *
 * @param source the file's text
 * @returns the comments in source order
 * @example
 * ```ts
 * const [c] = findComments(`const s = "// no";\n// yes`);
 * console.assert(c.text === "// yes" && c.line === 2);
 * ```
 */
export function findComments(source: string): Comment[] {
  const comments: Comment[] = [];
  tokenize(source, comments);
  return comments;
}

/**
 * Splits source into names, strings and punctuation, dropping comments (into
 * `comments` when given).
 */
function tokenize(src: string, comments?: Comment[]): Token[] {
  const tokens: Token[] = [];
  const templateDepths: number[] = []; // brace depth at each open `${`
  let depth = 0;
  let line = 1;
  let i = 0;
  const push = (kind: Token["kind"], value: string, startLine: number) =>
    tokens.push({ kind, value, line: startLine });
  const skipTo = (end: number) => {
    for (; i < end && i < src.length; i++) if (src[i] === "\n") line++;
  };
  // Reads template text from i up to the closing backtick or a `${`; only a
  // template without substitutions is a plain string.
  const template = (startLine: number, plain: boolean) => {
    let text = "";
    while (i < src.length && src[i] !== "`") {
      if (src[i] === "$" && src[i + 1] === "{") {
        templateDepths.push(++depth);
        skipTo(i + 2);
        push("other", "`", startLine);
        return;
      }
      if (src[i] === "\\") {
        text += src[i + 1];
        skipTo(i + 2);
      } else {
        text += src[i];
        skipTo(i + 1);
      }
    }
    skipTo(i + 1);
    push(plain ? "string" : "other", text, startLine);
  };
  while (i < src.length) {
    const c = src[i];
    const startLine = line;
    if (/\s/.test(c)) skipTo(i + 1);
    else if (c === "/" && (src[i + 1] === "/" || src[i + 1] === "*")) {
      const end = src[i + 1] === "/"
        ? Math.min(src.indexOf("\n", i) >>> 0, src.length)
        : Math.min((src.indexOf("*/", i + 2) >>> 0) + 2, src.length);
      comments?.push({ text: src.slice(i, end), line: startLine });
      skipTo(end);
    } else if (c === '"' || c === "'") {
      let text = "";
      skipTo(i + 1);
      while (i < src.length && src[i] !== c && src[i] !== "\n") {
        text += src[i] === "\\" ? src[i + 1] : src[i];
        skipTo(src[i] === "\\" ? i + 2 : i + 1);
      }
      skipTo(i + 1);
      push("string", text, startLine);
    } else if (c === "`") {
      skipTo(i + 1);
      template(startLine, true);
    } else if (c === "/" && regexAllowed(tokens.at(-1))) {
      let inClass = false;
      for (i++; i < src.length && src[i] !== "\n"; i++) {
        if (src[i] === "\\") i++;
        else if (src[i] === "[") inClass = true;
        else if (src[i] === "]") inClass = false;
        else if (src[i] === "/" && !inClass) break;
      }
      skipTo(i + 1);
      while (/[\w$]/.test(src[i] ?? "")) i++;
      push("other", "/regex/", startLine);
    } else if (/[\w$\u0080-\uffff]/.test(c)) {
      const start = i;
      while (i < src.length && /[\w$\u0080-\uffff]/.test(src[i])) i++;
      push("name", src.slice(start, i), startLine);
    } else {
      skipTo(i + 1);
      if (c === "{") depth++;
      if (c === "}" && templateDepths.at(-1) === depth) {
        templateDepths.pop();
        depth--;
        template(startLine, false);
        continue;
      }
      if (c === "}") depth--;
      push("punct", c, startLine);
    }
  }
  return tokens;
}

/** Whether a `/` after `prev` starts a regular expression. */
function regexAllowed(prev: Token | undefined): boolean {
  if (prev === undefined) return true;
  if (prev.kind === "name") return BEFORE_REGEX.has(prev.value);
  if (prev.kind === "punct") return !")]}".includes(prev.value);
  return false;
}
