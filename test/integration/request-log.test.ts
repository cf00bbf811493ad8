import { exports } from "cloudflare:workers";
import { afterEach, describe, expect, it, vi } from "vitest";
import { computeSignature } from "../../src/twilio/signature.ts";
import { admin, sampleBody, uniquePhone } from "../support/admin.ts";
import { testEnv } from "../support/env.ts";
import { captureLog } from "../support/log-capture.ts";
import { callEnded, callSid, incomingCall, twilioPost } from "../support/twilio.ts";

afterEach(() => vi.restoreAllMocks());

describe("one logger per request", () => {
  it("every line a request writes carries its request_id, the one in X-Request-Id", async () => {
    const out: string[] = [];
    vi.spyOn(console, "log").mockImplementation((line: unknown) => out.push(String(line)));
    const res = await exports.default.fetch("http://localhost/admin/phone-config", {
      method: "POST",
      headers: { Authorization: `Bearer ${testEnv.ADMIN_API_KEY}`, "Content-Type": "application/json" },
      body: JSON.stringify(sampleBody(uniquePhone())),
    });
    expect(res.status).toBe(201);
    const requestId = res.headers.get("X-Request-Id");
    const written = out.map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(written.map((l) => l.event)).toContain("phone_config_saved");
    for (const line of written) expect(line.request_id, String(line.event)).toBe(requestId);
  });
});

describe("one logger per call", () => {
  it("every line about a call carries its call_sid, from the webhook to the call's own object", async () => {
    const lines = captureLog();
    const phone = uniquePhone();
    await admin("POST", "/admin/phone-config", { body: sampleBody(phone, { conversation_mode: "turns" }) });
    const sid = callSid();
    expect((await twilioPost("/webhooks/twilio/voice", incomingCall(sid, phone))).status).toBe(200);
    expect((await twilioPost("/webhooks/twilio/status", callEnded(sid, phone))).status).toBe(200);
    const aboutTheCall = lines().filter((l) => !String(l.event).startsWith("phone_config_"));
    expect(aboutTheCall.map((l) => l.event)).toEqual(expect.arrayContaining(["call_routed", "call_ended"]));
    for (const line of aboutTheCall) expect(line.call_sid, String(line.event)).toBe(sid);
    for (const line of aboutTheCall) expect(line).not.toHaveProperty("callSid");
  });

  it("twilio_webhook_failed and twilio_status_failed name the call", async () => {
    const lines = captureLog();
    const sid = callSid();
    const { From: _, ...noFrom } = incomingCall(sid, "+18668134984");
    const voice = await twilioPost("/webhooks/twilio/voice", noFrom);
    expect(voice.status).toBe(200);
    const { CallStatus: __, ...noStatus } = callEnded(sid, "+18668134984");
    expect((await twilioPost("/webhooks/twilio/status", noStatus)).status).toBe(200);
    const failures = lines().filter(
      (l) => l.event === "twilio_webhook_failed" || l.event === "twilio_status_failed",
    );
    expect(failures).toEqual([
      expect.objectContaining({
        event: "twilio_webhook_failed",
        call_sid: sid,
        request_id: expect.any(String),
      }),
      expect.objectContaining({
        event: "twilio_status_failed",
        call_sid: sid,
        request_id: expect.any(String),
      }),
    ]);
  });

  it("a Media Stream request without the WebSocket upgrade gets the one error body (426)", async () => {
    const url = `${testEnv.PUBLIC_BASE_URL}/webhooks/twilio/media/${callSid()}`;
    const res = await exports.default.fetch(url, {
      headers: { "X-Twilio-Signature": await computeSignature(testEnv.TWILIO_AUTH_TOKEN, url) },
    });
    expect(res.status).toBe(426);
    expect(await res.json()).toMatchObject({
      success: false,
      error: { code: "UPGRADE_REQUIRED", details: [], request_id: expect.any(String) },
    });
  });
});
