import type {
  RealtimeClientEvent,
  RealtimeServerEvent,
  SessionUpdateEvent,
} from "openai/resources/realtime/realtime";
import { afterEach, describe, expect, it, vi } from "vitest";
import { pcm16ToMulaw } from "../../src/audio/mulaw.ts";
import { mulawBytes } from "../../src/audio/mulaw-audio.ts";
import { decodeBase64 } from "../../src/base64.ts";
import type { TurnRecord } from "../../src/call/summary.ts";
import type { CallConfig } from "../../src/config/defaults.ts";
import { SETTING_DEFAULTS } from "../../src/config/schema.ts";
import type { OutboundAudio } from "../../src/conversation/engine.ts";
import { RealtimeEngine, type RealtimeFailure } from "../../src/conversation/realtime.ts";
import type { RealtimeTools } from "../../src/conversation/realtime-tools.ts";
import { log } from "../../src/log.ts";
import { connectRealtime } from "../../src/providers/openai-realtime.ts";
import type { ChatMessage } from "../../src/providers/types.ts";
import { fakeControl } from "../fakes/client.ts";
import { type OpenAIScript, openaiScript } from "../fakes/openai-client.ts";
import { testEnv } from "../support/env.ts";
import { concat, fixtureSamples, whiteNoise } from "../unit/audio/signals.ts";

/**
 * The realtime engine against the fake Realtime server (test/fakes/openai-realtime.ts) over a
 * real WebSocket: what it configures, the audio both ways, the greeting, barge-in, interrupts
 * off, the failures that hand a call to the pipeline, and the turns it reports.
 */

const CONFIG: CallConfig = {
  ...SETTING_DEFAULTS,
  phone_number: "+15550100",
  display_name: "Rosa's Bakery",
  stt_model: "gpt-4o-mini-transcribe",
  tts_model: "gpt-4o-mini-tts",
  tts_voice: "marin",
  inference_model: "gpt-realtime",
  temperature: 0.3,
  max_tokens: 321,
  system_prompt: "You are the front desk of Rosa's Bakery.",
  greeting: "Welcome to Rosa's Bakery!",
  conversation_mode: "realtime",
  enable_interrupts: true,
  interrupt_timeout: 0.5,
  end_of_speech_ms: 300,
  created_at: "2026-01-01T00:00:00.000Z",
  updated_at: "2026-01-01T00:00:00.000Z",
  version: 3,
  uses_defaults: false,
};

const silence = (ms: number) => new Int16Array(8 * ms);
const engines: RealtimeEngine[] = [];
afterEach(() => {
  for (const engine of engines.splice(0)) engine.close();
});

async function setup(
  options: {
    script?: OpenAIScript;
    config?: Partial<CallConfig>;
    tools?: RealtimeTools;
    history?: ChatMessage[];
  } = {},
) {
  const fake = fakeControl(testEnv.FAKE_OPENAI_URL);
  if (options.script) await openaiScript(fake.url, options.script);
  const sent: OutboundAudio[] = [];
  const turns: TurnRecord[] = [];
  const failures: RealtimeFailure[] = [];
  const ends: string[] = [];
  const serverEvents: RealtimeServerEvent[] = [];
  const engine = new RealtimeEngine(
    {
      send: (out) => sent.push(out),
      onTurn: (turn) => turns.push(turn),
      connect: (handlers, signal) =>
        connectRealtime(
          { apiKey: "sk-test", baseUrl: `${fake.url}/v1`, model: "gpt-realtime", signal },
          {
            event: (event) => {
              serverEvents.push(event);
              handlers.event(event);
            },
            closed: handlers.closed,
          },
        ),
      onFailure: (reason) => failures.push(reason),
      onEnd: ({ reason }) => ends.push(reason),
      ...(options.tools && { tools: options.tools }),
      now: () => Date.now(),
      log: log.with({ test: "realtime" }),
    },
    {
      config: { ...CONFIG, ...options.config },
      history: options.history ?? [],
      nextSeq: (options.history?.filter((m) => m.role === "user").length ?? 0) + 1,
    },
  );
  engines.push(engine);
  /** What the engine sent the fake, in order. */
  const clientEvents = async (): Promise<RealtimeClientEvent[]> =>
    (await fake.requests())
      .filter((r) => r.method === "WS")
      .map((r) => JSON.parse(r.body) as RealtimeClientEvent);
  return { fake, engine, sent, turns, failures, ends, serverEvents, clientEvents };
}

