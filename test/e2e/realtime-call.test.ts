import { abortAllDurableObjects, evictDurableObject } from "cloudflare:test";
import { beforeEach, describe, expect, it, vi } from "vitest";
import { fakeControl } from "../fakes/client.ts";
import { openaiScript } from "../fakes/openai-client.ts";
import { admin, sampleBody, uniquePhone } from "../support/admin.ts";
import { testEnv } from "../support/env.ts";
import { MediaStreamClient } from "../support/media-stream-client.ts";
import { callEnded, callSid, incomingCall, twilioPost } from "../support/twilio.ts";
import { parseTwiml, streamParameters } from "../support/twiml.ts";
import { concat, fixtureSamples } from "../unit/audio/signals.ts";

/**
 * Whole calls in conversation_mode "realtime": Twilio's Media Stream into the Worker, the
 * Worker's Realtime socket to the fake Realtime server, and the pipeline taking over when that
 * socket is refused or drops. Also a mid-call restart of the CallSession for each engine.
 */
const openai = fakeControl(testEnv.FAKE_OPENAI_URL, null);
beforeEach(() => openai.reset());

const silence = (ms: number) => new Int16Array(8 * ms);
const utterance = () => concat(fixtureSamples("hello"), silence(700));

const REALTIME = { conversation_mode: "realtime", inference_model: "gpt-realtime", tts_voice: "coral" };

async function call(overrides: Record<string, unknown>) {
  const phone = uniquePhone();
  const created = await admin("POST", "/admin/phone-config", {
    body: sampleBody(phone, { end_of_speech_ms: 300, enable_recording: false, ...overrides }),
  });
  expect(created.status).toBe(201);
  const sid = callSid();
  const answer = await twilioPost("/webhooks/twilio/voice", incomingCall(sid, phone));
  const stream = parseTwiml(answer.body)[0]?.children[0];
  const parameters = streamParameters(stream);
  const { client } = await MediaStreamClient.connect(stream?.attributes.url ?? "", sid);
  if (!client) throw new Error("the stream was refused");
  client.start(parameters);
  return { sid, client, stub: testEnv.CALL_SESSION.get(testEnv.CALL_SESSION.idFromName(sid)) };
}

const wsEvents = async (type: string) =>
  (await openai.requests())
    .filter((r) => r.method === "WS")
    .map((r) => JSON.parse(r.body) as { type: string } & Record<string, unknown>)
    .filter((e) => e.type === type);
const chatRequests = async () =>
  (await openai.requests())
    .filter((r) => r.path === "/v1/chat/completions")
    .map((r) => JSON.parse(r.body) as { model: string; messages: Array<{ role: string; content: string }> });

async function summary(sid: string) {
  return (await admin("GET", `/admin/calls/${sid}`)).json.call;
}

/** Twilio has played everything: every mark sent so far comes back. */
function playAll(client: MediaStreamClient): void {
  client.echoMarks(client.marks());
}

/** The caller hears each answer to the end (marks echoed as they come) until the log holds `turns` turns. */
async function heard(client: MediaStreamClient, sid: string, turns: number): Promise<void> {
  let echoed = 0;
  await vi.waitFor(
    async () => {
      const marks = client.marks();
      client.echoMarks(marks.slice(echoed));
      echoed = marks.length;
      expect((await summary(sid)).turns).toHaveLength(turns);
    },
    { timeout: 8000, interval: 50 },
  );
}

