/**
 * Remote functions are found by identity, not by shipping code: a function is
 * (declaring module URL, key), where the key is its name and how many
 * functions of that name the module declared before it. A worker imports the
 * module, whose top level declares the same functions in the same order.
 *
 * @module
 */
import { functionNotFound } from "../common/mod.ts";
import type { FunctionDescriptor } from "../protocol/mod.ts";

// deno-lint-ignore ban-types
type AnyFn = Function;

const byModule = new Map<string, Map<string, AnyFn>>();
const nameCounts = new Map<string, Map<string, number>>();
const imports = new Map<string, Promise<unknown>>();

/** Where rayd's own sources live: frames there are not the user's module. */
const OWN_ROOT = new URL("../../", import.meta.url).href;
const OWN_FILES = [new URL("runtime/", OWN_ROOT).href, new URL("mod.ts", OWN_ROOT).href];
const FRAME_URL = /((?:file|https?|data|blob):[^\s()]+?):\d+:\d+\)?$/;

/** The URL of the module that called into rayd, from the current stack. */
export function callerModuleUrl(): string | undefined {
  const stack = new Error().stack?.split("\n") ?? [];
  for (const line of stack.slice(1)) {
    const url = FRAME_URL.exec(line.trim())?.[1];
    if (!url) continue;
    if (OWN_FILES.some((own) => url.startsWith(own))) continue;
    return url;
  }
  return undefined;
}

/**
 * Registers `fn`, declared by the module at `moduleUrl`, and describes it.
 * Without a module URL, the function's source is shipped instead.
 */
export function registerFunction(
  fn: AnyFn,
  moduleUrl: string | undefined,
): FunctionDescriptor {
  const name = fn.name || "anonymous";
  if (!moduleUrl) return { moduleUrl: "", key: name, name, source: fn.toString() };
  let counts = nameCounts.get(moduleUrl);
  if (!counts) nameCounts.set(moduleUrl, counts = new Map());
  const n = counts.get(name) ?? 0;
  counts.set(name, n + 1);
  const key = `${name}#${n}`;
  let fns = byModule.get(moduleUrl);
  if (!fns) byModule.set(moduleUrl, fns = new Map());
  fns.set(key, fn);
  return { moduleUrl, key, name };
}

const shipped = new Map<string, AnyFn>();

/** The function a descriptor names, importing its module on first use. */
export async function resolveFunction(desc: FunctionDescriptor): Promise<AnyFn> {
  if (desc.source !== undefined) return fromSource(desc.source);
  let fn = byModule.get(desc.moduleUrl)?.get(desc.key);
  if (fn) return fn;
  let loading = imports.get(desc.moduleUrl);
  if (!loading) imports.set(desc.moduleUrl, loading = import(desc.moduleUrl));
  try {
    await loading;
  } catch (err) {
    throw functionNotFound(desc.moduleUrl, desc.key, err);
  }
  fn = byModule.get(desc.moduleUrl)?.get(desc.key);
  if (!fn) throw functionNotFound(desc.moduleUrl, desc.key);
  return fn;
}

/** The registered function, if its module was already imported. */
export function lookupFunction(desc: FunctionDescriptor): AnyFn | undefined {
  return desc.source !== undefined
    ? shipped.get(desc.source)
    : byModule.get(desc.moduleUrl)?.get(desc.key);
}

function fromSource(source: string): AnyFn {
  let fn = shipped.get(source);
  if (!fn) {
    fn = (0, eval)(`(${source})`) as AnyFn;
    shipped.set(source, fn);
  }
  return fn;
}
