import { runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { beforeEach, describe, expect, it, vi } from "vitest";
import { fakeControl } from "../fakes/client.ts";
import { openaiScript } from "../fakes/openai-client.ts";
import { admin, sampleBody, uniquePhone } from "../support/admin.ts";
import { testEnv } from "../support/env.ts";
import { MediaStreamClient } from "../support/media-stream-client.ts";
import { callEnded, callSid, incomingCall, twilioPost } from "../support/twilio.ts";
import { parseTwiml, streamParameters } from "../support/twiml.ts";
import { concat, fixtureSamples, whiteNoise } from "../unit/audio/signals.ts";

/**
 * Realtime calls over Twilio Media Streams: the voice webhook answers <Connect><Stream>, and a
 * Media Streams client talks to the Worker over a real WebSocket, with the fake OpenAI behind.
 */
const openai = fakeControl(testEnv.FAKE_OPENAI_URL, null);
beforeEach(() => openai.reset());

const silence = (ms: number) => new Int16Array(8 * ms);
const hello = () => fixtureSamples("hello");

const speechRequests = async () =>
  (await openai.requests())
    .filter((r) => r.path === "/v1/audio/speech")
    .map(
      (r) => JSON.parse(r.body) as { input: string; voice: string; model: string; response_format: string },
    );

async function streamingCall(overrides: Record<string, unknown> = {}) {
  const phone = uniquePhone();
  await admin("POST", "/admin/phone-config", {
    body: sampleBody(phone, {
      conversation_mode: "stream",
      end_of_speech_ms: 300,
      enable_recording: false,
      ...overrides,
    }),
  });
  const sid = callSid();
  const answer = await twilioPost("/webhooks/twilio/voice", incomingCall(sid, phone));
  const [connect] = parseTwiml(answer.body);
  const stream = connect?.children[0];
  const parameters = streamParameters(stream);
  const token = parameters.token ?? "";
  return { phone, sid, answer, connect, stream, token, parameters, url: stream?.attributes.url ?? "" };
}

async function connected(call: Awaited<ReturnType<typeof streamingCall>>) {
  const { client } = await MediaStreamClient.connect(call.url, call.sid);
  if (!client) throw new Error("the stream was refused");
  client.start(call.parameters);
  // The greeting plays first; Twilio reports it heard.
  await vi.waitFor(() => expect(client.marks()).toContain("greeting-1"), { timeout: 5000 });
  client.echoMarks(["greeting-1"]);
  return client;
}

describe("a stream call OpenAI will not serve", { timeout: 30_000 }, () => {
  it("a refused key (401) for the greeting: the caller hears the apology in Twilio's voice and the call ends", async () => {
    const twilio = fakeControl(testEnv.FAKE_TWILIO_URL, null);
    await openai.behave({
      status: 401,
      pathIncludes: "/audio/speech",
      body: JSON.stringify({
        error: {
          message: "Incorrect API key provided.",
          type: "invalid_request_error",
          param: null,
          code: "invalid_api_key",
        },
      }),
    });
    const call = await streamingCall({ greeting: "A greeting no key can synthesise." });
    const { client } = await MediaStreamClient.connect(call.url, call.sid);
    if (!client) throw new Error("the stream was refused");
    client.start(call.parameters);
    await vi.waitFor(async () => {
      const updates = (await twilio.requests()).filter((r) => r.path.endsWith(`/Calls/${call.sid}.json`));
      expect(updates).toHaveLength(1);
      const verbs = parseTwiml(new URLSearchParams(updates[0]?.body).get("Twiml") ?? "");
      expect(verbs.map((v) => v.name)).toEqual(["Say", "Hangup"]);
      expect(verbs[0]?.text).toContain("can't take your call");
    });
    client.stop();
    await vi.waitFor(async () =>
      expect((await admin("GET", `/admin/calls/${call.sid}`)).json.call).toMatchObject({
        status: "ended",
        end_reason: "errors",
      }),
    );
  });
});

describe("a call in stream mode", { timeout: 30_000 }, () => {
  it("connects a signed Media Stream, greets in the number's voice and answers what the caller says", async () => {
    await openaiScript(openai.url, { transcripts: ["Hello there."], replies: ["Hi! How can I help?"] });
    const call = await streamingCall({ tts_voice: "coral", greeting: "Stream line here." });
    expect(call.connect?.name).toBe("Connect");
    expect(call.stream?.name).toBe("Stream");
    expect(call.url).toBe(`wss://voice.example.test/webhooks/twilio/media/${call.sid}`);
    expect(call.token).not.toBe("");

    const client = await connected(call);
    const greetingFrames = client.mediaCount();
    expect(greetingFrames).toBeGreaterThan(10);
    client.speak(concat(hello(), silence(600)));
    await vi.waitFor(() => expect(client.marks().filter((m) => m.startsWith("turn-"))).toHaveLength(2), {
      timeout: 8000,
    });
    expect(client.mediaCount()).toBeGreaterThan(greetingFrames);
    const speech = await speechRequests();
    // The greeting as 8 kHz audio for the stream (no mp3 for <Play>), then the reply sentence by sentence.
    expect(speech.map((s) => s.input)).toEqual(["Stream line here.", "Hi!", "How can I help?"]);
    for (const s of speech) expect(s).toMatchObject({ voice: "coral", response_format: "pcm" });
    client.echoMarks(client.marks().filter((m) => m.startsWith("turn-")));

    client.stop();
    await vi.waitFor(async () =>
      expect((await admin("GET", `/admin/calls/${call.sid}`)).json.call.status).toBe("ended"),
    );
    const { json } = await admin("GET", `/admin/calls/${call.sid}`);
    expect(json.call).toMatchObject({ mode: "stream", end_reason: "completed" });
    expect(json.call.turns).toEqual([
      expect.objectContaining({ outcome: "reply", transcript: "Hello there.", reply: "Hi! How can I help?" }),
    ]);
    for (const key of ["transcript_ms", "first_token_ms", "first_audio_ms", "first_frame_ms"]) {
      expect(json.call.turns[0].timings[key]).toBeGreaterThanOrEqual(0);
    }
  });

  it("stops talking when the caller barges in: clear is sent and generation stops", async () => {
    const long =
      "This is a long answer. It has many sentences. Each one takes a while to say. And there are more.";
    await openaiScript(openai.url, {
      transcripts: ["Tell me everything.", "Stop."],
      replies: [long, "Okay."],
    });
    const client = await connected(await streamingCall({ enable_interrupts: true, interrupt_timeout: 0.3 }));
    client.speak(concat(hello(), silence(600)));
    await vi.waitFor(() => expect(client.marks().some((m) => m.startsWith("turn-"))).toBe(true), {
      timeout: 8000,
    });
    // The caller talks over the reply before hearing it all.
    client.speak(concat(hello(), silence(600)));
    await vi.waitFor(() => expect(client.received.some((m) => m.event === "clear")).toBe(true), {
      timeout: 8000,
    });
    const synthesised = (await speechRequests()).map((s) => s.input);
    expect(synthesised).not.toContain("And there are more.");
  });

  it("does not interrupt for a noise burst shorter than interrupt_timeout, nor at all with interrupts off", async () => {
    for (const interrupts of [true, false]) {
      await openai.reset();
      await openaiScript(openai.url, {
        transcripts: ["Question.", "Another."],
        replies: ["First answer is here. And it goes on.", "Second."],
      });
      const client = await connected(
        await streamingCall({ enable_interrupts: interrupts, interrupt_timeout: 1 }),
      );
      client.speak(concat(hello(), silence(600)));
      await vi.waitFor(() => expect(client.marks().some((m) => m.startsWith("turn-1"))).toBe(true), {
        timeout: 8000,
      });
      // A cough while the agent speaks (or, with interrupts off, real speech).
      client.speak(
        interrupts ? concat(whiteNoise(8 * 200, 3000), silence(600)) : concat(hello(), silence(600)),
      );
      await vi.waitFor(() => expect(client.marks().filter((m) => m.startsWith("turn-1-"))).toHaveLength(2), {
        timeout: 8000,
      });
      expect(
        client.received.some((m) => m.event === "clear"),
        `interrupts=${interrupts}`,
      ).toBe(false);
      client.stop();
    }
  });

  it("refuses a stream whose handshake is unsigned or whose start token is wrong", async () => {
    const call = await streamingCall();
    const unsigned = await MediaStreamClient.connect(call.url, call.sid, "bad-signature");
    expect(unsigned.status).toBe(403);
    const { client } = await MediaStreamClient.connect(call.url, call.sid);
    client?.start({ ...call.parameters, token: `${Date.now() + 60_000}.forged` });
    await vi.waitFor(() => expect(client?.closed?.code).toBe(1008));
    expect(client?.mediaCount()).toBe(0);
  });

  it("skips malformed stream messages and keeps the call going", async () => {
    await openaiScript(openai.url, { transcripts: ["Still there?"], replies: ["Yes."] });
    const call = await streamingCall();
    const client = await connected(call);
    client.raw("not json");
    client.raw(JSON.stringify({ event: "media", media: { payload: 42 } }));
    client.speak(concat(hello(), silence(600)));
    await vi.waitFor(() => expect(client.marks().some((m) => m.startsWith("turn-"))).toBe(true), {
      timeout: 8000,
    });
    expect(client.closed).toBeNull();
  });

  it("ends the call cleanly when the socket drops without a stop message", async () => {
    const call = await streamingCall();
    const client = await connected(call);
    client.disconnect();
    await vi.waitFor(async () => {
      const { json } = await admin("GET", `/admin/calls/${call.sid}`);
      expect(json.call).toMatchObject({ status: "ended", mode: "stream", end_reason: "stream_closed" });
    });
  });

  it("ends the call on Twilio's status callback even while the stream is open", async () => {
    const call = await streamingCall();
    const client = await connected(call);
    await twilioPost("/webhooks/twilio/status", callEnded(call.sid, call.phone, 3));
    const { json } = await admin("GET", `/admin/calls/${call.sid}`);
    expect(json.call).toMatchObject({
      status: "ended",
      mode: "stream",
      end_reason: "completed",
      duration_seconds: 3,
    });
    await vi.waitFor(() => expect(client.closed).not.toBeNull());
  });
});

describe("a stream call whose providers keep failing", { timeout: 30_000 }, () => {
  it("apologises each time, then says goodbye and hangs up through Twilio's REST API", async () => {
    const twilio = fakeControl(testEnv.FAKE_TWILIO_URL, null);
    await twilio.reset();
    await openai.behave({ status: 500, pathIncludes: "/chat/completions" });
    const call = await streamingCall();
    const client = await connected(call);
    for (let i = 1; i <= 3; i++) {
      client.speak(concat(hello(), silence(600)));
      await vi.waitFor(() => expect(client.marks().filter((m) => m.endsWith("-apology"))).toHaveLength(i), {
        timeout: 8000,
      });
      client.echoMarks(
        client
          .marks()
          .filter((m) => m.endsWith("-apology"))
          .slice(-1),
      );
    }
    await vi.waitFor(async () => {
      const updates = (await twilio.requests()).filter((r) => r.path.endsWith(`/Calls/${call.sid}.json`));
      expect(updates).toHaveLength(1);
      const twiml = new URLSearchParams(updates[0]?.body).get("Twiml") ?? "";
      expect(parseTwiml(twiml).map((v) => v.name)).toEqual(["Say", "Hangup"]);
    });
    client.stop();
    await vi.waitFor(async () => {
      const { json } = await admin("GET", `/admin/calls/${call.sid}`);
      expect(json.call).toMatchObject({ status: "ended", end_reason: "errors" });
      expect(json.call.turns.map((t: { outcome: string }) => t.outcome)).toEqual([
        "failed",
        "failed",
        "failed",
      ]);
    });
  });
});

describe("max_call_duration in stream mode", { timeout: 30_000 }, () => {
  it("says goodbye through Twilio's REST API, and the summary says why the call ended", async () => {
    const twilio = fakeControl(testEnv.FAKE_TWILIO_URL, null);
    await twilio.reset();
    const call = await streamingCall({ max_call_duration: 60 });
    const client = await connected(call);
    const stub = testEnv.CALL_SESSION.get(testEnv.CALL_SESSION.idFromName(call.sid));
    // Time passes: the live object's deadline is now, and its alarm fires.
    await runInDurableObject(stub, async (instance) => {
      const live = instance as unknown as { state: { deadlineAt: number } };
      live.state.deadlineAt = Date.now() - 1;
    });
    expect(await runDurableObjectAlarm(stub)).toBe(true);
    const updates = (await twilio.requests()).filter((r) => r.path.endsWith(`/Calls/${call.sid}.json`));
    expect(updates).toHaveLength(1);
    expect(parseTwiml(new URLSearchParams(updates[0]?.body).get("Twiml") ?? "").map((v) => v.name)).toEqual([
      "Say",
      "Hangup",
    ]);
    // Twilio then ends the stream.
    client.stop();
    await vi.waitFor(async () => {
      const { json } = await admin("GET", `/admin/calls/${call.sid}`);
      expect(json.call).toMatchObject({ status: "ended", mode: "stream", end_reason: "max_duration" });
    });
  });
});
