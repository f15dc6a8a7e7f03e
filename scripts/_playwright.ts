/** The playwright-core pin, in one place (drives Debian's chromium; downloads no browser). */
export { type BrowserContext, chromium, type Page } from "npm:playwright-core@1.65.1";
