import { beforeEach, describe, expect, it } from "vitest";
import { greetingId } from "../../src/call/audio-store.ts";
import { fakeControl } from "../fakes/client.ts";
import { sampleBody, uniquePhone } from "../support/admin.ts";
import { testEnv } from "../support/env.ts";
import { adminClient, envFor, STORE_BACKENDS } from "../support/store-envs.ts";
import { callSid, incomingCall } from "../support/twilio.ts";
import { signedWebhook } from "../support/voice-call.ts";

/**
 * Safe changes end to end: an edit reaches the next call, and a rollback brings the old
 * greeting back on the call after it, with no deploy, on every store. Calls are signed
 * webhooks exactly as Twilio sends them; the greeting a call plays is named by its audio's
 * cache id (text, model, voice) in the <Play> URL.
 */
const openai = fakeControl(testEnv.FAKE_OPENAI_URL, null);

beforeEach(async () => {
  await openai.reset();
});

/** The greeting a call plays: the cache id of its audio names text, model and voice. */
async function greetingPlayed(env: object, phone: string): Promise<string> {
  const answer = await signedWebhook("/webhooks/twilio/voice", incomingCall(callSid(), phone), env);
  expect(answer.status).toBe(200);
  const play = answer.verbs.find((verb) => verb.name === "Play");
  return decodeURIComponent(
    /\/audio\/([^/?]+)\.mp3/.exec(play?.text ?? "")?.[1] ?? "no <Play> in the answer",
  );
}

const greeting = (text: string) => greetingId(text, "tts-1", "nova");

describe.each(STORE_BACKENDS)("rollback on a live number, %s store", (backend) => {
  it("changes the next call's greeting, and the rollback changes it back", async () => {
    const env = await envFor(backend);
    const admin = adminClient(env);
    const phone = uniquePhone();
    // Greetings are cached by text: texts of this test alone, so each is synthesised here once.
    const [open, closed] = [`Thanks for calling Acme, line ${phone}.`, `Acme line ${phone} is closed.`];
    const created = await admin("POST", "/admin/phone-config", {
      body: sampleBody(phone, { conversation_mode: "turns", greeting: open }),
    });
    expect(created.status).toBe(201);
    expect(await greetingPlayed(env, phone)).toBe(await greeting(open));

    await admin("PUT", `/admin/phone-config/${phone}`, {
      body: { greeting: closed },
      headers: { "X-Change-Reason": "holiday hours" },
    });
    expect(await greetingPlayed(env, phone)).toBe(await greeting(closed));

    const rolled = await admin("POST", `/admin/phone-config/${phone}/rollback`, { body: { version: 1 } });
    expect(rolled.status).toBe(200);
    expect(rolled.json.config.version).toBe(3);
    expect(await greetingPlayed(env, phone)).toBe(await greeting(open));
    const speech = (await openai.requests()).filter((r) => r.path === "/v1/audio/speech");
    expect(speech.map((r) => JSON.parse(r.body).input)).toEqual([open, closed]);
  });
});
