import type { BrowserContext, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { admin } from "../../bench/stack.ts";
import {
  callEnded,
  incomingCall,
  newCallSid,
  newRecordingSid,
  recordingDone,
  signedForm,
} from "../../bench/twilio-client.ts";
import {
  CHROMIUM,
  type Console,
  collectErrors,
  NO_CHROMIUM,
  ownOriginOnly,
  signIn,
  startConsole,
} from "./browser.ts";

const PHONE = "+14155550161";
const CALLS = 2;

describe.skipIf(!CHROMIUM)(`calls pages in Chromium${NO_CHROMIUM}`, () => {
  let app: Console;
  let context: BrowserContext;
  let outside: string[];
  let page: Page;
  let errors: string[];
  let callSid: string;
  beforeAll(async () => {
    app = await startConsole();
    ({ context, outside } = await ownOriginOnly(app.browser, app.base));
    page = await context.newPage();
    errors = collectErrors(page);
    await admin(app.stack, "POST", "/admin/phone-config", {
      phone_number: PHONE,
      display_name: "Support Line",
      system_prompt: "You are support.",
      greeting: "Support here.",
      conversation_mode: "turns",
    });
    // Whole turns-mode calls as Twilio places them: signed webhooks, one recorded turn, hang-up
    // (Twilio reports 10 s each).
    const { client, base } = app.stack;
    for (let i = 0; i < CALLS; i++) {
      callSid = newCallSid();
      await client.expectOk(signedForm(base, "/webhooks/twilio/voice", incomingCall(callSid, PHONE)));
      await client.expectOk(
        signedForm(base, "/webhooks/twilio/recording", recordingDone(callSid, newRecordingSid(), PHONE)),
      );
      await client.expectOk(signedForm(base, "/webhooks/twilio/status", callEnded(callSid, PHONE)));
    }
    await signIn(page, app.base);
  }, 90_000);
  afterAll(async () => {
    await context?.close();
    await app?.close();
  });

  it("lists the call placed through the signed webhooks and shows its transcript as a conversation", async () => {
    const logged = JSON.parse((await admin(app.stack, "GET", `/admin/calls/${callSid}`)).body).call;
    const [turn] = logged.turns;
    expect(turn.transcript).toBeTruthy();
    expect(turn.reply).toBeTruthy();

    await page.goto(`${app.base}/dashboard/calls`);
    await page.getByLabel("Number").fill(PHONE);
    await page.getByLabel("End reason").selectOption("completed");
    await page.getByRole("button", { name: "Filter" }).click();
    const rows = page.locator("table.calls tbody tr");
    await expect(rows.count()).resolves.toBe(CALLS);
    await expect(rows.first().textContent()).resolves.toContain("Support Line");
    // Newest first: the last call placed.
    await rows.first().getByRole("link").click();
    expect(page.url()).toContain(callSid);

    await page.getByRole("heading", { name: /Call/ }).waitFor();
    const transcript = page.getByRole("list", { name: "Transcript" });
    await expect(transcript.locator("li.caller").first().textContent()).resolves.toContain(turn.transcript);
    await expect(transcript.locator("li.agent").first().textContent()).resolves.toContain(turn.reply);
    // One waterfall per turn, its stages named in its accessible label.
    const waterfall = page.getByRole("img", { name: /Turn 1 latency: .*speech-to-text at \d+ ms/ });
    await expect(waterfall.count()).resolves.toBe(1);
    await expect(page.getByRole("link", { name: `version ${logged.config_version}` }).count()).resolves.toBe(
      1,
    );
  });

  it("charts the calls with the right totals", async () => {
    await page.goto(`${app.base}/dashboard/analytics?number=${encodeURIComponent(PHONE)}`);
    await expect(page.locator('[data-total="calls"]').textContent()).resolves.toBe(String(CALLS));
    await expect(page.locator('[data-total="minutes"]').textContent()).resolves.toBe(
      String(Math.round((CALLS * 10) / 6) / 10),
    );
    const charted = await page.evaluate(() => {
      const chart = (id: string) =>
        (
          window as unknown as {
            Chart: {
              getChart(el: Element | null): { data: { labels: string[]; datasets: { data: number[] }[] } };
            };
          }
        ).Chart.getChart(document.getElementById(id));
      const calls = chart("chart-calls").data.datasets[0]?.data ?? [];
      const reasons = chart("chart-reasons").data;
      const canvas = document.getElementById("chart-calls") as HTMLCanvasElement;
      const pixels = canvas.getContext("2d")?.getImageData(0, 0, canvas.width, canvas.height).data ?? [];
      let painted = 0;
      for (let i = 3; i < pixels.length; i += 4) if ((pixels[i] ?? 0) > 0) painted++;
      return {
        callsSum: calls.reduce((a, b) => a + b, 0),
        reasons: reasons.labels,
        reasonCounts: reasons.datasets[0]?.data,
        painted,
      };
    });
    expect(charted).toMatchObject({ callsSum: CALLS, reasons: ["completed"], reasonCounts: [CALLS] });
    expect(charted.painted).toBeGreaterThan(100);
  });

  it("fits a phone's width: calls, a call, analytics", async () => {
    await page.setViewportSize({ width: 375, height: 740 });
    for (const path of ["/dashboard/calls", `/dashboard/calls/${callSid}`, "/dashboard/analytics"]) {
      await page.goto(`${app.base}${path}`);
      const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
      expect(overflow, path).toBeLessThanOrEqual(0);
    }
    await page.setViewportSize({ width: 1280, height: 800 });
  });

  it("filters out calls by date range", async () => {
    await page.goto(`${app.base}/dashboard/calls?from=2001-01-01&to=2001-01-31`);
    await page.getByText("No calls match.").waitFor();
    expect(outside).toEqual([]);
    expect(errors).toEqual([]);
  });
});
