import assert from "node:assert/strict";
import { formatArgs, prefixLines } from "../../runtime/worker/_console.ts";

Deno.test("formatArgs() prints strings as they are and other values inspected", () => {
  assert.equal(formatArgs(["sum", 3, { a: [1] }, null]), "sum 3 { a: [ 1 ] } null");
  assert.equal(formatArgs([]), "");
});

Deno.test("formatArgs() substitutes console format specifiers in a leading string", () => {
  assert.equal(formatArgs(["%s has %d items (%f%%)", "cart", 3.7, 0.5]), "cart has 3 items (0.5%)");
  assert.equal(formatArgs(["%o and %c", [1], "color: red"]), "[ 1 ] and ");
  assert.equal(formatArgs(["%s %s", "only"]), "only %s");
  assert.equal(formatArgs(["100%", "done"]), "100% done");
});

Deno.test("prefixLines() prefixes every line and ends with a line break", () => {
  assert.equal(prefixLines("(worker w3, add)", "a\nb"), "(worker w3, add) a\n(worker w3, add) b\n");
});
