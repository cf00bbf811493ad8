import type { BrowserContext, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { admin } from "../../bench/stack.ts";
import {
  CHROMIUM,
  type Console,
  collectErrors,
  NO_CHROMIUM,
  ownOriginOnly,
  signIn,
  startConsole,
} from "./browser.ts";

const PHONE = "+14155550181";
const configOf = async (app: Console) =>
  JSON.parse((await admin(app.stack, "GET", `/admin/phone-config/${PHONE}`)).body).config;

describe.skipIf(!CHROMIUM)(`number history in Chromium${NO_CHROMIUM}`, () => {
  let app: Console;
  let context: BrowserContext;
  let outside: string[];
  let page: Page;
  let errors: string[];
  beforeAll(async () => {
    app = await startConsole();
    ({ context, outside } = await ownOriginOnly(app.browser, app.base));
    page = await context.newPage();
    errors = collectErrors(page);
    await admin(app.stack, "POST", "/admin/phone-config", {
      phone_number: PHONE,
      display_name: "History Line",
      system_prompt: "You are the history test's agent.",
      greeting: "Hello.",
      temperature: 0.7,
    });
    await signIn(page, app.base);
  }, 90_000);
  afterAll(async () => {
    await context?.close();
    await app?.close();
  });

  it("edits in the console, shows the versions and a side-by-side diff, and rolls back in one click", async () => {
    await page.goto(`${app.base}/dashboard/numbers/${encodeURIComponent(PHONE)}`);
    await page.getByLabel("Temperature").fill("0.3");
    await page.getByRole("button", { name: "Save changes" }).click();
    await page.getByText("Changes saved.").waitFor();

    await page.getByRole("link", { name: "History" }).click();
    const versions = page.locator("table.versions tbody tr");
    await expect(versions.count()).resolves.toBe(2);
    // The console's own write is recorded with the signed-in key's name as its actor.
    await expect(versions.first().textContent()).resolves.toContain("temperature");
    const diff = page.locator("table.diff");
    const row = diff.locator("tbody tr", { hasText: "temperature" });
    await expect(row.locator("td").nth(0).textContent()).resolves.toBe("0.7");
    await expect(row.locator("td").nth(1).textContent()).resolves.toBe("0.3");

    await page.getByRole("button", { name: "Roll back to version 1" }).click();
    await page.getByText(/Rolled back to version 1's settings, saved as version 3/).waitFor();
    expect(await configOf(app)).toMatchObject({ version: 3, temperature: 0.7 });
  });

  it("creates a number from a built-in template, and its first version records the template", async () => {
    await page.goto(`${app.base}/dashboard/numbers/new`);
    const select = page.getByLabel("Start from a template");
    const name = await select.locator("option").nth(1).getAttribute("value");
    expect(name).toBeTruthy();
    await select.selectOption(name ?? "");
    await page.getByRole("button", { name: "Use template" }).click();
    await expect(page.getByLabel("System prompt").inputValue()).resolves.not.toBe("");
    await page.getByLabel("Phone number").fill("+14155550182");
    await page.getByLabel("Display name").fill("From a template");
    if ((await page.getByLabel("Greeting").inputValue()) === "")
      await page.getByLabel("Greeting").fill("Hi.");
    await page.getByRole("button", { name: "Create number" }).click();
    await page.getByText("Number saved.").waitFor();
    const first = JSON.parse(
      (await admin(app.stack, "GET", "/admin/phone-config/+14155550182/versions/1")).body,
    );
    expect(first.version).toMatchObject({ template: name });
  });

  it("refuses a rollback when the number changed since the page was shown (If-Match)", async () => {
    await page.goto(`${app.base}/dashboard/numbers/${encodeURIComponent(PHONE)}/history`);
    // Someone else edits the number through the API meanwhile.
    const res = await app.stack.client.send({
      method: "PUT",
      path: `/admin/phone-config/${PHONE}`,
      headers: { Authorization: "Bearer bench-admin-key", "Content-Type": "application/json" },
      body: JSON.stringify({ max_tokens: 222 }),
    });
    expect(res.status).toBe(200);
    await page.getByRole("button", { name: "Roll back to version 2" }).click();
    await page.getByText(/Not rolled back: the number changed/).waitFor();
    expect(await configOf(app)).toMatchObject({ version: 4, max_tokens: 222, temperature: 0.7 });
    expect(outside).toEqual([]);
    expect(errors).toEqual([]);
  });
});