describe("a call in realtime mode", { timeout: 30_000 }, () => {
  it("greets in the model's voice, answers over the Realtime socket and logs transcripts and timings", async () => {
    await openaiScript(openai.url, {
      transcripts: ["Do you deliver?"],
      replies: ["Yes, within five miles."],
    });
    const { sid, client } = await call({ ...REALTIME, greeting: "Realtime line, hello!" });
    await vi.waitFor(() => expect(client.marks().length).toBeGreaterThan(0), { timeout: 3000 });
    expect(client.received[0]?.event).toBe("media");
    const [greeting] = await wsEvents("response.create");
    expect(JSON.stringify(greeting)).toContain('\\"Realtime line, hello!\\"');
    playAll(client);

    const spoken = client.speak(utterance());
    await heard(client, sid, 1);
    // Twilio's base64 payloads reach the Realtime API as the same text, in order: not re-encoded.
    expect((await wsEvents("input_audio_buffer.append")).map((e) => e.audio)).toEqual(spoken);
    client.stop();
    await vi.waitFor(async () => expect((await summary(sid)).status).toBe("ended"));
    const log = await summary(sid);
    expect(log).toMatchObject({ mode: "realtime", end_reason: "completed" });
    expect(log.turns).toEqual([
      expect.objectContaining({
        outcome: "reply",
        transcript: "Do you deliver?",
        reply: "Yes, within five miles.",
      }),
    ]);
    for (const key of ["speech_stopped_ms", "first_audio_delta_ms", "first_frame_ms"]) {
      expect(log.turns[0].timings[key]).toBeGreaterThanOrEqual(0);
    }
    // Speech to speech: no transcription, chat or text-to-speech request on the way.
    expect((await openai.requests()).filter((r) => r.path.startsWith("/v1/") && r.method === "POST")).toEqual(
      [],
    );
  });

  it("falls back to the pipeline when the Realtime socket is refused: greeting and answers go on", async () => {
    await openai.behave({ status: 503, pathIncludes: "/realtime" });
    await openaiScript(openai.url, { transcripts: ["Still open?"], replies: ["Until six."] });
    const { sid, client } = await call({ ...REALTIME, greeting: "Fallback line." });
    await vi.waitFor(() => expect(client.marks()).toContain("greeting-1"), { timeout: 5000 });
    playAll(client);
    client.speak(utterance());
    await vi.waitFor(() => expect(client.marks().some((m) => m.startsWith("turn-1"))).toBe(true), {
      timeout: 8000,
    });
    const [chat] = await chatRequests();
    // A realtime model has no chat endpoint: the Worker's default model answers.
    expect(chat?.model).toBe("gpt-4o-mini");
    playAll(client);
    client.stop();
    await vi.waitFor(async () => expect((await summary(sid)).status).toBe("ended"));
    expect((await summary(sid)).turns).toEqual([
      expect.objectContaining({ outcome: "reply", transcript: "Still open?", reply: "Until six." }),
    ]);
  });

  it("falls back to the pipeline when the socket drops mid-call, keeping the conversation so far", async () => {
    await openaiScript(openai.url, {
      transcripts: ["What is on today?", "And tomorrow?"],
      replies: ["Rye bread today.", "Brioche tomorrow."],
      // The greeting and the first answer, then the socket drops.
      realtime: { dropAfterResponses: 2 },
    });
    const { sid, client } = await call(REALTIME);
    await vi.waitFor(() => expect(client.marks().length).toBeGreaterThan(0), { timeout: 3000 });
    playAll(client);
    client.speak(utterance());
    await heard(client, sid, 1);
    // The fake drops the socket 100 ms after that answer; audio sent into a dropping socket is lost.
    await new Promise((r) => setTimeout(r, 400));
    client.speak(utterance());
    await vi.waitFor(() => expect(client.marks().some((m) => m.startsWith("turn-2"))).toBe(true), {
      timeout: 8000,
    });
    const [chat] = await chatRequests();
    expect(chat?.messages.slice(1)).toEqual([
      { role: "user", content: "What is on today?" },
      { role: "assistant", content: "Rye bread today." },
      { role: "user", content: "And tomorrow?" },
    ]);
    playAll(client);
    client.stop();
    await vi.waitFor(async () => expect((await summary(sid)).status).toBe("ended"));
    expect((await summary(sid)).turns.map((t: { reply: string }) => t.reply)).toEqual([
      "Rye bread today.",
      "Brioche tomorrow.",
    ]);
  });
});

