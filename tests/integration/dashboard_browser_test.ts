/**
 * The dashboard in a real browser: headless Debian chromium driven by
 * playwright-core, against a running job. Skipped, loudly, without chromium.
 *
 * @module
 */
import assert from "node:assert/strict";
import * as ray from "../../mod.ts";
import { CHROMIUM, openBrowser } from "../../scripts/browser.ts";
import { boom, dot, sleep, zeros } from "../fixtures/observability_fns.ts";

if (!CHROMIUM) {
  console.warn(
    "\n" + "=".repeat(72) +
      "\nSKIPPED: chromium not installed: the dashboard browser test does not run" +
      "\n(apt-get install -y chromium)\n" + "=".repeat(72) + "\n",
  );
}

Deno.test({
  name: "the dashboard shows a running job's tasks, graph and failure in chromium",
  ignore: !CHROMIUM,
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    const dir = await Deno.makeTempDir({ prefix: "rayd_dashboard_browser_" });
    const info = await ray.init({ numWorkers: 2, dashboard: { port: 0 }, logToDriver: false });
    const browser = await openBrowser(`${dir}/profile`);
    try {
      const a = zeros.remote(100);
      const b = zeros.remote(100);
      await ray.get(dot.remote(a, b));
      await ray.get(Array.from({ length: 4 }, () => sleep.remote(10)));
      await assert.rejects(ray.get(boom.remote(7)), ray.RayTaskError);
      const page = await browser.newPage();
      await page.setViewportSize({ width: 1400, height: 1000 });
      await page.goto(info.dashboardUrl!);
      await page.waitForSelector("#graph svg", { timeout: 15_000 });
      assert.equal(await page.title(), "rayd dashboard");
      assert.equal(await page.textContent('#counts [data-state="finished"] b'), "7");
      assert.equal(await page.textContent('#counts [data-state="failed"] b'), "1");
      const functions = await page.textContent("#functions");
      for (const name of ["zeros", "dot", "sleep", "boom"]) assert.ok(functions!.includes(name));
      const failure = await page.textContent("#failures .failure");
      assert.match(failure!, /RangeError: x must be 0, got 7/);
      assert.match(failure!, /Remote stack:/);
      const graph = await page.$$eval(
        "#graph svg g.node text",
        (ts) => ts.map((t) => t.textContent),
      );
      assert.ok(graph.includes("op-root"));
      assert.equal(graph.filter((t) => t === "zeros").length, 2);
      assert.ok(graph.includes("boom"));
      assert.equal(await page.locator("#graph svg g.node.failed").count(), 1);
      assert.ok(await page.locator("#timeline .tl-slice").count() >= 8);
      assert.equal(await page.textContent("#nodes td:nth-child(2)"), "alive");
      // The page refreshes itself: a task finished after load shows up.
      await ray.get(sleep.remote(1));
      await page.waitForFunction(
        `document.querySelector('#counts [data-state="finished"] b')?.textContent === "8"`,
        undefined,
        { timeout: 10_000 },
      );
      const shot = `${dir}/dashboard.png`;
      await page.screenshot({ path: shot, fullPage: true });
      assert.ok((await Deno.stat(shot)).size > 10_000);
      console.log(`screenshot: ${shot}`);
    } finally {
      await browser.close();
      await ray.shutdown();
    }
  },
});