/** The caller's audio as Twilio sends it: 160-byte μ-law payloads. */
function frames(samples: Int16Array): Uint8Array[] {
  const mulaw = pcm16ToMulaw(samples);
  const out: Uint8Array[] = [];
  for (let at = 0; at < mulaw.length; at += 160) out.push(mulaw.slice(at, at + 160));
  return out;
}

function say(engine: RealtimeEngine, samples: Int16Array): Uint8Array[] {
  const payloads = frames(concat(samples, silence(500)));
  for (const payload of payloads) engine.pushAudio(payload);
  return payloads;
}

const markNames = (sent: OutboundAudio[]) => sent.flatMap((o) => (o.kind === "mark" ? [o.name] : []));
const mediaBytes = (sent: OutboundAudio[]) =>
  concatBytes(sent.flatMap((o) => (o.kind === "media" ? [mulawBytes(o.mulaw)] : [])));

function concatBytes(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const part of parts) {
    out.set(part, at);
    at += part.length;
  }
  return out;
}

const ofType = <T extends RealtimeClientEvent["type"]>(events: RealtimeClientEvent[], type: T) =>
  events.filter((e): e is Extract<RealtimeClientEvent, { type: T }> => e.type === type);

const responseDone = (events: RealtimeServerEvent[]) =>
  events.filter((e) => e.type === "response.done").length;

describe("RealtimeEngine configuring the session", () => {
  it("sends session.update with the number's values, audio/pcmu both ways and no temperature", async () => {
    const { clientEvents, serverEvents, failures } = await setup({
      config: { enable_interrupts: false, end_of_speech_ms: 450 },
    });
    await vi.waitFor(() => expect(serverEvents.map((e) => e.type)).toContain("session.updated"));
    const [update] = ofType(await clientEvents(), "session.update") as SessionUpdateEvent[];
    expect(update?.session).toEqual({
      type: "realtime",
      instructions: "You are the front desk of Rosa's Bakery.",
      output_modalities: ["audio"],
      audio: {
        input: {
          format: { type: "audio/pcmu" },
          transcription: { model: "gpt-4o-mini-transcribe" },
          turn_detection: {
            type: "server_vad",
            silence_duration_ms: 450,
            interrupt_response: false,
            create_response: true,
          },
        },
        output: { format: { type: "audio/pcmu" }, voice: "marin" },
      },
      max_output_tokens: 321,
    });
    expect(serverEvents.filter((e) => e.type === "error")).toEqual([]);
    expect(failures).toEqual([]);
  });

  it("puts the conversation so far into a new session (a caller back from a failed transfer)", async () => {
    const history: ChatMessage[] = [
      { role: "user", content: "Can I speak to the baker?" },
      { role: "assistant", content: "Connecting you now." },
    ];
    const { clientEvents, serverEvents, failures } = await setup({ history });
    await vi.waitFor(() =>
      expect(serverEvents.filter((e) => e.type === "conversation.item.added")).toHaveLength(2),
    );
    const events = await clientEvents();
    const creates = ofType(events, "conversation.item.create");
    expect(creates.map((e) => e.item)).toEqual([
      { type: "message", role: "user", content: [{ type: "input_text", text: "Can I speak to the baker?" }] },
      { type: "message", role: "assistant", content: [{ type: "output_text", text: "Connecting you now." }] },
    ]);
    // Configured first, then the history, before any of the caller's audio.
    const order = events.map((e) => e.type);
    expect(order.indexOf("session.update")).toBeLessThan(order.indexOf("conversation.item.create"));
    expect(serverEvents.filter((e) => e.type === "error")).toEqual([]);
    expect(failures).toEqual([]);
  });

  it("opens the GA socket: the model in the query, the key as a bearer token, no beta header", async () => {
    const { fake, serverEvents } = await setup();
    await vi.waitFor(() => expect(serverEvents.map((e) => e.type)).toContain("session.updated"));
    const [handshake] = (await fake.requests()).filter(
      (r) => r.method === "GET" && r.path === "/v1/realtime",
    );
    expect(handshake?.query).toEqual({ model: "gpt-realtime" });
    expect(handshake?.headers.authorization).toBe("Bearer sk-test");
    expect(handshake?.headers["openai-beta"]).toBeUndefined();
  });

  it("falls back when the server refuses the session (a transcription model it does not have)", async () => {
    const { failures, serverEvents } = await setup({ config: { stt_model: "whisper-test" } });
    await vi.waitFor(() => expect(failures).toEqual(["session_refused"]));
    const error = serverEvents.find((e) => e.type === "error");
    expect(error?.type === "error" && error.error.param).toBe("session.audio.input.transcription.model");
  });
});

