import { runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { exports } from "cloudflare:workers";
import { beforeEach, describe, expect, it } from "vitest";
import type { CallSession } from "../../src/call/session.ts";
import { fakeControl } from "../fakes/client.ts";
import { openaiScript } from "../fakes/openai-client.ts";
import type { RecordedRequest } from "../fakes/types.ts";
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
import { parseTwiml, type TwimlVerb } from "../support/twiml.ts";
import { signedWebhook } from "../support/voice-call.ts";

/**
 * Whole record→reply calls, driven over HTTP exactly as Twilio drives them (form-encoded,
 * signed), against the fake Twilio REST and OpenAI servers the Worker's bindings point at.
 */
const openai = fakeControl(testEnv.FAKE_OPENAI_URL, null);
const twilio = fakeControl(testEnv.FAKE_TWILIO_URL, null);

beforeEach(async () => {
  await Promise.all([openai.reset(), twilio.reset()]);
});

async function openaiCalls(path: string): Promise<RecordedRequest[]> {
  return (await openai.requests()).filter((r) => r.path === path);
}

const speechRequests = async () =>
  (await openaiCalls("/v1/audio/speech")).map((r) => JSON.parse(r.body) as Record<string, unknown>);
const chatRequests = async () =>
  (await openaiCalls("/v1/chat/completions")).map((r) => JSON.parse(r.body) as Record<string, unknown>);

function verbs(body: string, name: string): TwimlVerb[] {
  return parseTwiml(body).filter((v) => v.name === name);
}

async function createNumber(overrides: Record<string, unknown>) {
  const phone = uniquePhone();
  const res = await admin("POST", "/admin/phone-config", {
    body: sampleBody(phone, { conversation_mode: "turns", ...overrides }),
  });
  expect(res.status).toBe(201);
  return phone;
}

function sessionOf(sid: string): DurableObjectStub<CallSession> {
  return testEnv.CALL_SESSION.get(testEnv.CALL_SESSION.idFromName(sid));
}

describe("a call in turns mode", () => {
  it("greets in the number's own voice, then answers each turn with its models, prompt and voice", async () => {
    const sales = await createNumber({
      greeting: "Sales line, hello!",
      tts_voice: "nova",
      stt_model: "gpt-4o-mini-transcribe",
      inference_model: "gpt-4o",
      system_prompt: "You sell solar panels.",
      temperature: 0.3,
      max_tokens: 120,
    });
    const support = await createNumber({
      greeting: "Support line, hi!",
      tts_model: "tts-1-hd",
      tts_voice: "shimmer",
      inference_model: "gpt-4o-mini",
      system_prompt: "You fix broken routers.",
    });

    for (const [phone, voice, greeting, model, prompt] of [
      [sales, "nova", "Sales line, hello!", "gpt-4o", "You sell solar panels."],
      [support, "shimmer", "Support line, hi!", "gpt-4o-mini", "You fix broken routers."],
    ] as const) {
      await openai.reset();
      await openaiScript(openai.url, {
        transcripts: ["How much does it cost?"],
        replies: [`Answer from ${model}.`],
      });
      const sid = callSid();
      const answered = await twilioPost("/webhooks/twilio/voice", incomingCall(sid, phone));
      expect(answered.status).toBe(200);
      expect(answered.contentType).toContain("text/xml");
      const [greetingPlay] = verbs(answered.body, "Play");
      expect(greetingPlay, "greeting is our synthesised audio").toBeDefined();
      const [rec] = verbs(answered.body, "Record");
      // The first recording webhook creates the call's session from the signed snapshot in its query.
      expect(rec?.attributes.action).toMatch(
        new RegExp(`^${testEnv.PUBLIC_BASE_URL}/webhooks/twilio/recording\\?call=[\\w-]+\\.\\d+\\.[\\w-]+$`),
      );
      expect(await speechRequests()).toEqual([
        expect.objectContaining({ input: greeting, voice, response_format: "mp3" }),
      ]);

      // Twilio fetches the greeting through the signed URL.
      const audio = await exports.default.fetch(greetingPlay?.text ?? "");
      expect(audio.status).toBe(200);
      expect(audio.headers.get("content-type")).toBe("audio/mpeg");
      expect((await audio.arrayBuffer()).byteLength).toBeGreaterThan(1000);

      const turn = await twilioPost("/webhooks/twilio/recording", recordingDone(sid, recordingSid(), phone));
      expect(turn.status).toBe(200);
      expect(verbs(turn.body, "Play")).toHaveLength(1);
      expect(verbs(turn.body, "Record")).toHaveLength(1);
      const [transcription] = await openaiCalls("/v1/audio/transcriptions");
      expect(transcription?.body).toContain(phone === sales ? "gpt-4o-mini-transcribe" : "whisper-1");
      const [chat] = await chatRequests();
      expect(chat).toMatchObject({
        model,
        messages: [
          { role: "system", content: prompt },
          { role: "user", content: "How much does it cost?" },
        ],
      });
      if (phone === sales) expect(chat).toMatchObject({ temperature: 0.3, max_tokens: 120 });
      expect((await speechRequests()).at(-1)).toMatchObject({ input: `Answer from ${model}.`, voice });
      const recordingFetches = (await twilio.requests()).filter((r) => r.path.includes("/Recordings/RE"));
      expect(recordingFetches[0]?.headers.authorization).toMatch(/^Basic /);
    }
  });

  it("carries the conversation's history into the next turn and reuses the cached greeting", async () => {
    const phone = await createNumber({ greeting: "History line." });
    await openaiScript(openai.url, {
      transcripts: ["My name is Ada.", "What is my name?"],
      replies: ["Nice to meet you, Ada.", "Your name is Ada."],
    });
    const sid = callSid();
    await twilioPost("/webhooks/twilio/voice", incomingCall(sid, phone));
    await twilioPost("/webhooks/twilio/recording", recordingDone(sid, recordingSid(), phone));
    await twilioPost("/webhooks/twilio/recording", recordingDone(sid, recordingSid(), phone));
    const [, second] = await chatRequests();
    expect(second?.messages).toEqual([
      expect.objectContaining({ role: "system" }),
      { role: "user", content: "My name is Ada." },
      { role: "assistant", content: "Nice to meet you, Ada." },
      { role: "user", content: "What is my name?" },
    ]);
    await twilioPost("/webhooks/twilio/voice", incomingCall(callSid(), phone));
    const greetings = (await speechRequests()).filter((r) => r.input === "History line.");
    expect(greetings).toHaveLength(1);
  });

  it("uses the new greeting on the next call after an admin update, and the old one for a call in progress", async () => {
    const phone = await createNumber({ greeting: "Hello" });
    const ongoing = callSid();
    await twilioPost("/webhooks/twilio/voice", incomingCall(ongoing, phone));
    await admin("PUT", `/admin/phone-config/${phone}`, { body: { greeting: "Hi there", tts_voice: "echo" } });
    await openai.reset();
    await twilioPost("/webhooks/twilio/voice", incomingCall(callSid(), phone));
    expect(await speechRequests()).toEqual([expect.objectContaining({ input: "Hi there", voice: "echo" })]);
    await twilioPost("/webhooks/twilio/recording", recordingDone(ongoing, recordingSid(), phone));
    expect((await speechRequests()).at(-1)).toMatchObject({ voice: "nova" });
  });

  it("answers a deactivated number and an unknown number with the defaults", async () => {
    const phone = await createNumber({ greeting: "Custom greeting", tts_voice: "onyx" });
    await admin("DELETE", `/admin/phone-config/${phone}`);
    for (const to of [phone, uniquePhone()]) {
      const sid = callSid();
      const res = await twilioPost("/webhooks/twilio/voice", incomingCall(sid, to));
      expect(res.status).toBe(200);
      // The defaults talk in stream mode, the default for new configurations too.
      expect(parseTwiml(res.body).map((v) => v.name)).toEqual(["Connect"]);
      // Hung up before the stream started: logged from the status callback, with the defaults.
      await twilioPost("/webhooks/twilio/status", callEnded(sid, to, 1));
      const call = await admin("GET", `/admin/calls/${sid}`);
      expect(call.json.call).toMatchObject({
        uses_defaults: true,
        display_name: "Default Configuration",
        mode: "stream",
      });
    }
    expect((await speechRequests()).filter((r) => r.voice === "onyx")).toHaveLength(0);
  });

  it("falls back to <Say> when speech synthesis fails, so the caller still hears the greeting", async () => {
    const phone = await createNumber({ greeting: "Spoken by Twilio instead." });
    await openai.behave({ status: 500, pathIncludes: "/audio/speech" });
    const res = await twilioPost("/webhooks/twilio/voice", incomingCall(callSid(), phone));
    expect(res.status).toBe(200);
    expect(verbs(res.body, "Say").map((v) => v.text)).toEqual(["Spoken by Twilio instead."]);
    expect(verbs(res.body, "Record")).toHaveLength(1);
  });

  it("apologises and listens again when a provider fails or hangs, never answering with an error", {
    timeout: 20_000,
  }, async () => {
    const phone = await createNumber({});
    const sid = callSid();
    await twilioPost("/webhooks/twilio/voice", incomingCall(sid, phone));
    await openai.behave({ status: 500, pathIncludes: "/chat/completions", times: 1 });
    const failed = await twilioPost("/webhooks/twilio/recording", recordingDone(sid, recordingSid(), phone));
    expect(failed.status).toBe(200);
    expect(verbs(failed.body, "Say")[0]?.text).toContain("Sorry");
    expect(verbs(failed.body, "Record")).toHaveLength(1);

    await openai.behave({ delayMs: 20_000, pathIncludes: "/audio/transcriptions", times: 1 });
    const hung = await twilioPost("/webhooks/twilio/recording", recordingDone(sid, recordingSid(), phone));
    expect(hung.status).toBe(200);
    expect(verbs(hung.body, "Say")[0]?.text).toContain("Sorry");
    const call = await admin("GET", `/admin/calls/${sid}`);
    expect(call.json.call.turns.map((t: { failed_stage?: string }) => t.failed_stage)).toEqual([
      "llm",
      "stt",
    ]);
  });

  it("answers a duplicate recording webhook with the same reply and keeps one turn", async () => {
    const phone = await createNumber({});
    const sid = callSid();
    await twilioPost("/webhooks/twilio/voice", incomingCall(sid, phone));
    const params = recordingDone(sid, recordingSid(), phone);
    const [first, second] = await Promise.all([
      twilioPost("/webhooks/twilio/recording", params),
      twilioPost("/webhooks/twilio/recording", params),
    ]);
    const third = await twilioPost("/webhooks/twilio/recording", params);
    expect(parseTwiml(second.body)).toEqual(
      parseTwiml(first.body).map((v) => expect.objectContaining({ name: v.name })),
    );
    expect(verbs(third.body, "Play").map((v) => v.text.split("?")[0])).toEqual(
      verbs(first.body, "Play").map((v) => v.text.split("?")[0]),
    );
    expect(await chatRequests()).toHaveLength(1);
    const call = await admin("GET", `/admin/calls/${sid}`);
    expect(call.json.call.turns).toHaveLength(1);
  });

  it("reprompts when the caller says nothing and says goodbye after three silences", async () => {
    const phone = await createNumber({});
    const sid = callSid();
    const answered = await twilioPost("/webhooks/twilio/voice", incomingCall(sid, phone));
    let silenceUrl = verbs(answered.body, "Redirect")[0]?.text ?? "";
    const path = (url: string) => url.replace(testEnv.PUBLIC_BASE_URL, "");
    const form = {
      AccountSid: "AC00000000000000000000000000000000",
      CallSid: sid,
      From: "+14155550100",
      To: phone,
    };
    for (let i = 0; i < 2; i++) {
      const res = await twilioPost(path(silenceUrl), form);
      expect(verbs(res.body, "Say")[0]?.text).toContain("didn't catch that");
      silenceUrl = verbs(res.body, "Redirect")[0]?.text ?? "";
    }
    const last = await twilioPost(path(silenceUrl), form);
    expect(verbs(last.body, "Say")[0]?.text).toContain("Goodbye");
    expect(verbs(last.body, "Hangup")).toHaveLength(1);
  });

  it("rejects a tampered signature with 403 and starts nothing", async () => {
    const phone = await createNumber({});
    const sid = callSid();
    const params = incomingCall(sid, phone);
    const good = await (await import("../../src/twilio/signature.ts")).computeSignature(
      testEnv.TWILIO_AUTH_TOKEN,
      `${testEnv.PUBLIC_BASE_URL}/webhooks/twilio/voice`,
      params,
    );
    const tampered = await twilioPost(
      "/webhooks/twilio/voice",
      { ...params, To: uniquePhone() },
      { signature: good },
    );
    expect(tampered.status).toBe(403);
    const unsigned = await twilioPost("/webhooks/twilio/voice", params, { signature: "" });
    expect(unsigned.status).toBe(403);
    expect((await admin("GET", `/admin/calls/${sid}`)).status).toBe(404);
    expect(await speechRequests()).toHaveLength(0);
  });

  it("starts a call recording through Twilio's REST API only when enable_recording is on", async () => {
    for (const enabled of [true, false]) {
      await twilio.reset();
      const phone = await createNumber({ enable_recording: enabled });
      const sid = callSid();
      await twilioPost("/webhooks/twilio/voice", incomingCall(sid, phone));
      // A number that records has its session from the answer (the recording is timed from it);
      // the others at their first recording webhook.
      if (!enabled) await twilioPost("/webhooks/twilio/recording", recordingDone(sid, recordingSid(), phone));
      await runInDurableObject(sessionOf(sid), async (_instance, state) => {
        // Bring the scheduled recording start forward instead of waiting for it.
        const alarm = await state.storage.getAlarm();
        expect(alarm).not.toBeNull();
      });
      await forceAlarmNow(sid, (s) => {
        if (s.recording.nextAt !== null) s.recording.nextAt = Date.now() - 1;
      });
      const starts = (await twilio.requests()).filter(
        (r) => r.method === "POST" && r.path.endsWith(`/Calls/${sid}/Recordings.json`),
      );
      expect(starts, `enable_recording=${enabled}`).toHaveLength(enabled ? 1 : 0);
      // The call's page links the recording by the RecordingSid Twilio answered with.
      const call = await admin("GET", `/admin/calls/${sid}`);
      expect(call.json.call.recording_sid, `enable_recording=${enabled}`).toEqual(
        enabled ? expect.stringMatching(/^RE/) : null,
      );
    }
  });

  it("ends the call through Twilio's REST API with a goodbye when max_call_duration is reached", async () => {
    const phone = await createNumber({ max_call_duration: 60, enable_recording: false });
    const sid = callSid();
    await twilioPost("/webhooks/twilio/voice", incomingCall(sid, phone));
    // The caller says nothing at first: Twilio follows the <Redirect>, which creates the session.
    await twilioPost("/webhooks/twilio/recording?no_speech=0", {
      ...incomingCall(sid, phone),
      CallStatus: "in-progress",
    });
    await forceAlarmNow(sid, (s) => {
      s.deadlineAt = Date.now() - 1;
    });
    const updates = (await twilio.requests()).filter((r) => r.path.endsWith(`/Calls/${sid}.json`));
    expect(updates).toHaveLength(1);
    const twiml = new URLSearchParams(updates[0]?.body).get("Twiml") ?? "";
    expect(parseTwiml(twiml).map((v) => v.name)).toEqual(["Say", "Hangup"]);
    // A turn arriving after the limit is answered with the goodbye too.
    const late = await twilioPost("/webhooks/twilio/recording", recordingDone(sid, recordingSid(), phone));
    expect(verbs(late.body, "Hangup")).toHaveLength(1);
    await twilioPost("/webhooks/twilio/status", callEnded(sid, phone, 61));
    const call = await admin("GET", `/admin/calls/${sid}`);
    expect(call.json.call).toMatchObject({
      status: "ended",
      end_reason: "max_duration",
      duration_seconds: 61,
    });
    // The goodbye to a late recording is not a turn of the conversation.
    expect(call.json.call.turns.map((t: { outcome: string }) => t.outcome)).toEqual(["silence"]);
  });

  it("writes the call's summary when Twilio reports the end, and frees the call's state", async () => {
    const phone = await createNumber({ display_name: "Summary line" });
    await openaiScript(openai.url, { transcripts: ["Are you open?"], replies: ["Yes, nine to five."] });
    const sid = callSid();
    await twilioPost("/webhooks/twilio/voice", incomingCall(sid, phone));
    await twilioPost("/webhooks/twilio/recording", recordingDone(sid, recordingSid(), phone));
    const status = await twilioPost("/webhooks/twilio/status", callEnded(sid, phone, 37));
    expect(status.status).toBe(200);
    expect(parseTwiml(status.body)).toEqual([]);

    const listed = await admin("GET", `/admin/calls?phone_number=${encodeURIComponent(phone)}&limit=5`);
    expect(listed.json.calls).toHaveLength(1);
    expect(listed.json.calls[0]).toMatchObject({
      call_sid: sid,
      to: phone,
      display_name: "Summary line",
      config_version: 1,
      status: "ended",
      end_reason: "completed",
      duration_seconds: 37,
      turns: [{ seq: 1, outcome: "reply", transcript: "Are you open?", reply: "Yes, nine to five." }],
    });
    const timings = listed.json.calls[0].turns[0].timings;
    for (const key of ["recording_ms", "stt_ms", "llm_ms", "tts_ms", "total_ms"])
      expect(timings[key]).toBeGreaterThanOrEqual(0);
    await runInDurableObject(sessionOf(sid), async (instance, state) => {
      expect(await instance.snapshot()).toBeNull();
      expect(await state.storage.getAlarm()).toBeNull();
      const tables = state.storage.sql
        .exec("SELECT name FROM sqlite_master WHERE name IN ('call', 'turns')")
        .toArray();
      expect(tables).toEqual([]);
    });
  });

  it("still answers when the config store is down, with the defaults", async () => {
    const down = fakeControl(testEnv.FAKE_DATA_API_URL);
    await down.behave({ status: 503 });
    const env = { ...testEnv, CONFIG_STORE: "data-api", DATA_API_URL: down.url, DATA_API_KEY: "k" };
    const params = incomingCall(callSid(), uniquePhone());
    const answer = await signedWebhook("/webhooks/twilio/voice", params, env);
    expect(answer.status).toBe(200);
    expect(answer.verbs.map((v) => v.name)).toEqual(["Connect"]);
    const call = await admin("GET", `/admin/calls/${params.CallSid}`);
    expect(call.json.call).toMatchObject({ uses_defaults: true, config_source: "default" });
  });
});

/** Edits the call's stored state, then fires its alarm now, as time passing would. */
async function forceAlarmNow(
  sid: string,
  edit: (state: { deadlineAt: number; recording: { nextAt: number | null } }) => void,
) {
  const stub = sessionOf(sid);
  await runInDurableObject(stub, async (_instance, state) => {
    const row = state.storage.sql.exec<{ data: string }>("SELECT data FROM call WHERE id = 1").one();
    const data = JSON.parse(row.data);
    edit(data);
    state.storage.sql.exec("UPDATE call SET data = ? WHERE id = 1", JSON.stringify(data));
  });
  const { evictDurableObject } = await import("cloudflare:test");
  // Reload so the object reads the edited state, as after a restart.
  await evictDurableObject(stub);
  await runInDurableObject(stub, async (_instance, state) => {
    await state.storage.setAlarm(Date.now());
  });
  await runDurableObjectAlarm(stub);
}
