/**
 * Plain-text tables for the CLI: one header row, columns padded to fit.
 *
 * @module
 */

/** Renders `rows` (objects) as a table of `columns`, in that order. */
export function formatTable(
  columns: readonly string[],
  rows: readonly Record<string, unknown>[],
): string {
  const cells = rows.map((r) => columns.map((c) => cellText(r[c])));
  const widths = columns.map((c, i) => Math.max(c.length, ...cells.map((row) => row[i].length)));
  const line = (values: string[]) => values.map((v, i) => v.padEnd(widths[i])).join("  ").trimEnd();
  return [line(columns.map((c) => c.toUpperCase())), ...cells.map(line)].join("\n");
}

function cellText(v: unknown): string {
  if (v === undefined || v === null) return "-";
  if (typeof v === "number") return Number.isInteger(v) ? String(v) : v.toFixed(2);
  if (typeof v === "object") return JSON.stringify(v);
  const text = String(v);
  const newline = text.indexOf("\n");
  return newline === -1 ? text : text.slice(0, newline) + " ...";
}
