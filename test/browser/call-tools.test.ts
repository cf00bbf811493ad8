import type { Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { admin } from "../../bench/stack.ts";
import {
  ACCOUNT_SID,
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

/**
 * A call's page shows its tool calls: a turns-mode call placed through signed webhooks, where
 * the fake OpenAI server's model calls a webhook tool (answered by the fake owner service) and
 * then transfers the caller, whose <Dial> Twilio reports connected.
 */

const PHONE = "+14155550171";

describe.skipIf(!CHROMIUM)(`a call's tool calls in Chromium${NO_CHROMIUM}`, () => {
  let app: Console;
  let page: Page;
  let errors: string[];
  let outside: string[];
  let callSid: string;

  beforeAll(async () => {
    app = await startConsole();
    const isolated = await ownOriginOnly(app.browser, app.base);
    outside = isolated.outside;
    page = await isolated.context.newPage();
    errors = collectErrors(page);
    const { client, base, owner, openai } = app.stack;
    await admin(app.stack, "POST", "/admin/phone-config", {
      phone_number: PHONE,
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
    callSid = newCallSid();
    const post = (path: string, params: Record<string, string>) =>
      client.expectOk(signedForm(base, path, params));
    await post("/webhooks/twilio/voice", incomingCall(callSid, PHONE));
    await post("/webhooks/twilio/recording", recordingDone(callSid, newRecordingSid(), PHONE));
    const transfer = await post(
      "/webhooks/twilio/recording",
      recordingDone(callSid, newRecordingSid(), PHONE),
    );
    expect(transfer.body).toContain("<Dial");
    await post("/webhooks/twilio/dial", {
      AccountSid: ACCOUNT_SID,
      CallSid: callSid,
      DialCallStatus: "completed",
      DialCallDuration: "61",
    });
    await post("/webhooks/twilio/status", callEnded(callSid, PHONE));
    await signIn(page, app.base);
  }, 90_000);

  afterAll(async () => {
    await page?.context().close();
    await app?.close();
  });

  it("lists each tool call with its name, status, latency, and the transfer's target and outcome", async () => {
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
    expect(outside).toEqual([]);
    expect(errors).toEqual([]);
  });
});
