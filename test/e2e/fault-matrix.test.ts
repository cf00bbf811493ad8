import { runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { beforeEach, describe, expect, it, vi } from "vitest";
import { fakeControl } from "../fakes/client.ts";
import { openaiScript } from "../fakes/openai-client.ts";
import type { Behavior } from "../fakes/types.ts";
import { admin, loggedCall, newNumber, sampleBody, uniquePhone } from "../support/admin.ts";
import { testEnv } from "../support/env.ts";
import { MediaStreamClient } from "../support/media-stream-client.ts";
import { callEnded, callSid, incomingCall, recordingDone, recordingSid } from "../support/twilio.ts";
import { streamParameters, type TwimlVerb } from "../support/twiml.ts";
import { signedWebhook } from "../support/voice-call.ts";
import { concat, fixtureSamples } from "../unit/audio/signals.ts";

/**
 * Whole calls while one dependency misbehaves at the network boundary (the fakes' controls, or
 * a KV binding that throws). Each asserts what a caller and an operator would notice: every
 * webhook answers valid TwiML (parseTwiml also refuses an over-long <Say>) or the stream closes
 * cleanly, and the call log has the call with its end reason. No uncaught exception may be left
 * in workerd's log by any of them (test/global-setup.ts fails the run otherwise).
 */
const openai = fakeControl(testEnv.FAKE_OPENAI_URL, null);
const twilio = fakeControl(testEnv.FAKE_TWILIO_URL, null);

beforeEach(async () => {
  await Promise.all([openai.reset(), twilio.reset()]);
});

type Env = typeof testEnv;

/** Plays Twilio against the Worker with `env` (some bindings replaced), waiting for its waitUntil work. */
async function post(env: Env, path: string, params: Record<string, string>) {
  const answer = await signedWebhook(path, params, env);
  expect(answer.status, `${path} answers 200`).toBe(200);
  expect(answer.contentType).toContain("text/xml");
  return answer.verbs;
}

const names = (verbs: TwimlVerb[]) => verbs.map((v) => v.name);

/** A turns-mode call: answer, one recorded turn, then Twilio's end-of-call callback. */
async function turnsCall(env: Env, to: string) {
  const sid = callSid();
  const answer = await post(env, "/webhooks/twilio/voice", incomingCall(sid, to));
  const turn = await post(env, "/webhooks/twilio/recording", recordingDone(sid, recordingSid(), to));
  await post(env, "/webhooks/twilio/status", callEnded(sid, to, 20));
  return { sid, answer, turn, call: await loggedCall(sid) };
}

describe("the config store misbehaving", () => {
  const cases: Array<[string, Behavior]> = [
    ["down (connection answered 503)", { status: 503 }],
    ["slower than CONFIG_STORE_TIMEOUT_MS", { delayMs: 5000 }],
    ["answering 500", { status: 500, body: '{"error":"internal"}' }],
    ["answering a malformed body", { status: 200, body: "<html>gateway error</html>" }],
  ];
  it.each(cases)("%s: the call runs on the defaults and is logged", async (_name, behavior) => {
    const store = fakeControl(testEnv.FAKE_DATA_API_URL);
    await store.behave(behavior);
    const env = {
      ...testEnv,
      CONFIG_STORE: "data-api",
      DATA_API_URL: store.url,
      DATA_API_KEY: "k",
      CONFIG_STORE_TIMEOUT_MS: "300",
    } as Env;
    // An unknown number: nothing cached, so the store is asked.
    const to = uniquePhone();
    const sid = callSid();
    const answer = await post(env, "/webhooks/twilio/voice", incomingCall(sid, to));
    expect(names(answer)).toEqual(["Connect"]);
    await post(env, "/webhooks/twilio/status", callEnded(sid, to, 5));
    expect(await loggedCall(sid)).toMatchObject({ status: "ended", end_reason: "completed" });
  });
});

describe("Workers KV throwing", () => {
  it("still answers, converses and logs the call", async () => {
    const broken = (name: string) =>
      new Proxy({} as KVNamespace, {
        get: (_target, method) => () => Promise.reject(new Error(`KV ${name}.${String(method)} is down`)),
      });
    const env = {
      ...testEnv,
      CONFIG_CACHE: broken("CONFIG_CACHE"),
      AUDIO_CACHE: broken("AUDIO_CACHE"),
    } as Env;
    const to = uniquePhone();
    const sid = callSid();
    // The defaults (an unknown number) in turns mode would need the store; use stream's answer.
    const answer = await post(env, "/webhooks/twilio/voice", incomingCall(sid, to));
    expect(names(answer)).toEqual(["Connect"]);
    await post(env, "/webhooks/twilio/status", callEnded(sid, to, 5));
    expect(await loggedCall(sid)).toMatchObject({ status: "ended", end_reason: "completed" });
  });

  it("falls back to <Say> for a turns-mode greeting it cannot cache", async () => {
    const phone = await newNumber("turns", { greeting: "A greeting no cache will hold." });
    const broken = new Proxy({} as KVNamespace, {
      get: () => () => Promise.reject(new Error("KV is down")),
    });
    const env = { ...testEnv, AUDIO_CACHE: broken } as Env;
    const { answer, call } = await turnsCall(env, phone);
    expect(names(answer)).toEqual(["Say", "Record", "Redirect"]);
    expect(call).toMatchObject({ status: "ended", end_reason: "completed" });
  });
});

describe("the Worker's own settings invalid", () => {
  it("every voice webhook still answers TwiML, a goodbye, never Twilio's application error", async () => {
    const env = { ...testEnv, CONFIG_CACHE_TTL_SECONDS: "10" } as Env;
    const sid = callSid();
    const phone = uniquePhone();
    for (const [path, form] of [
      ["/webhooks/twilio/voice", incomingCall(sid, phone)],
      ["/webhooks/twilio/recording", recordingDone(sid, recordingSid(), phone)],
    ] as const) {
      const verbs = await post(env, path, form);
      expect(names(verbs)).toEqual(["Say", "Hangup"]);
      expect(verbs[0]?.text).toContain("can't take your call");
    }
  });
});

describe("OpenAI misbehaving during a turns-mode call", { timeout: 30_000 }, () => {
  const cases: Array<[string, Behavior, string]> = [
    ["answering 500", { status: 500, pathIncludes: "/chat/completions" }, "failed"],
    [
      "answering 429 with retry-after",
      {
        status: 429,
        pathIncludes: "/chat/completions",
        headers: { "retry-after": "20" },
        body: JSON.stringify({
          error: {
            message: "Rate limit reached",
            type: "requests",
            param: null,
            code: "rate_limit_exceeded",
          },
        }),
      },
      "failed",
    ],
    ["timing out", { delayMs: 20_000, pathIncludes: "/audio/transcriptions" }, "failed"],
    [
      "sending malformed JSON",
      { status: 200, body: '{"choices": [', pathIncludes: "/chat/completions" },
      "failed",
    ],
    // The reply is still heard, in Twilio's voice.
    ["sending empty audio", { status: 200, body: "", pathIncludes: "/audio/speech" }, "reply"],
  ];
  it.each(cases)(
    "%s: the caller hears an apology or the reply, and the call is logged",
    async (_name, behavior, outcome) => {
      const phone = await newNumber("turns");
      await openai.behave(behavior);
      const { turn, call } = await turnsCall(testEnv, phone);
      expect(names(turn)).toContain("Record");
      if (outcome === "failed") expect(turn.find((v) => v.name === "Say")?.text).toContain("Sorry");
      else expect(names(turn)).toEqual(["Say", "Record", "Redirect"]);
      expect(call).toMatchObject({ status: "ended", end_reason: "completed", turns: [{ outcome }] });
    },
  );
});

describe("OpenAI asking for a short wait during a turns-mode call", { timeout: 30_000 }, () => {
  it("a 429 with retry-after: 1 is retried once after that second: the caller hears the reply", async () => {
    const phone = await newNumber("turns");
    const rateLimited = {
      error: { message: "Rate limit reached", type: "requests", param: null, code: "rate_limit_exceeded" },
    };
    await openai.behave({
      status: 429,
      pathIncludes: "/chat/completions",
      headers: { "retry-after": "1" },
      body: JSON.stringify(rateLimited),
      times: 1,
    });
    const { turn, call } = await turnsCall(testEnv, phone);
    expect(names(turn)).toEqual(["Play", "Record", "Redirect"]);
    expect(call).toMatchObject({ status: "ended", end_reason: "completed", turns: [{ outcome: "reply" }] });
    const chats = (await openai.requests()).filter((r) => r.path.endsWith("/chat/completions"));
    expect(chats).toHaveLength(2);
  });
});

describe("Twilio's REST API misbehaving", { timeout: 30_000 }, () => {
  /** Runs the call's alarm now, as time passing would, after moving its due times to now. */
  async function alarmNow(sid: string, edit: (state: Record<string, unknown>) => void) {
    const stub = testEnv.CALL_SESSION.get(testEnv.CALL_SESSION.idFromName(sid));
    await runInDurableObject(stub, async (instance) => {
      edit((instance as unknown as { state: Record<string, unknown> }).state);
    });
    await runDurableObjectAlarm(stub);
  }

  it.each([429, 500])(
    "answering %i to the recording request: the call goes on and is logged",
    async (status) => {
      const phone = await newNumber("turns", { enable_recording: true });
      await twilio.behave({ status, pathIncludes: "/Recordings.json" });
      const sid = callSid();
      await post(testEnv, "/webhooks/twilio/voice", incomingCall(sid, phone));
      await alarmNow(sid, (state) => {
        (state.recording as { nextAt: number }).nextAt = Date.now() - 1;
      });
      const turn = await post(
        testEnv,
        "/webhooks/twilio/recording",
        recordingDone(sid, recordingSid(), phone),
      );
      expect(names(turn)).toEqual(["Play", "Record", "Redirect"]);
      await post(testEnv, "/webhooks/twilio/status", callEnded(sid, phone, 9));
      expect(await loggedCall(sid)).toMatchObject({ status: "ended", end_reason: "completed" });
      const attempts = (await twilio.requests()).filter((r) =>
        r.path.endsWith(`/Calls/${sid}/Recordings.json`),
      );
      expect(attempts).toHaveLength(1);
    },
  );

  it("answering 404 for a call that has ended: the hang-up is moot and the call is logged at once", async () => {
    const phone = await newNumber("turns", { max_call_duration: 60 });
    const sid = callSid();
    await post(testEnv, "/webhooks/twilio/voice", incomingCall(sid, phone));
    // The caller says nothing at first: Twilio follows the <Redirect>, which creates the session.
    await post(testEnv, "/webhooks/twilio/recording?no_speech=0", {
      ...incomingCall(sid, phone),
      CallStatus: "in-progress",
    });
    await twilio.behave({
      status: 404,
      pathIncludes: `/Calls/${sid}.json`,
      body: JSON.stringify({
        code: 20404,
        message: `The requested resource /Calls/${sid}.json was not found`,
        more_info: "https://www.twilio.com/docs/errors/20404",
        status: 404,
      }),
    });
    await alarmNow(sid, (state) => {
      state.deadlineAt = Date.now() - 1;
    });
    // Twilio never sends the status callback for a call it no longer has: the alarm finalises it.
    await alarmNow(sid, () => {});
    expect(await loggedCall(sid)).toMatchObject({ status: "ended", end_reason: "max_duration" });
  });
});

describe("a stream call whose socket or reply breaks", { timeout: 30_000 }, () => {
  async function streamCall() {
    const phone = uniquePhone();
    await admin("POST", "/admin/phone-config", {
      body: sampleBody(phone, {
        conversation_mode: "stream",
        end_of_speech_ms: 300,
        enable_recording: false,
      }),
    });
    const sid = callSid();
    const answer = await post(testEnv, "/webhooks/twilio/voice", incomingCall(sid, phone));
    const stream = answer[0]?.children[0];
    const parameters = streamParameters(stream);
    const { client } = await MediaStreamClient.connect(stream?.attributes.url ?? "", sid);
    if (!client) throw new Error("the stream was refused");
    client.start(parameters);
    await vi.waitFor(() => expect(client.marks()).toContain("greeting-1"), { timeout: 5000 });
    client.echoMarks(["greeting-1"]);
    return { sid, phone, client };
  }
  const speak = (client: MediaStreamClient) =>
    client.speak(concat(fixtureSamples("hello"), new Int16Array(8 * 600)));

  it("the WebSocket dropping mid-reply: the call is logged as stream_closed", async () => {
    await openaiScript(openai.url, { replies: ["One. Two. Three. Four. Five. Six. Seven. Eight."] });
    const { sid, client } = await streamCall();
    speak(client);
    await vi.waitFor(() => expect(client.marks().some((m) => m.startsWith("turn-"))).toBe(true), {
      timeout: 8000,
    });
    client.disconnect();
    await vi.waitFor(async () => {
      expect(await loggedCall(sid)).toMatchObject({ status: "ended", end_reason: "stream_closed" });
    });
  });

  it("a truncated reply stream: an apology, the call goes on, and is logged", async () => {
    const partial = { choices: [{ index: 0, delta: { content: "We are open" }, finish_reason: null }] };
    await openai.behave({
      status: 200,
      headers: { "content-type": "text/event-stream" },
      body: `data: ${JSON.stringify(partial)}\n\n`,
      pathIncludes: "/chat/completions",
      times: 1,
    });
    const { sid, phone, client } = await streamCall();
    speak(client);
    await vi.waitFor(() => expect(client.marks().some((m) => m.endsWith("-apology"))).toBe(true), {
      timeout: 8000,
    });
    expect(client.closed).toBeNull();
    await post(testEnv, "/webhooks/twilio/status", callEnded(sid, phone, 7));
    const call = await loggedCall(sid);
    expect(call).toMatchObject({ status: "ended", end_reason: "completed", turns: [{ outcome: "failed" }] });
    await vi.waitFor(() => expect(client.closed).not.toBeNull());
  });
});
