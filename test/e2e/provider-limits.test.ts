import { beforeEach, describe, expect, it } from "vitest";
import { fakeControl } from "../fakes/client.ts";
import { openaiScript } from "../fakes/openai-client.ts";
import { admin, sampleBody, uniquePhone } from "../support/admin.ts";
import { testEnv } from "../support/env.ts";
import {
  callEnded,
  callSid,
  incomingCall,
  recordingDone,
  recordingSid,
  twilioPost,
} from "../support/twilio.ts";
import { parseTwiml } from "../support/twiml.ts";

/**
 * Whole turns-mode calls against the providers' hard limits, which the fakes enforce as the real
 * services do: OpenAI speech input of at most 4,096 characters, Twilio's 3,000-byte <Say>
 * (test/support/twiml.ts refuses a longer one), and OpenAI's 0.1 s minimum for transcription.
 */
const openai = fakeControl(testEnv.FAKE_OPENAI_URL, null);
const rootTwilio = fakeControl(testEnv.FAKE_TWILIO_URL, null);

beforeEach(async () => {
  await Promise.all([openai.reset(), rootTwilio.reset()]);
});

async function createNumber(overrides: Record<string, unknown> = {}) {
  const phone = uniquePhone();
  const res = await admin("POST", "/admin/phone-config", {
    body: sampleBody(phone, { conversation_mode: "turns", enable_recording: false, ...overrides }),
  });
  expect(res.status).toBe(201);
  return phone;
}

/** A reply like the field report's: 5,048 characters of ordinary sentences. */
function longReply(): string {
  const sentences: string[] = [];
  for (let i = 1; sentences.join(" ").length < 5100; i++) {
    sentences.push(`Step ${i}: open the settings page, pick the account tab and read the number back to me.`);
  }
  const text = sentences.join(" ");
  return text.slice(0, text.lastIndexOf(".", 5048) + 1);
}

const requestsTo = async (path: string) => (await openai.requests()).filter((r) => r.path === path);

describe("a reply longer than one speech request or one <Say> accepts", () => {
  it("is synthesised in sentence-bounded pieces and played in order", async () => {
    const reply = longReply();
    expect(reply.length).toBeGreaterThan(4096);
    const phone = await createNumber();
    const sid = callSid();
    await twilioPost("/webhooks/twilio/voice", incomingCall(sid, phone));
    await openaiScript(openai.url, { replies: [reply] });
    const turn = await twilioPost("/webhooks/twilio/recording", recordingDone(sid, recordingSid(), phone));
    const verbs = parseTwiml(turn.body);
    expect(verbs.map((v) => v.name)).toEqual(["Play", "Play", "Record", "Redirect"]);
    const inputs = (await requestsTo("/v1/audio/speech"))
      .map((r) => JSON.parse(r.body).input as string)
      .filter((input) => input !== "Welcome to our sales team!");
    expect(inputs).toHaveLength(2);
    for (const input of inputs) {
      expect(input.length).toBeLessThanOrEqual(4096);
      expect(input).toMatch(/\.$/);
    }
    expect(inputs.join(" ")).toBe(reply);
    const call = await admin("GET", `/admin/calls/${sid}`);
    expect(call.json.call.turns[0]).toMatchObject({ outcome: "reply", reply });
  });

  it("falls back to several <Say> within Twilio's limit when synthesis fails", async () => {
    const reply = longReply();
    const phone = await createNumber();
    const sid = callSid();
    await twilioPost("/webhooks/twilio/voice", incomingCall(sid, phone));
    await openaiScript(openai.url, { replies: [reply] });
    await openai.behave({ status: 500, pathIncludes: "/audio/speech" });
    const turn = await twilioPost("/webhooks/twilio/recording", recordingDone(sid, recordingSid(), phone));
    // parseTwiml refuses a <Say> over 3,000 bytes, as Twilio would not speak it.
    const says = parseTwiml(turn.body).filter((v) => v.name === "Say");
    expect(says.length).toBeGreaterThanOrEqual(2);
    expect(says.map((v) => v.text).join(" ")).toBe(reply);
  });
});

