import { createExecutionContext, waitOnExecutionContext } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { createApp } from "../../src/app.ts";
import { computeSignature } from "../../src/twilio/signature.ts";
import { testEnv } from "../support/env.ts";
import { callSid, incomingCall } from "../support/twilio.ts";
import { parseTwiml } from "../support/twiml.ts";

/** Who may call the webhooks: Twilio's signature over the public URL, or an explicit dev switch. */
async function post(url: string, params: Record<string, string>, env: object, signature?: string) {
  const ctx = createExecutionContext();
  const headers: Record<string, string> = { "Content-Type": "application/x-www-form-urlencoded" };
  if (signature) headers["X-Twilio-Signature"] = signature;
  const res = await createApp().fetch(
    new Request(url, { method: "POST", headers, body: new URLSearchParams(params) }),
    env,
    ctx,
  );
  await waitOnExecutionContext(ctx);
  return { status: res.status, body: await res.text() };
}

describe("Twilio webhook authentication", () => {
  const publicUrl = `${testEnv.PUBLIC_BASE_URL}/webhooks/twilio/voice`;

  it("accepts a request that reached the Worker on another host (tunnel, wrangler dev) when signed for PUBLIC_BASE_URL", async () => {
    const params = incomingCall(callSid(), "+18668134984");
    const signature = await computeSignature(testEnv.TWILIO_AUTH_TOKEN, publicUrl, params);
    const res = await post("http://localhost:4002/webhooks/twilio/voice", params, testEnv, signature);
    expect(res.status).toBe(200);
    expect(parseTwiml(res.body).length).toBeGreaterThan(0);
  });

  it("refuses a signature made for the local URL when PUBLIC_BASE_URL says otherwise", async () => {
    const params = incomingCall(callSid(), "+18668134984");
    const local = "http://localhost:4002/webhooks/twilio/voice";
    const res = await post(
      local,
      params,
      testEnv,
      await computeSignature(testEnv.TWILIO_AUTH_TOKEN, local, params),
    );
    expect(res.status).toBe(403);
  });

  it("lets unsigned webhooks through only with DEV_UNSIGNED_WEBHOOKS in development", async () => {
    const params = incomingCall(callSid(), "+18668134984");
    const dev = { ...testEnv, ENVIRONMENT: "development", DEV_UNSIGNED_WEBHOOKS: "true" };
    expect((await post(publicUrl, params, dev)).status).toBe(200);
    expect((await post(publicUrl, incomingCall(callSid(), "+18668134984"), testEnv)).status).toBe(403);
  });

  it("refuses every webhook when no auth token is configured", async () => {
    const env = { ...testEnv, TWILIO_AUTH_TOKEN: "" };
    const params = incomingCall(callSid(), "+18668134984");
    const res = await post(publicUrl, params, env, "anything");
    expect(res.status).toBe(403);
    expect(res.body).toContain("TWILIO_AUTH_TOKEN is not set");
  });
});
