import { runInDurableObject } from "cloudflare:test";
import { beforeEach, describe, expect, it } from "vitest";
import type { CallSession } from "../../src/call/session.ts";
import { fakeControl } from "../fakes/client.ts";
import { admin, sampleBody, uniquePhone } from "../support/admin.ts";
import { testEnv } from "../support/env.ts";
import { callEnded, callSid, incomingCall, twilioPost } from "../support/twilio.ts";
import { parseTwiml } from "../support/twiml.ts";

/**
 * The incoming call's answer no longer waits for the call's session: these check that nothing
 * is lost on the way (the log entry, Twilio's retries, the call's clock).
 */
const openai = fakeControl(testEnv.FAKE_OPENAI_URL, null);
beforeEach(() => openai.reset());

const sessionOf = (sid: string): DurableObjectStub<CallSession> =>
  testEnv.CALL_SESSION.get(testEnv.CALL_SESSION.idFromName(sid));

async function number(mode: "turns" | "stream", overrides: Record<string, unknown> = {}) {
  const phone = uniquePhone();
  const res = await admin("POST", "/admin/phone-config", {
    body: sampleBody(phone, { conversation_mode: mode, enable_recording: false, ...overrides }),
  });
  expect(res.status).toBe(201);
  return phone;
}

describe("the incoming call's answer", () => {
  it("logs a call that hangs up during the greeting", async () => {
    for (const mode of ["turns", "stream"] as const) {
      const phone = await number(mode);
      const sid = callSid();
      await twilioPost("/webhooks/twilio/voice", incomingCall(sid, phone));
      await twilioPost("/webhooks/twilio/status", { ...callEnded(sid, phone, 2), CallStatus: "completed" });
      const { json } = await admin("GET", `/admin/calls/${sid}`);
      expect(json.call, mode).toMatchObject({
        status: "ended",
        end_reason: "completed",
        duration_seconds: 2,
      });
    }
  });

  it("answers Twilio's retry the same way and keeps one call, with its first start time", async () => {
    const phone = await number("turns", { greeting: "Retry line." });
    const sid = callSid();
    const first = await twilioPost("/webhooks/twilio/voice", incomingCall(sid, phone));
    const startedAt = (await admin("GET", `/admin/calls/${sid}`)).json.call.started_at;
    await new Promise((resolve) => setTimeout(resolve, 20));
    const retry = await twilioPost("/webhooks/twilio/voice", incomingCall(sid, phone));
    const audioOf = (body: string) =>
      parseTwiml(body).map((v) => (v.name === "Play" ? v.text.split("?")[0] : v.name));
    expect(audioOf(retry.body)).toEqual(audioOf(first.body));
    const { json } = await admin("GET", `/admin/calls/${sid}`);
    expect(json.call.started_at).toBe(startedAt);
    // The greeting was synthesised once, for the first answer.
    const speech = (await openai.requests()).filter((r) => r.path === "/v1/audio/speech");
    expect(speech).toHaveLength(1);
  });

  it("times max_call_duration and the recording from the moment the webhook answered", async () => {
    const phone = await number("stream", { max_call_duration: 60, enable_recording: true });
    const sid = callSid();
    const before = Date.now();
    await twilioPost("/webhooks/twilio/voice", incomingCall(sid, phone));
    const after = Date.now();
    await runInDurableObject(sessionOf(sid), async (instance) => {
      const state = (
        instance as unknown as {
          state: { startedAt: number; deadlineAt: number; recording: { nextAt: number } };
        }
      ).state;
      expect(state.startedAt).toBeGreaterThanOrEqual(before);
      expect(state.startedAt).toBeLessThanOrEqual(after);
      expect(state.deadlineAt).toBe(state.startedAt + 60_000);
      expect(state.recording.nextAt - state.startedAt).toBeLessThanOrEqual(2000);
    });
  });
});
