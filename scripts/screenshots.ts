import { mkdirSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";
import { admin, startStack } from "../bench/stack.ts";
import {
  callEnded,
  incomingCall,
  newCallSid,
  newRecordingSid,
  recordActionPath,
  recordingDone,
  signedForm,
} from "../bench/twilio-client.ts";
import { findChromium, signIn } from "../test/browser/browser.ts";
import { vendorAssets } from "./vendor-assets.ts";

/**
 * `npm run screenshots`: the console's pages as the README shows them (docs/console/*.png),
 * taken with Debian's chromium against the Worker on local workerd with a few sample numbers
 * and calls placed through signed webhooks and the fake OpenAI server.
 */

const OUT = fileURLToPath(new URL("../docs/console/", import.meta.url));
const SPEECH = fileURLToPath(new URL("../test/fixtures/audio/test-call-speech.wav", import.meta.url));

const chromiumPath = findChromium();
if (!chromiumPath) throw new Error("chromium is not installed: apt-get install -y chromium");
vendorAssets();
mkdirSync(OUT, { recursive: true });
const stack = await startStack();
const browser = await chromium.launch({
  executablePath: chromiumPath,
  args: ["--use-fake-device-for-media-stream", `--use-file-for-fake-audio-capture=${SPEECH}`],
});
try {
  const numbers = [
    { phone_number: "+18668134984", display_name: "Main Support Line", conversation_mode: "stream" },
    { phone_number: "+14155550123", display_name: "Sales", conversation_mode: "turns", tts_voice: "nova" },
    { phone_number: "+442071838750", display_name: "London Reception", inference_model: "gpt-4o" },
    { phone_number: "+14155550199", display_name: "After Hours", is_active: false },
  ];
  for (const n of numbers) {
    await admin(stack, "POST", "/admin/phone-config", {
      system_prompt: "You are a helpful customer support agent. Provide concise, friendly responses.",
      greeting: "Welcome! How can I help you today?",
      ...n,
    });
  }
  for (let i = 0; i < 3; i++) {
    const sid = newCallSid();
    const to = "+14155550123";
    // Each recording goes where the previous answer's <Record action> says, as Twilio posts it.
    let answer = await stack.client.expectOk(
      signedForm(stack.base, "/webhooks/twilio/voice", incomingCall(sid, to)),
    );
    for (let t = 0; t < 2; t++) {
      answer = await stack.client.expectOk(
        signedForm(stack.base, recordActionPath(answer.body), recordingDone(sid, newRecordingSid(), to)),
      );
    }
    await stack.client.expectOk(signedForm(stack.base, "/webhooks/twilio/status", callEnded(sid, to)));
  }
  const context = await browser.newContext({
    viewport: { width: 1280, height: 800 },
    permissions: ["microphone"],
  });
  const page = await context.newPage();
  const shot = async (name: string) => {
    await page.screenshot({ path: `${OUT}${name}.png`, fullPage: true });
    console.log(`docs/console/${name}.png`);
  };
  await page.goto(`${stack.base}/dashboard/sign-in`);
  await shot("sign-in");
  await signIn(page, stack.base);
  await page.getByRole("heading", { name: "Numbers" }).waitFor();
  await shot("numbers");
  await page.goto(`${stack.base}/dashboard/numbers/new`);
  await page.getByLabel("Phone number").fill("+14155550142");
  await page.getByLabel("Display name").fill("Bookings");
  await page.getByLabel("System prompt").fill("You take table bookings.");
  await page.getByLabel("Greeting").fill("Bistro, good evening.");
  await page.getByLabel("Temperature").fill("3");
  await page.getByRole("button", { name: "Create number" }).click();
  await shot("number-invalid");
  await page.goto(`${stack.base}/dashboard/numbers/${encodeURIComponent("+14155550123")}`);
  await shot("number-edit");
  await page.goto(`${stack.base}/dashboard/calls`);
  await shot("calls");
  await page.locator("table.calls tbody a").first().click();
  await page.getByRole("heading", { name: /Call/ }).waitFor();
  await shot("call");
  await page.goto(`${stack.base}/dashboard/analytics`);
  await page.waitForFunction(() => document.querySelectorAll("canvas").length === 4);
  await shot("analytics");
  await page.goto(`${stack.base}/dashboard/numbers/${encodeURIComponent("+18668134984")}/test-call`);
  await page.getByRole("button", { name: "Start test call" }).click();
  await page.locator("#call-transcript li.agent").first().waitFor({ timeout: 30_000 });
  await shot("test-call");
  await page.getByRole("button", { name: "Hang up" }).click();
  await page.goto(`${stack.base}/docs`);
  await page.locator(".opblock").first().waitFor();
  await shot("docs");
  await page.setViewportSize({ width: 390, height: 844 });
  await page.goto(`${stack.base}/dashboard/numbers`);
  await page.screenshot({ path: `${OUT}numbers-phone.png` });
  console.log("docs/console/numbers-phone.png");
} finally {
  await browser.close();
  await stack.close();
}