describe("RealtimeEngine audio", () => {
  it("passes the caller's μ-law to the server and the model's μ-law to the caller byte for byte", async () => {
    const { engine, sent, clientEvents, serverEvents } = await setup({
      script: { transcripts: ["When do you open?"], replies: ["We open at nine, every day of the week."] },
    });
    const spoken = say(engine, fixtureSamples("hello"));
    await vi.waitFor(() => expect(responseDone(serverEvents)).toBe(1), { timeout: 5000 });
    await vi.waitFor(() => expect(markNames(sent).length).toBeGreaterThan(0));

    const appended = ofType(await clientEvents(), "input_audio_buffer.append").map(
      (e) => decodeBase64(e.audio) ?? new Uint8Array(),
    );
    expect(concatBytes(appended)).toEqual(concatBytes(spoken));

    const deltas = serverEvents.flatMap((e) =>
      e.type === "response.output_audio.delta" ? [decodeBase64(e.delta) ?? new Uint8Array()] : [],
    );
    expect(deltas.length).toBeGreaterThan(1);
    expect(mediaBytes(sent)).toEqual(concatBytes(deltas));
    // Relayed as it came: each delta's base64 text is what goes toward Twilio, not re-encoded.
    const texts = serverEvents.flatMap((e) => (e.type === "response.output_audio.delta" ? [e.delta] : []));
    expect(sent.flatMap((o) => (o.kind === "media" ? [o.mulaw] : []))).toEqual(texts);
  });
});

describe("RealtimeEngine greeting", () => {
  it("has the model say the greeting word for word before anything else, within 3 s", async () => {
    const { engine, sent, clientEvents, serverEvents, failures } = await setup();
    const started = Date.now();
    await engine.greet();
    await vi.waitFor(() => expect(sent.some((o) => o.kind === "media")).toBe(true), { timeout: 3000 });
    expect(Date.now() - started).toBeLessThan(3000);
    const events = await clientEvents();
    const create = ofType(events, "response.create")[0];
    expect(create?.response?.instructions).toContain('"Welcome to Rosa\'s Bakery!"');
    expect(events.map((e) => e.type).slice(0, 2)).toEqual(["session.update", "response.create"]);
    await vi.waitFor(() => expect(responseDone(serverEvents)).toBe(1));
    const transcript = serverEvents.find((e) => e.type === "response.output_audio_transcript.done");
    expect(transcript?.type === "response.output_audio_transcript.done" && transcript.transcript).toBe(
      "Welcome to Rosa's Bakery!",
    );
    expect(sent[0]?.kind).toBe("media");
    expect(failures).toEqual([]);
  });

  it("is a failure when the greeting's audio has not started within 3 s", async () => {
    const { engine, failures } = await setup({ script: { realtime: { firstAudioDelayMs: 4000 } } });
    const started = Date.now();
    await engine.greet();
    await vi.waitFor(() => expect(failures).toEqual(["greeting_timeout"]), { timeout: 5000 });
    expect(Date.now() - started).toBeGreaterThanOrEqual(2900);
  });
});

