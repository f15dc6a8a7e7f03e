/**
 * Map-reduce word count over a folder of text files.
 *
 * The driver reads each file and puts its text in the object store; one map
 * task per file splits the text into words and partitions the counts by word
 * into `reducers` parts (one return per part); one reduce task per part sums
 * that part of every map output. The driver merges the parts, prints the most
 * frequent words, and checks the result against a count made without rayd
 * (the process exits 1 when they differ).
 *
 * Run it with `deno run -A examples/word_count.ts [folder] [--reducers N]`.
 * Without a folder it counts the repository's Markdown documents. With
 * `RAYD_ADDRESS` set, `ray.init()` joins that cluster instead of starting an
 * embedded one.
 *
 * @module
 */
import { parseArgs } from "node:util";
import * as ray from "../mod.ts";

/** Counts of words, by word (a Map: words such as "constructor" are not object keys). */
export type Counts = Map<string, number>;

/** Splits text into lower-case words (letters, digits and inner apostrophes). */
export function wordsOf(text: string): string[] {
  return text.toLowerCase().match(/[\p{L}\p{N}]+(?:'[\p{L}\p{N}]+)*/gu) ?? [];
}

/** The reduce part a word belongs to: a stable string hash modulo `parts`. */
export function partOf(word: string, parts: number): number {
  let h = 2166136261;
  for (let i = 0; i < word.length; i++) h = Math.imul(h ^ word.charCodeAt(i), 16777619);
  return (h >>> 0) % parts;
}

/** Counts the words of one text, split into `parts` partitions by word. */
export function countByPart(text: string, parts: number): Counts[] {
  const out: Counts[] = Array.from({ length: parts }, () => new Map());
  for (const w of wordsOf(text)) {
    const part = out[partOf(w, parts)];
    part.set(w, (part.get(w) ?? 0) + 1);
  }
  return out;
}

/** Map: one file's text to `parts` partial counts (one return each). */
export const mapFile = ray.remote(function mapFile(text: string, parts: number): Counts[] {
  return countByPart(text, parts);
});

/** Reduce: the sum of one partition of every map output. */
export const reducePart = ray.remote(function reducePart(...counts: Counts[]): Counts {
  const total: Counts = new Map();
  for (const c of counts) for (const [w, n] of c) total.set(w, (total.get(w) ?? 0) + n);
  return total;
});

/** Counts the words of `texts` with map and reduce tasks. */
export async function wordCount(texts: string[], reducers: number): Promise<Map<string, number>> {
  const mapped = texts.map((t) =>
    mapFile.options({ numReturns: reducers }).remote(ray.put(t), reducers) as ray.ObjectRef<
      Counts
    >[]
  );
  const reduced = Array.from(
    { length: reducers },
    (_, r) => reducePart.remote(...mapped.map((parts) => parts[r])),
  );
  const result = new Map<string, number>();
  for (const part of await ray.get(reduced)) {
    for (const [w, n] of part) result.set(w, n);
  }
  return result;
}

/** The text of every `.md`/`.txt` file under `folder`, sorted by path. */
async function readTexts(folder: string): Promise<string[]> {
  const paths: string[] = [];
  const walk = async (dir: string) => {
    for await (const e of Deno.readDir(dir)) {
      const path = `${dir}/${e.name}`;
      if (e.isDirectory) await walk(path);
      else if (e.isFile && /\.(md|txt)$/.test(e.name)) paths.push(path);
    }
  };
  await walk(folder);
  paths.sort();
  return await Promise.all(paths.map((p) => Deno.readTextFile(p)));
}

if (import.meta.main) {
  const { values, positionals } = parseArgs({
    args: Deno.args,
    options: { reducers: { type: "string", default: "4" } },
    allowPositionals: true,
  });
  const reducers = Number(values.reducers);
  if (!Number.isInteger(reducers) || reducers < 1) {
    console.error(`--reducers must be an integer >= 1, got ${values.reducers}`);
    Deno.exit(2);
  }
  const folder = positionals[0] ?? new URL("../docs", import.meta.url).pathname;
  const texts = await readTexts(folder);
  if (texts.length === 0) {
    console.error(`No .md or .txt files under ${folder}`);
    Deno.exit(2);
  }
  await ray.init();
  const counts = await wordCount(texts, reducers);
  await ray.shutdown();

  const expected = new Map<string, number>();
  for (const w of texts.flatMap(wordsOf)) expected.set(w, (expected.get(w) ?? 0) + 1);
  const top = [...counts].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1)).slice(0, 10);
  const total = [...counts.values()].reduce((a, b) => a + b, 0);
  console.log(`${texts.length} files, ${total} words, ${counts.size} distinct`);
  for (const [w, n] of top) console.log(`${String(n).padStart(8)}  ${w}`);
  const same = counts.size === expected.size &&
    [...expected].every(([w, n]) => counts.get(w) === n);
  console.log(same ? "word count matches" : "word count DIFFERS from a plain count");
  if (!same) Deno.exit(1);
}
