import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  CHROMIUM,
  type Console,
  collectErrors,
  NO_CHROMIUM,
  ownOriginOnly,
  startConsole,
} from "./browser.ts";

describe.skipIf(!CHROMIUM)(`API docs in Chromium${NO_CHROMIUM}`, () => {
  let app: Console;
  beforeAll(async () => {
    app = await startConsole();
  }, 60_000);
  afterAll(() => app?.close());

  it("renders every operation with the network limited to the Worker's own origin", async () => {
    const { context, outside } = await ownOriginOnly(app.browser, app.base);
    const page = await context.newPage();
    const errors = collectErrors(page);
    const response = await page.goto(`${app.base}/docs`);
    expect(response?.headers()["content-security-policy"]).toContain("default-src 'self'");
    await page.locator(".opblock").first().waitFor({ timeout: 20_000 });
    const paths = await page.locator(".opblock-summary-path").allTextContents();
    expect(paths.map((p) => p.replace(/\u200b/g, ""))).toEqual(
      expect.arrayContaining(["/admin/phone-config", "/admin/phone-configs", "/admin/calls"]),
    );
    expect(outside).toEqual([]);
    expect(errors).toEqual([]);
    await context.close();
  });
});
