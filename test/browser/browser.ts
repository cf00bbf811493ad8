import { execFileSync } from "node:child_process";
import { type Browser, type BrowserContext, chromium, type Page } from "playwright-core";
import { ADMIN_API_KEY, type Stack, startStack } from "../../bench/stack.ts";
import { vendorAssets } from "../../scripts/vendor-assets.ts";

/**
 * Real Chromium (Debian's `chromium` package, driven by playwright-core) against the real
 * Worker on local workerd (bench/stack.ts: wrangler's unstable_startWorker, providers pointed
 * at the fake OpenAI and Twilio servers, nothing persisted).
 */

/** CHROMIUM_PATH, else `chromium` on PATH; undefined when neither exists. */
export function findChromium(): string | undefined {
  if (process.env.CHROMIUM_PATH) return process.env.CHROMIUM_PATH;
  try {
    return execFileSync("which", ["chromium"], { encoding: "utf8" }).trim() || undefined;
  } catch {
    return undefined;
  }
}

export const CHROMIUM = findChromium();
/** For describe titles: a skipped browser suite says why. */
export const NO_CHROMIUM = CHROMIUM
  ? ""
  : " (SKIPPED: no chromium on this machine; apt-get install -y chromium)";

export { ADMIN_API_KEY };

export interface Console {
  stack: Stack;
  base: string;
  browser: Browser;
  close(): Promise<void>;
}

export async function startConsole(extraArgs: string[] = []): Promise<Console> {
  if (!CHROMIUM) throw new Error("chromium is not installed");
  vendorAssets();
  const stack = await startStack();
  try {
    const browser = await chromium.launch({ executablePath: CHROMIUM, args: extraArgs });
    return {
      stack,
      base: stack.base,
      browser,
      close: async () => {
        await browser.close();
        await stack.close();
      },
    };
  } catch (err) {
    await stack.close();
    throw err;
  }
}

/**
 * A browser context whose network reaches the Worker's origin only: any other request is
 * aborted and listed in `outside`, so a page that needs a CDN shows up as a failed test.
 */
export async function ownOriginOnly(
  browser: Browser,
  base: string,
  options: Parameters<Browser["newContext"]>[0] = {},
): Promise<{ context: BrowserContext; outside: string[] }> {
  const context = await browser.newContext(options);
  // Well inside the test's own limit, so a missing element fails at its line.
  context.setDefaultTimeout(10_000);
  const origin = new URL(base).origin;
  const outside: string[] = [];
  await context.route("**/*", (route) => {
    const url = new URL(route.request().url());
    if (url.origin === origin) return route.continue();
    outside.push(url.href);
    return route.abort("blockedbyclient");
  });
  return { context, outside };
}

/**
 * Errors a page logged: CSP violations, failed subresource loads, script errors. A document
 * answered with an error status on purpose (a refused sign-in's 401) is not one of them.
 */
export function collectErrors(page: Page): string[] {
  const errors: string[] = [];
  const documents = new Set<string>();
  page.on("response", (r) => {
    if (r.request().resourceType() === "document") documents.add(r.url());
  });
  page.on("console", (m) => {
    if (m.type() !== "error") return;
    const url = m.location().url;
    if (/^Failed to load resource: the server responded/.test(m.text()) && documents.has(url)) return;
    errors.push(`${m.text()} (${url})`);
  });
  page.on("pageerror", (e) => errors.push(e.message));
  return errors;
}

/** Signs in through the form, as an operator would; lands on the numbers page. */
export async function signIn(page: Page, base: string, key = ADMIN_API_KEY): Promise<void> {
  await page.goto(`${base}/dashboard`);
  await page.getByLabel("Admin key").fill(key);
  await page.getByRole("button", { name: "Sign in" }).click();
}