describe("RealtimeEngine barge-in", () => {
  it("clears Twilio, cancels the response and truncates the item at the milliseconds heard", async () => {
    const { engine, sent, clientEvents, serverEvents, turns } = await setup({
      script: {
        transcripts: ["Tell me everything."],
        replies: [
          "We bake sourdough, rye, brioche, baguettes, croissants and cinnamon buns every single morning.",
        ],
        realtime: { deltaIntervalMs: 150 },
      },
    });
    say(engine, fixtureSamples("hello"));
    // Three deltas sent; the caller has heard up to the second mark.
    await vi.waitFor(() => expect(markNames(sent).length).toBeGreaterThanOrEqual(3), { timeout: 5000 });
    const marks = markNames(sent);
    engine.markPlayed(marks[1] as string);
    const heardBytes = 2 * 2410;
    for (const payload of frames(whiteNoise(8 * 400, 3000))) engine.pushAudio(payload);

    await vi.waitFor(async () =>
      expect(ofType(await clientEvents(), "conversation.item.truncate")).toHaveLength(1),
    );
    const events = await clientEvents();
    const [truncate] = ofType(events, "conversation.item.truncate");
    const item = serverEvents.find((e) => e.type === "response.output_item.added");
    expect(truncate).toMatchObject({
      item_id: item?.type === "response.output_item.added" ? item.item.id : "",
      content_index: 0,
      audio_end_ms: Math.floor(heardBytes / 8),
    });
    expect(sent.some((o) => o.kind === "clear")).toBe(true);
    expect(ofType(events, "response.cancel")).toHaveLength(1);
    const truncated = serverEvents.find((e) => e.type === "conversation.item.truncated");
    expect(truncated).toBeDefined();
    await vi.waitFor(() => expect(turns).toHaveLength(1));
    expect(turns[0]).toMatchObject({ seq: 1, transcript: "Tell me everything.", interrupted: true });
    expect(turns[0]?.reply?.split(" ").length).toBeLessThan(12);
  });

  it("with interrupts off lets the agent finish, then answers what the caller said", async () => {
    const { engine, sent, clientEvents, serverEvents, turns } = await setup({
      config: { enable_interrupts: false },
      script: {
        transcripts: ["First question.", "Second question."],
        replies: ["A rather long first answer that keeps going for a while.", "Second answer."],
        realtime: { deltaIntervalMs: 100 },
      },
    });
    say(engine, fixtureSamples("hello"));
    await vi.waitFor(() => expect(markNames(sent).length).toBeGreaterThanOrEqual(1), { timeout: 5000 });
    say(engine, fixtureSamples("hello"));
    await vi.waitFor(() => expect(responseDone(serverEvents)).toBe(2), { timeout: 10_000 });
    const events = await clientEvents();
    expect(sent.some((o) => o.kind === "clear")).toBe(false);
    expect(ofType(events, "response.cancel")).toHaveLength(0);
    expect(ofType(events, "conversation.item.truncate")).toHaveLength(0);
    for (const name of markNames(sent)) engine.markPlayed(name);
    await vi.waitFor(() => expect(turns).toHaveLength(2));
    expect(turns.map((t) => [t.transcript, t.reply, t.interrupted ?? false])).toEqual([
      ["First question.", "A rather long first answer that keeps going for a while.", false],
      ["Second question.", "Second answer.", false],
    ]);
  });
});

describe("RealtimeEngine failures", () => {
  it("reports connect_failed when the server refuses the socket", async () => {
    const fakeFirst = fakeControl(testEnv.FAKE_OPENAI_URL);
    await fakeFirst.behave({ status: 503, pathIncludes: "/realtime" });
    const failures: RealtimeFailure[] = [];
    const engine = new RealtimeEngine(
      {
        send: () => {},
        onTurn: () => {},
        connect: (handlers, signal) =>
          connectRealtime(
            { apiKey: "sk-test", baseUrl: `${fakeFirst.url}/v1`, model: "gpt-realtime", signal },
            handlers,
          ),
        onFailure: (reason) => failures.push(reason),
        now: Date.now,
        log,
      },
      { config: CONFIG, history: [], nextSeq: 1 },
    );
    engines.push(engine);
    await vi.waitFor(() => expect(failures).toEqual(["connect_failed"]));
  });

  it("reports connect_failed when the socket does not open within 3 s", async () => {
    const fakeSlow = fakeControl(testEnv.FAKE_OPENAI_URL);
    await fakeSlow.behave({ delayMs: 5000, pathIncludes: "/realtime" });
    const failures: Array<{ reason: RealtimeFailure; at: number }> = [];
    const started = Date.now();
    const engine = new RealtimeEngine(
      {
        send: () => {},
        onTurn: () => {},
        connect: (handlers, signal) =>
          connectRealtime(
            { apiKey: "sk-test", baseUrl: `${fakeSlow.url}/v1`, model: "gpt-realtime", signal },
            handlers,
          ),
        onFailure: (reason) => failures.push({ reason, at: Date.now() - started }),
        now: Date.now,
        log,
      },
      { config: CONFIG, history: [], nextSeq: 1 },
    );
    engines.push(engine);
    await vi.waitFor(() => expect(failures.map((f) => f.reason)).toEqual(["connect_failed"]), {
      timeout: 5000,
    });
    expect(failures[0]?.at).toBeGreaterThanOrEqual(2900);
    expect(failures[0]?.at).toBeLessThan(4500);
  });

  it("reports socket_dropped, after the turns so far, when the server drops the socket mid-call", async () => {
    const { engine, sent, turns, failures } = await setup({
      script: { transcripts: ["Hello?"], replies: ["Hi there."], realtime: { dropAfterResponses: 1 } },
    });
    say(engine, fixtureSamples("hello"));
    await vi.waitFor(() => expect(failures).toEqual(["socket_dropped"]), { timeout: 5000 });
    expect(turns).toHaveLength(1);
    expect(turns[0]).toMatchObject({ transcript: "Hello?", reply: "Hi there." });
    expect(sent.some((o) => o.kind === "media")).toBe(true);
  });
});

