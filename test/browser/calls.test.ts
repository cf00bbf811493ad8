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
    // A whole turns-mode call as Twilio places it: signed webhooks, one recorded turn, hang-up.
    callSid = newCallSid();
    const { client, base } = app.stack;
    await client.expectOk(signedForm(base, "/webhooks/twilio/voice", incomingCall(callSid, PHONE)));
    await client.expectOk(
      signedForm(base, "/webhooks/twilio/recording", recordingDone(callSid, newRecordingSid(), PHONE)),
    );
    await client.expectOk(signedForm(base, "/webhooks/twilio/status", callEnded(callSid, PHONE)));
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
    await expect(rows.count()).resolves.toBe(1);
    await expect(rows.first().textContent()).resolves.toContain("Support Line");
    await rows.first().getByRole("link").click();

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

  it("filters out calls by date range", async () => {
    await page.goto(`${app.base}/dashboard/calls?from=2001-01-01&to=2001-01-31`);
    await page.getByText("No calls match.").waitFor();
    expect(outside).toEqual([]);
    expect(errors).toEqual([]);
  });
});
