import type { BrowserContext, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { admin } from "../../bench/stack.ts";
import {
  ACCOUNT_SID,
  callEnded,
  incomingCall,
  newCallSid,
  newRecordingSid,
  recordActionPath,
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
const TOOLS_PHONE = "+14155550162";

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
      const answer = await client.expectOk(
        signedForm(base, "/webhooks/twilio/voice", incomingCall(callSid, PHONE)),
      );
      await client.expectOk(
        signedForm(base, recordActionPath(answer.body), recordingDone(callSid, newRecordingSid(), PHONE)),
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

  it("shows a call's tool calls: name, status, latency, and a transfer's target and outcome", async () => {
    // A turns-mode call placed through signed webhooks where the fake OpenAI server's model calls a
    // webhook tool (answered by the fake owner service), answers, then transfers the caller, whose
    // <Dial> Twilio reports connected.
    const { client, base, owner, openai } = app.stack;
    await admin(app.stack, "POST", "/admin/phone-config", {
      phone_number: TOOLS_PHONE,
      display_name: "Orders Line",
      system_prompt: "You look up orders.",
      greeting: "Orders here.",
      conversation_mode: "turns",
      enable_recording: false,
      tools: [
        {
          type: "webhook",
          name: "lookup_order",
          description: "Look up an order by its number.",
          url: `${owner.url}/orders/lookup`,
          parameters: {
            type: "object",
            properties: { order_id: { type: "string" } },
            required: ["order_id"],
            additionalProperties: false,
          },
        },
        {
          type: "transfer",
          announcement: "Putting you through to sales.",
          targets: [{ name: "Sales", to: "(415) 555-0123", description: "new orders" }],
        },
      ],
    });
    // The model: a tool call, its answer in words, then a transfer.
    const scripted = await fetch(`${openai.server.url}/__openai/script`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({
        transcripts: ["Where is my order A-1042?", "Can I talk to sales?"],
        replies: [
          { tool_calls: [{ name: "lookup_order", arguments: { order_id: "A-1042" } }] },
          "It ships today.",
          { content: "Of course.", tool_calls: [{ name: "transfer_call", arguments: { target: "Sales" } }] },
        ],
      }),
    });
    expect(scripted.status).toBe(200);
    const callSid = newCallSid();
    const post = (path: string, params: Record<string, string>) =>
      client.expectOk(signedForm(base, path, params));
    // Each recording goes where the previous answer's <Record action> says, as Twilio posts it.
    const answered = await post("/webhooks/twilio/voice", incomingCall(callSid, TOOLS_PHONE));
    const looked = await post(
      recordActionPath(answered.body),
      recordingDone(callSid, newRecordingSid(), TOOLS_PHONE),
    );
    const dialled = await post(
      recordActionPath(looked.body),
      recordingDone(callSid, newRecordingSid(), TOOLS_PHONE),
    );
    expect(dialled.body).toContain("<Dial");
    await post("/webhooks/twilio/dial", {
      AccountSid: ACCOUNT_SID,
      CallSid: callSid,
      DialCallStatus: "completed",
      DialCallDuration: "61",
    });
    await post("/webhooks/twilio/status", callEnded(callSid, TOOLS_PHONE));
    await page.goto(`${app.base}/dashboard/calls/${callSid}`);
    const transcript = page.getByRole("list", { name: "Transcript" });
    const tools = transcript.locator("li.tool");
    await expect(tools.count()).resolves.toBe(2);
    const [lookup, transfer] = await tools.allTextContents();
    expect(lookup).toMatch(/Tool call · lookup_order · ok · \d+ ms/);
    expect(lookup).toContain('"order_id":"A-1042"');
    expect(transfer).toMatch(/Tool call · transfer_call · ok · \d+ ms/);
    expect(transfer).toContain("→ Sales (+14155550123), completed");
    // In the conversation's order: the lookup's answer comes before the transfer.
    const lines = await transcript.locator("li").allTextContents();
    const answer = lines.findIndex((l) => l.includes("It ships today."));
    expect(answer).toBeGreaterThan(lines.indexOf(lookup as string));
    expect(answer).toBeLessThan(lines.indexOf(transfer as string));
    await expect(page.locator(".badge").first().textContent()).resolves.toBe("transferred");
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
