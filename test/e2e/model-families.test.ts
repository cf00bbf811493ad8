import { beforeEach, describe, expect, it } from "vitest";
import { fakeControl } from "../fakes/client.ts";
import { openaiScript } from "../fakes/openai-client.ts";
import { admin, sampleBody, uniquePhone } from "../support/admin.ts";
import { testEnv } from "../support/env.ts";
import { callSid, incomingCall, recordingDone, recordingSid, twilioPost } from "../support/twilio.ts";
import { parseTwiml } from "../support/twiml.ts";

/**
 * Issue 14, fault 1: a number on a reasoning model (o-series, GPT-5) was sent `max_tokens` and
 * `temperature: 0.7`, which OpenAI (and the fake) refuse, so every turn ended in an apology.
 */
const openai = fakeControl(testEnv.FAKE_OPENAI_URL, null);
const twilio = fakeControl(testEnv.FAKE_TWILIO_URL, null);

beforeEach(async () => {
  await Promise.all([openai.reset(), twilio.reset()]);
});

describe("a call to a number on a reasoning model", () => {
  it.each(["o3-mini", "gpt-5-mini"])("%s answers the caller's turn with its reply", async (model) => {
    const phone = uniquePhone();
    const created = await admin("POST", "/admin/phone-config", {
      body: sampleBody(phone, { conversation_mode: "turns", inference_model: model, temperature: 0.7 }),
    });
    expect(created.status).toBe(201);
    expect(created.json.warnings.map((w: { field: string }) => w.field)).toContain("temperature");
    await openaiScript(openai.url, { transcripts: ["Are you open?"], replies: ["We are open until six."] });

    const sid = callSid();
    await twilioPost("/webhooks/twilio/voice", incomingCall(sid, phone));
    const turn = await twilioPost("/webhooks/twilio/recording", recordingDone(sid, recordingSid(), phone));

    expect(turn.status).toBe(200);
    expect(parseTwiml(turn.body).filter((v) => v.name === "Say")).toEqual([]);
    const call = await admin("GET", `/admin/calls/${sid}`);
    expect(call.json.call.turns).toEqual([
      expect.objectContaining({ outcome: "reply", reply: "We are open until six." }),
    ]);
    const chats = (await openai.requests()).filter((r) => r.path === "/v1/chat/completions");
    expect(chats.map((r) => JSON.parse(r.body))).toEqual([
      expect.objectContaining({ model, max_completion_tokens: 500 }),
    ]);
  });
});