describe("a CallSession restarted mid-call (a deploy)", { timeout: 30_000 }, () => {
  it("realtime: restarted mid-call, the call ends cleanly with its log", async () => {
    await openaiScript(openai.url, { transcripts: ["Hi, it's Ana."], replies: ["Hello Ana."] });
    const { sid, client } = await call(REALTIME);
    await vi.waitFor(() => expect(client.marks().length).toBeGreaterThan(0), { timeout: 3000 });
    playAll(client);
    client.speak(utterance());
    await heard(client, sid, 1);
    // Open sockets (Twilio's, OpenAI's) are active references: the runtime does not evict the
    // object mid-call. A restart (a deploy) tears it down anyway.
    await restartedEndsWithItsLog(sid, client, "realtime");
  });

  it("pipeline: restarted mid-call, the call ends cleanly with its log", async () => {
    await openaiScript(openai.url, { transcripts: ["Hi, it's Ana."], replies: ["Hello Ana."] });
    const { sid, client, stub } = await call({ conversation_mode: "stream" });
    await vi.waitFor(() => expect(client.marks()).toContain("greeting-1"), { timeout: 5000 });
    playAll(client);
    client.speak(utterance());
    await vi.waitFor(() => expect(client.marks().some((m) => m.startsWith("turn-1"))).toBe(true), {
      timeout: 8000,
    });
    playAll(client);
    await vi.waitFor(async () => expect((await summary(sid)).turns).toHaveLength(1), { timeout: 8000 });
    // Twilio's socket is a regular one (src/call/call-sockets.ts): the object is not evicted
    // while it is open. A graceful eviction gives up; a restart drops the stream.
    expect(await Promise.race([evictDurableObject(stub).then(() => "evicted"), settle(1000)])).toBe(
      "still held",
    );
    expect(client.closed).toBeNull();
    await restartedEndsWithItsLog(sid, client, "stream");
  });
});

/**
 * Restarts every object (a deploy): Twilio's stream drops, Twilio moves past <Connect> (nothing
 * follows it) and reports the call completed, and the log keeps the one turn said.
 */
async function restartedEndsWithItsLog(
  sid: string,
  client: MediaStreamClient,
  mode: "stream" | "realtime",
): Promise<void> {
  await abortAllDurableObjects();
  await vi.waitFor(() => expect(client.closed).not.toBeNull());
  await twilioPost("/webhooks/twilio/status", callEnded(sid, "+15550100", 4));
  const log = await summary(sid);
  expect(log).toMatchObject({ status: "ended", mode, end_reason: "completed", duration_seconds: 4 });
  expect(log.turns).toEqual([expect.objectContaining({ transcript: "Hi, it's Ana.", reply: "Hello Ana." })]);
}

/** Resolves "still held" after `ms` (the other side of a race with an eviction). */
const settle = (ms: number) => new Promise<string>((resolve) => setTimeout(() => resolve("still held"), ms));

describe("realtime mode validation", () => {
  it("refuses a model or voice the Realtime API does not have, listing what the mode accepts", async () => {
    const phone = uniquePhone();
    const model = await admin("POST", "/admin/phone-config", {
      body: sampleBody(phone, { ...REALTIME, inference_model: "gpt-4o-mini" }),
    });
    expect(model.status).toBe(400);
    expect(JSON.stringify(model.json)).toContain("inference_model");
    expect(JSON.stringify(model.json)).toContain("gpt-realtime or gpt-realtime-mini");
    const voice = await admin("POST", "/admin/phone-config", {
      body: sampleBody(phone, { ...REALTIME, tts_voice: "nova" }),
    });
    expect(voice.status).toBe(400);
    expect(JSON.stringify(voice.json)).toContain(
      "alloy, ash, ballad, coral, echo, sage, shimmer, verse, marin, cedar",
    );
    const stored = await admin("POST", "/admin/phone-config", {
      body: sampleBody(uniquePhone(), { ...REALTIME, temperature: 0.4 }),
    });
    expect(stored.status).toBe(201);
    expect(stored.json.config.temperature).toBe(0.4);
    expect(stored.json.warnings).toEqual([
      expect.objectContaining({ field: "temperature", rule: "ignored_for_model" }),
    ]);
    for (const ok of ["gpt-realtime-mini", "gpt-realtime-2025-08-28", "gpt-realtime-1.5"]) {
      const accepted = await admin("POST", "/admin/phone-config", {
        body: sampleBody(uniquePhone(), { ...REALTIME, inference_model: ok }),
      });
      expect(accepted.status, ok).toBe(201);
    }
  });
});
