/** The @hpcc-js/wasm-graphviz pin, in one place (Graphviz compiled to WebAssembly). */
export { Graphviz } from "npm:@hpcc-js/wasm-graphviz@1.29.2";