describe("RealtimeEngine call log", () => {
  it("records each turn with both transcripts and its timings", async () => {
    const { engine, sent, turns } = await setup({
      script: {
        transcripts: ["Are you open on Sunday?"],
        replies: ["Yes, from eight to noon."],
        realtime: { firstAudioDelayMs: 120 },
      },
    });
    say(engine, fixtureSamples("hello"));
    await vi.waitFor(() => expect(markNames(sent).length).toBeGreaterThan(1), { timeout: 5000 });
    await vi.waitFor(() => expect(sent.at(-1)?.kind).toBe("mark"));
    await new Promise((r) => setTimeout(r, 50));
    for (const name of markNames(sent)) engine.markPlayed(name);
    await vi.waitFor(() => expect(turns).toHaveLength(1));
    const [turn] = turns;
    expect(turn).toMatchObject({
      seq: 1,
      outcome: "reply",
      transcript: "Are you open on Sunday?",
      reply: "Yes, from eight to noon.",
    });
    const timings = turn?.timings as unknown as Record<string, number>;
    expect(timings.speech_stopped_ms).toBeGreaterThan(0);
    // The fake waits 120 ms before its first delta: the figure counts from speech_stopped, not from 0.
    expect(timings.first_audio_delta_ms).toBeGreaterThan(60);
    expect(timings.first_frame_ms).toBeGreaterThanOrEqual(timings.first_audio_delta_ms as number);
  });
});

describe("RealtimeEngine tools", () => {
  it("declares the tools, runs a function call and answers with its output", async () => {
    const calls: Array<{ name: string; args: string }> = [];
    const tools: RealtimeTools = {
      definitions: [
        {
          type: "function",
          name: "check_order",
          description: "Looks up an order",
          parameters: { type: "object", properties: { order: { type: "string" } }, required: ["order"] },
        },
      ],
      call: async ({ name, arguments: args }) => {
        calls.push({ name, args });
        return { output: JSON.stringify({ status: "shipped" }), intent: null };
      },
    };
    const { engine, sent, clientEvents, serverEvents, turns } = await setup({
      tools,
      script: {
        transcripts: ["Where is order 42?"],
        replies: ["Order 42 has shipped."],
        realtime: { toolCall: { name: "check_order", arguments: '{"order":"42"}' } },
      },
    });
    say(engine, fixtureSamples("hello"));
    await vi.waitFor(() => expect(responseDone(serverEvents)).toBe(2), { timeout: 5000 });
    const events = await clientEvents();
    const [update] = ofType(events, "session.update");
    expect(update?.session).toMatchObject({ tools: tools.definitions, tool_choice: "auto" });
    expect(calls).toEqual([{ name: "check_order", args: '{"order":"42"}' }]);
    const output = ofType(events, "conversation.item.create").map((e) => e.item);
    expect(output).toEqual([
      {
        type: "function_call_output",
        call_id: expect.stringMatching(/^call_/),
        output: '{"status":"shipped"}',
      },
    ]);
    expect(serverEvents.filter((e) => e.type === "error")).toEqual([]);
    await vi.waitFor(() => expect(sent.at(-1)?.kind).toBe("mark"));
    await new Promise((r) => setTimeout(r, 50));
    for (const name of markNames(sent)) engine.markPlayed(name);
    await vi.waitFor(() => expect(turns).toHaveLength(1));
    expect(turns[0]).toMatchObject({ transcript: "Where is order 42?", reply: "Order 42 has shipped." });
  });
});

describe("RealtimeEngine end_call", () => {
  it("hangs up only once the model's goodbye has played", async () => {
    const tools: RealtimeTools = {
      definitions: [
        { type: "function", name: "end_call", description: "Hang up", parameters: { type: "object" } },
      ],
      call: async () => ({ output: "{}", intent: { kind: "end_call" } }),
    };
    const { engine, sent, serverEvents, turns, ends } = await setup({
      tools,
      script: {
        transcripts: ["That's all, bye."],
        replies: ["Goodbye, have a nice day."],
        realtime: { toolCall: { name: "end_call", arguments: "{}" } },
      },
    });
    say(engine, fixtureSamples("hello"));
    await vi.waitFor(() => expect(responseDone(serverEvents)).toBe(2), { timeout: 5000 });
    await vi.waitFor(() => expect(sent.at(-1)?.kind).toBe("mark"));
    expect(ends).toEqual([]);
    for (const name of markNames(sent)) engine.markPlayed(name);
    await vi.waitFor(() => expect(ends).toEqual(["agent_hangup"]));
    expect(turns[0]).toMatchObject({ transcript: "That's all, bye.", reply: "Goodbye, have a nice day." });
  });
});
