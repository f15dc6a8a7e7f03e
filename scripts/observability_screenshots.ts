/**
 * Makes the pictures in docs/images/: the tutorial's two computation graphs
 * (ten sleeps; dot(zeros, zeros)) rendered by Graphviz (WebAssembly) and
 * photographed in headless chromium, and the dashboard of a small job.
 *
 * ```sh
 * deno run -A scripts/observability_screenshots.ts [OUT_DIR]
 * ```
 *
 * @module
 */
import * as ray from "../mod.ts";
import { openBrowser, type Page } from "./browser.ts";

/** Sleeps `ms` milliseconds and returns 0. */
export const sleep = ray.remote(async function sleep(ms: number) {
  await new Promise((resolve) => setTimeout(resolve, ms));
  return 0;
});

/** A `n` x `n` matrix of zeros (flat). */
export const zeros = ray.remote(function zeros(n: number) {
  return new Float64Array(n * n);
});

/** The matrix product of two flat square matrices. */
export const dot = ray.remote(function dot(a: Float64Array, b: Float64Array) {
  const n = Math.round(Math.sqrt(a.length));
  const c = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let k = 0; k < n; k++) {
      for (let j = 0; j < n; j++) c[i * n + j] += a[i * n + k] * b[k * n + j];
    }
  }
  return c;
});

/** Runs one sub-experiment. */
export const subExperiment = ray.remote(function sub_experiment(i: number, j: number) {
  return i + j;
});

/** Runs ten sub-experiments in parallel and sums them (nested tasks). */
export const runExperiment = ray.remote(async function run_experiment(i: number) {
  const parts = await ray.get(Array.from({ length: 10 }, (_, j) => subExperiment.remote(i, j)));
  return parts.reduce((a, b) => a + b, 0);
});

/** Throws, so the dashboard has a failure to show. */
export const flaky = ray.remote(function flaky(x: number): number {
  if (x > 2) throw new RangeError(`x must be at most 2, got ${x}`);
  return x;
});

async function photographSvg(page: Page, svg: string, path: string): Promise<void> {
  await page.setContent(
    `<body style="margin:0;background:#fff">${svg.slice(svg.indexOf("<svg"))}</body>`,
  );
  await page.locator("svg").screenshot({ path });
  console.log(`wrote ${path}`);
}

if (import.meta.main) {
  const out = Deno.args[0] ?? "docs/images";
  await Deno.mkdir(out, { recursive: true });
  const profile = await Deno.makeTempDir({ prefix: "rayd_screenshots_" });
  const browser = await openBrowser(profile);
  try {
    const info = await ray.init({ numWorkers: 4, dashboard: { port: 0 }, logToDriver: false });
    const page = await browser.newPage();
    await page.setViewportSize({ width: 1400, height: 1000 });

    const sleeps = Array.from({ length: 10 }, () => sleep.remote(300));
    await ray.get(sleeps);
    await photographSvg(
      page,
      await ray.graph({ refs: sleeps, format: "svg" }),
      `${out}/graph_sleep.png`,
    );

    const c = dot.remote(zeros.remote(10), zeros.remote(10));
    await ray.get(c);
    await photographSvg(
      page,
      await ray.graph({ refs: [c], format: "svg" }),
      `${out}/graph_zeros_dot.png`,
    );

    const experiments = Array.from({ length: 5 }, (_, i) => runExperiment.remote(i));
    await ray.get(experiments);
    await photographSvg(
      page,
      await ray.graph({ refs: experiments, format: "svg", collapseAbove: 20 }),
      `${out}/graph_nested_collapsed.png`,
    );

    await Promise.allSettled(Array.from({ length: 4 }, (_, i) => ray.get(flaky.remote(i))));
    await page.goto(info.dashboardUrl!);
    await page.waitForSelector("#graph svg");
    await page.screenshot({ path: `${out}/dashboard.png`, fullPage: true });
    console.log(`wrote ${out}/dashboard.png`);
  } finally {
    await browser.close();
    await ray.shutdown();
    await Deno.remove(profile, { recursive: true });
  }
}
