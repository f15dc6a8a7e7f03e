/**
 * Headless Chromium through playwright-core (the npm pin, in one place),
 * driving Debian's `chromium` package: nothing is downloaded.
 *
 * @module
 */
import { type BrowserContext, chromium } from "./_playwright.ts";

export type { BrowserContext, Page } from "./_playwright.ts";

/** Where Debian's chromium is, or `undefined` when it is not installed. */
export const CHROMIUM: string | undefined = ["/usr/bin/chromium", "/usr/bin/chromium-browser"]
  .find((path) => {
    try {
      return Deno.statSync(path).isFile;
    } catch {
      return false;
    }
  });

/**
 * Starts headless Chromium with a fresh profile in `userDataDir`.
 *
 * @param userDataDir an empty directory for the profile
 * @returns the browser context; close it when done
 * @throws Error when chromium is not installed
 */
export async function openBrowser(userDataDir: string): Promise<BrowserContext> {
  if (!CHROMIUM) throw new Error("Cannot start chromium: not installed (apt-get install chromium)");
  return await chromium.launchPersistentContext(userDataDir, {
    executablePath: CHROMIUM,
    headless: true,
    args: [
      "--no-sandbox",
      "--disable-gpu",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
      "--no-first-run",
    ],
  });
}