describe("a recording too short to transcribe", () => {
  it("is silence when Twilio reports RecordingDuration=0: a reprompt, no transcription, and the silence rules", async () => {
    const phone = await createNumber();
    const sid = callSid();
    await twilioPost("/webhooks/twilio/voice", incomingCall(sid, phone));
    const answers: string[][] = [];
    for (let i = 0; i < 3; i++) {
      const res = await twilioPost("/webhooks/twilio/recording", {
        ...recordingDone(sid, recordingSid(), phone),
        RecordingDuration: "0",
      });
      expect(res.status).toBe(200);
      answers.push(parseTwiml(res.body).map((v) => (v.name === "Say" ? v.text : v.name)));
    }
    expect(answers[0]?.[0]).toContain("didn't catch that");
    expect(answers[1]?.[0]).toContain("didn't catch that");
    expect(answers[2]?.[0]).toContain("haven't heard anything");
    expect(answers[2]?.at(-1)).toBe("Hangup");
    expect(answers.flat().join(" ")).not.toContain("technical difficulties");
    expect(await requestsTo("/v1/audio/transcriptions")).toHaveLength(0);
    expect((await rootTwilio.requests()).filter((r) => r.path.includes("/Recordings/RE"))).toHaveLength(0);
    await twilioPost("/webhooks/twilio/status", callEnded(sid, phone, 12));
    const call = await admin("GET", `/admin/calls/${sid}`);
    expect(call.json.call).toMatchObject({ end_reason: "silence" });
    expect(call.json.call.turns.map((t: { outcome: string }) => t.outcome)).toEqual([
      "silence",
      "silence",
      "silence",
    ]);
  });

  it("is silence when the recording holds under 0.1 s of audio, whatever its reported duration", async () => {
    const phone = await createNumber();
    const sid = callSid();
    await twilioPost("/webhooks/twilio/voice", incomingCall(sid, phone));
    const short = recordingSid();
    // The fake's control (root namespace, where the Worker's TWILIO_API_BASE_URL points).
    const control = await fetch(`${testEnv.FAKE_TWILIO_URL}/__twilio/recordings/${short}/duration?ms=50`, {
      method: "POST",
    });
    expect(control.ok).toBe(true);
    const res = await twilioPost("/webhooks/twilio/recording", {
      ...recordingDone(sid, short, phone),
      RecordingDuration: "1",
    });
    const [first] = parseTwiml(res.body);
    expect(first?.text).toContain("didn't catch that");
    expect(await requestsTo("/v1/audio/transcriptions")).toHaveLength(0);
    // The next real turn is answered normally: a short recording is not a failure.
    const next = await twilioPost("/webhooks/twilio/recording", recordingDone(sid, recordingSid(), phone));
    expect(parseTwiml(next.body).map((v) => v.name)).toEqual(["Play", "Record", "Redirect"]);
  });

  it("is refused by the OpenAI fake as OpenAI does (so a short upload could never pass unnoticed)", async () => {
    const { createOpenAIProviders } = await import("../../src/providers/openai.ts");
    const { encodeWav } = await import("../../src/audio/wav.ts");
    const { ProviderError } = await import("../../src/providers/types.ts");
    const providers = createOpenAIProviders({ apiKey: "sk-test", baseUrl: `${openai.url}/v1` });
    for (const model of ["whisper-1", "gpt-4o-mini-transcribe"]) {
      const err = await providers.stt
        .transcribe(
          { data: encodeWav(new Int16Array(400), 8000), contentType: "audio/wav", filename: "short.wav" },
          { model },
        )
        .catch((e: unknown) => e);
      expect(err, model).toBeInstanceOf(ProviderError);
      expect(err).toMatchObject({ kind: "audio_too_short", status: 400 });
    }
  });
});
