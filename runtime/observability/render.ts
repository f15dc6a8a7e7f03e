/**
 * DOT to SVG with Graphviz's own layout (`dot`), compiled to WebAssembly:
 * nothing to install.
 *
 * @module
 */
import { Graphviz } from "./_graphviz.ts";

let graphviz: ReturnType<typeof Graphviz.load> | undefined;

/**
 * Lays out and draws a DOT graph as SVG. The WebAssembly module is loaded on
 * the first call (about 100 ms) and kept.
 *
 * @param dot the graph, in DOT
 * @returns the SVG document text
 * @throws Error when the DOT text does not parse
 * @example
 * ```ts
 * import { renderSvg } from "./render.ts";
 * const svg = await renderSvg('digraph { "op-root" -> add [style=dashed] }');
 * console.assert(svg.includes("<svg"));
 * ```
 */
export async function renderSvg(dot: string): Promise<string> {
  graphviz ??= Graphviz.load();
  const gv = await graphviz;
  try {
    return gv.dot(dot, "svg");
  } catch (err) {
    throw new Error(`Cannot render graph: Graphviz rejected the DOT text (${err})`, {
      cause: err,
    });
  }
}
