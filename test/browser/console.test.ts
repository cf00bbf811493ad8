import type { BrowserContext, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { admin } from "../../bench/stack.ts";
import {
  ADMIN_API_KEY,
  CHROMIUM,
  type Console,
  collectErrors,
  NO_CHROMIUM,
  ownOriginOnly,
  signIn,
  startConsole,
} from "./browser.ts";

describe.skipIf(!CHROMIUM)(`console in Chromium${NO_CHROMIUM}`, () => {
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
  }, 60_000);
  afterAll(async () => {
    await context?.close();
    await app?.close();
  });

  it("refuses a wrong admin key with a clear message, then signs in with the right one", async () => {
    await signIn(page, app.base, "not-the-key");
    await expect(page.getByRole("alert").textContent()).resolves.toContain("That admin key is not valid.");
    expect(page.url()).toContain("/dashboard/sign-in");
    const refused = await context.cookies();
    expect(refused.map((c) => c.name)).not.toContain("console_session");

    await page.getByLabel("Admin key").fill(ADMIN_API_KEY);
    await page.getByRole("button", { name: "Sign in" }).click();
    await page.getByRole("heading", { name: "Numbers" }).waitFor();
    expect(new URL(page.url()).pathname).toBe("/dashboard/numbers");
  });

  it("keeps the session in an HttpOnly, SameSite=Strict cookie for 12 hours (not Secure on localhost)", async () => {
    const session = (await context.cookies()).find((c) => c.name === "console_session");
    expect(session).toMatchObject({ httpOnly: true, sameSite: "Strict", secure: false, path: "/" });
    const hours = ((session?.expires ?? 0) * 1000 - Date.now()) / 3_600_000;
    expect(hours).toBeGreaterThan(11.9);
    expect(hours).toBeLessThanOrEqual(12);
    expect(await page.evaluate(() => document.cookie)).not.toContain("console_session");
  });

  it("shows the API's message at the temperature field, and saves the number once it is fixed", async () => {
    await page.goto(`${app.base}/dashboard/numbers/new`);
    await page.getByLabel("Phone number").fill("+1 (415) 555-0142");
    await page.getByLabel("Display name").fill("Browser Line");
    await page.getByLabel("System prompt").fill("You are the browser test's agent.");
    await page.getByLabel("Greeting").fill("Hello from the browser test.");
    await page.getByLabel("Temperature").fill("3");
    await page.getByRole("button", { name: "Create number" }).click();

    const temperature = page.getByLabel("Temperature");
    await expect(temperature.getAttribute("aria-invalid")).resolves.toBe("true");
    const describedBy = (await temperature.getAttribute("aria-describedby")) ?? "";
    const message = await page
      .locator(`#${describedBy.split(" ").find((id) => id.endsWith("-error"))}`)
      .textContent();
    expect(message).toMatch(/<=\s*2/);
    // What the operator typed is kept.
    await expect(page.getByLabel("Display name").inputValue()).resolves.toBe("Browser Line");

    await temperature.fill("0.4");
    await page.getByRole("button", { name: "Create number" }).click();
    await page.getByText("Number saved.").waitFor();
    const saved = await admin(app.stack, "GET", "/admin/phone-config/+14155550142");
    expect(JSON.parse(saved.body).config).toMatchObject({ display_name: "Browser Line", temperature: 0.4 });
  });

  it("edits, deactivates, finds by filter, and hard-deletes after confirmation", async () => {
    await page.goto(`${app.base}/dashboard/numbers/${encodeURIComponent("+14155550142")}`);
    await page.getByLabel("Max tokens").fill("321");
    await page.getByLabel("Conversation mode").selectOption("turns");
    await page.getByRole("button", { name: "Save changes" }).click();
    await page.getByText("Changes saved.").waitFor();
    await page.getByRole("button", { name: "Deactivate" }).click();
    await page.getByText("Number deactivated").waitFor();

    await page.goto(`${app.base}/dashboard/numbers`);
    await page.getByLabel("Search").fill("browser");
    await page.getByLabel("Status").selectOption("inactive");
    await page.getByLabel("Mode").selectOption("turns");
    await page.getByRole("button", { name: "Filter" }).click();
    await page.getByRole("link", { name: "+14155550142" }).click();

    await page.getByRole("link", { name: "Delete…" }).click();
    await page.getByLabel("Type the number to confirm").fill("+14155550000");
    await page.getByRole("button", { name: "Delete permanently" }).click();
    await page.getByText("nothing was deleted").waitFor();
    await page.getByLabel("Type the number to confirm").fill("+14155550142");
    await page.getByRole("button", { name: "Delete permanently" }).click();
    await page.getByText("+14155550142 deleted.").waitFor();
    const gone = await app.stack.client.send({
      method: "GET",
      path: "/admin/phone-config/+14155550142",
      headers: { Authorization: `Bearer ${ADMIN_API_KEY}` },
    });
    expect(gone.status).toBe(404);
  });

  it("refuses a form posted from another site, and the number survives", async () => {
    await admin(app.stack, "POST", "/admin/phone-config", {
      phone_number: "+14155550143",
      display_name: "Target",
      system_prompt: "p",
      greeting: "g",
    });
    // The attacker's page is on another origin and posts to the console, token and all.
    const token = await page.locator('input[name="_csrf"]').first().inputValue();
    const attacker = await app.browser.newContext();
    await attacker.addCookies(await context.cookies());
    await attacker.route("http://attacker.test/**", (route) =>
      route.fulfill({
        contentType: "text/html",
        body: `<form id="f" method="post" action="${app.base}/dashboard/numbers/%2B14155550143/delete">
          <input name="_csrf" value="${token}"><input name="confirm" value="+14155550143"></form>
          <script>document.getElementById("f").submit()</script>`,
      }),
    );
    const evil = await attacker.newPage();
    const refused = evil.waitForResponse((r) => r.url().includes("/delete"));
    await evil.goto("http://attacker.test/");
    expect((await refused).status()).toBe(403);
    await attacker.close();
    const still = await admin(app.stack, "GET", "/admin/phone-config/+14155550143");
    expect(JSON.parse(still.body).config.display_name).toBe("Target");
  });

  it("pages, searches, filters and sorts in the store: 60 numbers, 50 a page", async () => {
    const phone = (i: number) => `+1415555${2000 + i}`;
    for (let i = 0; i < 60; i++) {
      await admin(app.stack, "POST", "/admin/phone-config", {
        phone_number: phone(i),
        display_name: `Paging line ${String(i).padStart(2, "0")}`,
        system_prompt: "p",
        greeting: "g",
        conversation_mode: i % 3 === 0 ? "turns" : "stream",
      });
    }
    const numbersShown = () => page.locator("table.numbers tbody tr td:first-child").allTextContents();

    await page.goto(`${app.base}/dashboard/numbers`);
    await page.getByLabel("Search").fill("PAGING");
    await page.getByRole("button", { name: "Filter" }).click();
    await page.getByText("60 numbers, page 1 of 2").waitFor();
    const first = await numbersShown();
    expect(first).toHaveLength(50);
    expect(first[0]).toBe(phone(0));
    await page.getByRole("link", { name: "Next" }).click();
    await page.getByText("60 numbers, page 2 of 2").waitFor();
    expect(await numbersShown()).toEqual(Array.from({ length: 10 }, (_, k) => phone(50 + k)));
    // The filters travel with the pager.
    expect(new URL(page.url()).searchParams.get("q")).toBe("PAGING");

    await page.getByLabel("Mode").selectOption("turns");
    await page.getByLabel("Sort by").selectOption("recently updated");
    await page.getByRole("button", { name: "Filter" }).click();
    await page.getByText("20 numbers").waitFor();
    const turns = await numbersShown();
    expect(turns).toHaveLength(20);
    expect(turns[0]).toBe(phone(57));
    expect(turns.at(-1)).toBe(phone(0));

    // A number by its digits, however they are typed.
    await page.goto(`${app.base}/dashboard/numbers`);
    await page.getByLabel("Search").fill("555 2007");
    await page.getByRole("button", { name: "Filter" }).click();
    await page.getByText("1 number").waitFor();
    expect(await numbersShown()).toEqual([phone(7)]);
  });

  it("links an icon from its own origin, and shows a bad Number filter at its field", async () => {
    for (const path of ["/dashboard/calls", "/dashboard/analytics"]) {
      await page.goto(`${app.base}${path}`);
      const href = await page.locator('link[rel="icon"]').getAttribute("href");
      const icon = await page.request.get(new URL(href ?? "/favicon.ico", app.base).href);
      expect(icon.status(), path).toBe(200);
      expect(icon.headers()["content-type"], path).toContain("image/svg+xml");

      await page.getByLabel("Number").fill("12ab");
      await page.getByLabel("Number").press("Enter");
      await page.locator("#number-error").waitFor();
      await expect(page.locator("#number-error").textContent()).resolves.toContain(
        "must contain only digits",
      );
      await expect(page.getByLabel("Number").inputValue()).resolves.toBe("12ab");
      await expect(page.getByLabel("Number").getAttribute("aria-invalid")).resolves.toBe("true");
    }
    // Analytics shows no figures for a Number that is not one (all numbers' would pass for its own).
    await expect(page.getByRole("list", { name: "Totals" }).count()).resolves.toBe(0);
    await expect(page.locator("#no-figures").textContent()).resolves.toContain("No figures");
  });

  it("is usable by keyboard: a skip link, labelled fields, a visible focus ring", async () => {
    await page.goto(`${app.base}/dashboard/numbers/new`);
    await page.keyboard.press("Tab");
    await expect(page.evaluate(() => document.activeElement?.textContent)).resolves.toBe("Skip to content");
    const outline = await page.evaluate(
      () => getComputedStyle(document.activeElement as Element).outlineStyle,
    );
    expect(outline).toBe("solid");
    const unlabelled = await page.$$eval("input:not([type=hidden]), select, textarea", (els) =>
      els.filter((el) => !(el as HTMLInputElement).labels?.length).map((el) => (el as HTMLInputElement).name),
    );
    expect(unlabelled).toEqual([]);
  });

  it("fits a phone's width without sideways scrolling", async () => {
    await page.setViewportSize({ width: 375, height: 740 });
    for (const path of ["/dashboard/numbers", "/dashboard/numbers/new"]) {
      await page.goto(`${app.base}${path}`);
      const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
      expect(overflow, path).toBeLessThanOrEqual(0);
    }
    await page.setViewportSize({ width: 1280, height: 800 });
    expect(outside).toEqual([]);
    expect(errors).toEqual([]);
  });
});
