import { fileURLToPath } from "node:url";
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

/**
 * A test call from the browser with Chromium's fake microphone playing a committed speech WAV
 * (test/fixtures/audio/test-call-speech.wav, in a loop) against the fake OpenAI server: the same
 * pipeline engine a phone call gets, over the console's own socket.
 */

const SPEECH = fileURLToPath(new URL("../fixtures/audio/test-call-speech.wav", import.meta.url));
const PHONE = "+14155550171";
const HEARD = "I would like to book a table for two tonight.";
const REPLY = "A table for two tonight is booked. See you at eight.";
const REALTIME_PHONE = "+14155550172";

/** What the fake "hears" and answers (pipeline and Realtime alike), so both sides are known. */
async function script(): Promise<void> {
  const url = app.stack.openai.server.url;
  await app.stack.openai.reset();
  const response = await fetch(`${url}/__openai/script`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ transcripts: [HEARD], replies: [REPLY] }),
  });
  expect(response.ok).toBe(true);
}

let app: Console;

describe.skipIf(!CHROMIUM)(`browser test call in Chromium${NO_CHROMIUM}`, () => {
  let context: BrowserContext;
  let outside: string[];
  let page: Page;
  let errors: string[];
  beforeAll(async () => {
    app = await startConsole([
      "--use-fake-device-for-media-stream",
      `--use-file-for-fake-audio-capture=${SPEECH}`,
      "--autoplay-policy=no-user-gesture-required",
    ]);
    ({ context, outside } = await ownOriginOnly(app.browser, app.base, { permissions: ["microphone"] }));
    page = await context.newPage();
    errors = collectErrors(page);
    await admin(app.stack, "POST", "/admin/phone-config", {
      phone_number: PHONE,
      display_name: "Bistro",
      system_prompt: "You take table bookings.",
      greeting: "Bistro, good evening.",
      conversation_mode: "stream",
    });
    await admin(app.stack, "POST", "/admin/phone-config", {
      phone_number: REALTIME_PHONE,
      display_name: "Bistro Realtime",
      system_prompt: "You take table bookings.",
      greeting: "Bistro, good evening.",
      conversation_mode: "realtime",
      inference_model: "gpt-realtime",
      tts_voice: "coral",
    });
    await signIn(page, app.base);
  }, 90_000);
  afterAll(async () => {
    await context?.close();
    await app?.close();
  });

  it.each([
    { mode: "stream", phone: PHONE },
    { mode: "realtime", phone: REALTIME_PHONE },
  ])(
    "$mode number: hears the greeting and the reply, shows both sides, and is logged as a web call",
    async ({ mode, phone }) => {
      await script();
      await page.goto(`${app.base}/dashboard/numbers/${encodeURIComponent(phone)}`);
      await page.getByRole("link", { name: "Talk to this number" }).click();
      await page.getByRole("button", { name: "Start test call" }).click();
      // The stack's first call also starts its objects: on a loaded machine that can take seconds.
      await page.getByText(/^Connected/).waitFor({ timeout: 30_000 });
      const root = page.locator("#test-call");
      const frames = async () => Number(await root.getAttribute("data-frames-received"));

      // The greeting arrives as audio before anyone speaks.
      await expect.poll(frames, { timeout: 15_000 }).toBeGreaterThan(10);
      const transcript = page.getByRole("list", { name: "Live transcript" });
      // Mid-turn: the agent's words so far show while it is still speaking, before the turn's record.
      const speaking = transcript.locator('li.agent[aria-busy="true"]');
      await speaking.first().waitFor({ timeout: 30_000 });
      const partial = ((await speaking.first().textContent()) ?? "").replace("Agent · speaking", "");
      expect(partial.length).toBeGreaterThan(0);
      expect(REPLY.startsWith(partial.trim())).toBe(true);
      await expect(transcript.locator("li.caller").first().textContent()).resolves.toContain(HEARD);
      // Then the turn as recorded replaces it, in the same place.
      await speaking.first().waitFor({ state: "detached", timeout: 30_000 });
      await expect(
        transcript.locator("li").evaluateAll((els) => els.map((e) => e.className)),
      ).resolves.toEqual(["caller", "agent"]);
      await transcript.locator("li.caller").first().waitFor({ timeout: 30_000 });
      await expect(transcript.locator("li.caller").first().textContent()).resolves.toContain(HEARD);
      await expect(transcript.locator("li.agent").first().textContent()).resolves.toContain(REPLY);
      const afterReply = await frames();

      const callSid = (await root.getAttribute("data-call-sid")) ?? "";
      expect(callSid).toMatch(/^CA[0-9a-f]{32}$/);
      await page.getByRole("button", { name: "Hang up" }).click();
      await page.getByText("You hung up.").waitFor();

      await expect
        .poll(async () => JSON.parse((await admin(app.stack, "GET", `/admin/calls/${callSid}`)).body).call, {
          timeout: 10_000,
        })
        .toMatchObject({ channel: "web", mode, to: phone, status: "ended", end_reason: "completed" });
      // The server closing the socket after the hang-up does not replace what the operator was told.
      expect(await page.getByText("You hung up.").isVisible()).toBe(true);
      const call = JSON.parse((await admin(app.stack, "GET", `/admin/calls/${callSid}`)).body).call;
      expect(call.turns[0]).toMatchObject({ outcome: "reply", transcript: HEARD, reply: REPLY });
      // The number's own engine answered: the pipeline asks Chat Completions, the Realtime engine does not.
      const chats = await app.stack.openai.requests("/v1/chat/completions");
      if (mode === "realtime") expect(chats).toHaveLength(0);
      else expect(chats.length).toBeGreaterThan(0);
      // The reply was spoken: more audio reached the browser after it than the greeting alone.
      expect(afterReply).toBeGreaterThan(20);
      expect(outside).toEqual([]);
      expect(errors).toEqual([]);
    },
  );

  it("refuses the call's socket to a page of another origin", async () => {
    const response = await app.stack.client.send({
      method: "GET",
      path: "/dashboard/calls/CA00000000000000000000000000000000/socket",
      headers: { Upgrade: "websocket", Connection: "Upgrade", Origin: "http://evil.test" },
    });
    // Without the console's session cookie it never gets past sign-in.
    expect([303, 403]).toContain(response.status);
  });
});
