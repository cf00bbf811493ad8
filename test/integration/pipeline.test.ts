import { afterEach, describe, expect, it, vi } from "vitest";
import { mulawToPcm16, pcm16ToMulaw } from "../../src/audio/mulaw.ts";
import { decodeWav } from "../../src/audio/wav.ts";
import { synthesizeMulaw } from "../../src/call/greeting.ts";
import { PHRASES } from "../../src/call/reply.ts";
import type { RealtimeTimings, TurnRecord } from "../../src/call/summary.ts";
import type { CallConfig } from "../../src/config/defaults.ts";
import { SETTING_DEFAULTS } from "../../src/config/schema.ts";
import type { OutboundAudio, TurnProgress } from "../../src/conversation/engine.ts";
import { PipelineEngine } from "../../src/conversation/pipeline.ts";
import { PipelineSpeaker } from "../../src/conversation/pipeline-speaker.ts";
import { log } from "../../src/log.ts";
import { createOpenAIProviders } from "../../src/providers/openai.ts";
import type { ChatMessage, ChatRequest, SpeechRequest } from "../../src/providers/types.ts";
import { fakeControl } from "../fakes/client.ts";
import { type OpenAIScript, openaiScript } from "../fakes/openai-client.ts";
import type { RecordedRequest } from "../fakes/types.ts";
import { testEnv } from "../support/env.ts";
import { concat, fixtureSamples, whiteNoise } from "../unit/audio/signals.ts";

const CONFIG: CallConfig = {
  ...SETTING_DEFAULTS,
  phone_number: "+15550100",
  display_name: "Rosa's Bakery",
  stt_model: "whisper-test",
  tts_model: "tts-1-hd",
  tts_voice: "nova",
  inference_model: "gpt-test",
  temperature: 0.3,
  max_tokens: 123,
  system_prompt: "You are the front desk of Rosa's Bakery.",
  greeting: "Welcome to Rosa's Bakery!",
  conversation_mode: "stream",
  enable_interrupts: true,
  interrupt_timeout: 0.5,
  end_of_speech_ms: 300,
  created_at: "2026-01-01T00:00:00.000Z",
  updated_at: "2026-01-01T00:00:00.000Z",
  version: 3,
  uses_defaults: false,
};

/** The fake speaks 50 ms per character: 2.5 frames of 20 ms. */
const framesFor = (text: string) => text.length * 2.5;
const silence = (ms: number) => new Int16Array(8 * ms);
const hello = () => fixtureSamples("hello");

const engines: PipelineEngine[] = [];
afterEach(() => {
  for (const engine of engines.splice(0)) engine.close();
});

async function setup(options: {
  script: OpenAIScript;
  config?: Partial<CallConfig>;
  history?: ChatMessage[];
  /** the call's greeting as 8 kHz μ-law, when it is ready (the session's cache or synthesis) */
  greeting?: () => Promise<Uint8Array | null>;
}) {
  const fake = fakeControl(testEnv.FAKE_OPENAI_URL);
  await openaiScript(fake.url, options.script);
  const providers = createOpenAIProviders({ apiKey: "sk-test", baseUrl: `${fake.url}/v1` });
  const sent: OutboundAudio[] = [];
  /** When each of `sent` was sent (Date.now(), which workerd moves on at I/O). */
  const sentAt: number[] = [];
  const turns: Array<{ turn: TurnRecord; messages: ChatMessage[] }> = [];
  const progress: TurnProgress[] = [];
  // What the engine asked of the providers, and when (as a position in `sent`).
  const chats: ChatRequest[] = [];
  const speeches: Array<{ text: string; sentBefore: number }> = [];
  const engine = new PipelineEngine(
    {
      stt: providers.stt,
      llm: {
        complete: (req) => providers.llm.complete(req),
        stream: (req) => {
          chats.push(req);
          return providers.llm.stream(req);
        },
        streamEvents: (req) => {
          chats.push(req);
          return providers.llm.streamEvents(req);
        },
      },
      tts: {
        synthesize: (req) => providers.tts.synthesize(req),
        synthesizeStream: (req: SpeechRequest & { format: "pcm" }) => {
          speeches.push({ text: req.text, sentBefore: sent.length });
          return providers.tts.synthesizeStream(req);
        },
      },
      send: (out) => {
        sent.push(out);
        sentAt.push(Date.now());
      },
      onTurn: (turn, messages) => turns.push({ turn, messages }),
      onProgress: (p) => progress.push(p),
      ...(options.greeting && { greeting: options.greeting }),
      now: () => Date.now(),
      log: log.with({ test: "pipeline" }),
    },
    { config: { ...CONFIG, ...options.config }, history: options.history ?? [], nextSeq: 1 },
  );
  engines.push(engine);
  const requests = async (path: string): Promise<RecordedRequest[]> =>
    (await fake.requests()).filter((r) => r.path === path);
  return { fake, engine, sent, sentAt, turns, progress, chats, speeches, requests };
}

/** The caller says `speech`, then stays quiet long enough to end the utterance, in 20 ms payloads. */
function say(engine: PipelineEngine, speech: Int16Array): void {
  hear(engine, concat(speech, silence(600)));
}

/** The caller's line carries `samples` (8 kHz), in 20 ms payloads as Twilio sends them. */
function hear(engine: PipelineEngine, samples: Int16Array): void {
  const mulaw = pcm16ToMulaw(samples);
  for (let at = 0; at < mulaw.length; at += 160) engine.pushAudio(mulaw.subarray(at, at + 160));
}

const markNames = (sent: OutboundAudio[]) => sent.flatMap((o) => (o.kind === "mark" ? [o.name] : []));

/** Twilio has played everything sent so far. */
function playAll(engine: PipelineEngine, sent: OutboundAudio[]): void {
  for (const name of markNames(sent)) engine.markPlayed(name);
}

/** Each mark with the number of media frames sent since the previous mark (or clear). */
function segments(sent: OutboundAudio[]): Array<{ mark: string; frames: number }> {
  const out: Array<{ mark: string; frames: number }> = [];
  let frames = 0;
  for (const o of sent) {
    if (o.kind === "media") frames++;
    else {
      if (o.kind === "mark") out.push({ mark: o.name, frames });
      frames = 0;
    }
  }
  return out;
}

function expectWholeFrames(sent: OutboundAudio[]): void {
  for (const o of sent) if (o.kind === "media") expect(o.mulaw.length).toBe(160);
}

function expectSpoken(segment: { mark: string; frames: number } | undefined, mark: string, text: string) {
  expect(segment?.mark).toBe(mark);
  expect(Math.abs((segment?.frames ?? 0) - framesFor(text))).toBeLessThanOrEqual(1);
}

const waitForMark = (sent: OutboundAudio[], name: string) =>
  vi.waitFor(() => expect(markNames(sent)).toContain(name), { timeout: 5000, interval: 10 });

describe("PipelineEngine answering the caller", () => {
  it("transcribes an utterance, streams the reply and speaks it sentence by sentence", async () => {
    const sentences = ["We open at nine on Sundays.", "The ovens start at five!", "Anything else?"];
    const history: ChatMessage[] = [
      { role: "assistant", content: "Hello, Rosa's Bakery." },
      { role: "user", content: "Hi there." },
    ];
    const { engine, sent, turns, progress, requests } = await setup({
      script: { transcripts: ["When do you open on Sunday?"], replies: [sentences.join(" ")] },
      history,
    });

    say(engine, concat(silence(200), hello()));
    await engine.idle();

    const [stt] = await requests("/v1/audio/transcriptions");
    const form = await new Response(
      Uint8Array.from(atob(stt?.bodyBase64 ?? ""), (c) => c.charCodeAt(0)),
      {
        headers: { "content-type": stt?.headers["content-type"] ?? "" },
      },
    ).formData();
    expect(form.get("model")).toBe("whisper-test");
    const wav = decodeWav(await (form.get("file") as File).arrayBuffer());
    expect(wav.sampleRate).toBe(8000);
    // The 1.4 s utterance with a little audio either side, not the silence around it.
    expect(wav.samples.length / 8000).toBeGreaterThan(1.4);
    expect(wav.samples.length / 8000).toBeLessThan(2.2);

    const [chat] = await requests("/v1/chat/completions");
    expect(JSON.parse(chat?.body ?? "")).toMatchObject({
      model: "gpt-test",
      temperature: 0.3,
      max_tokens: 123,
      stream: true,
      messages: [
        { role: "system", content: "You are the front desk of Rosa's Bakery." },
        ...history,
        { role: "user", content: "When do you open on Sunday?" },
      ],
    });

    const speech = (await requests("/v1/audio/speech")).map((r) => JSON.parse(r.body));
    expect(speech).toEqual(
      sentences.map((input) => ({ model: "tts-1-hd", voice: "nova", input, response_format: "pcm" })),
    );

    expectWholeFrames(sent);
    const spoken = segments(sent);
    expect(spoken).toHaveLength(3);
    for (const [i, text] of sentences.entries()) expectSpoken(spoken[i], `turn-1-${i}`, text);
    expect(sent.at(-1)).toEqual({ kind: "mark", name: "turn-1-2" });

    // The turn is recorded once the caller has heard it all; until then a live view sees it grow.
    expect(engine.speaking).toBe(true);
    expect(turns).toHaveLength(0);
    const transcript = "When do you open on Sunday?";
    expect(progress).toEqual([
      { seq: 1, transcript, reply: "" },
      { seq: 1, transcript, reply: sentences[0] },
      { seq: 1, transcript, reply: sentences.slice(0, 2).join(" ") },
      { seq: 1, transcript, reply: sentences.join(" ") },
    ]);
    playAll(engine, sent);
    expect(engine.speaking).toBe(false);
    expect(turns).toHaveLength(1);
    const [{ turn, messages }] = turns as [(typeof turns)[number]];
    expect(turn).toMatchObject({
      seq: 1,
      outcome: "reply",
      transcript: "When do you open on Sunday?",
      reply: sentences.join(" "),
    });
    expect(turn.interrupted).toBeUndefined();
    expect(Object.keys(turn.timings).sort()).toEqual([
      "first_audio_ms",
      "first_frame_ms",
      "first_token_ms",
      "transcript_ms",
    ]);
    for (const ms of Object.values(turn.timings)) expect(ms).toBeGreaterThanOrEqual(0);
    expect(messages).toEqual([
      { role: "user", content: "When do you open on Sunday?" },
      { role: "assistant", content: sentences.join(" ") },
    ]);
  });

  it("drops an utterance the transcriber hears as silence", async () => {
    const { engine, sent, turns, requests } = await setup({ script: { transcripts: ["..."] } });
    say(engine, hello());
    await engine.idle();
    expect(await requests("/v1/audio/transcriptions")).toHaveLength(1);
    expect(await requests("/v1/chat/completions")).toHaveLength(0);
    expect(sent).toEqual([]);
    expect(turns).toEqual([]);
  });
});

/**
 * Frames sent within this of each other went out together: the TTS fake's chunks come 60 ms
 * apart, and the clock can tick once while one batch of frames is sent.
 */
const TOGETHER_MS = 30;
const spread = (times: number[]) => Math.max(...times) - Math.min(...times);

/** When each media frame just before the mark `mark` was sent. */
function sendTimes(sent: OutboundAudio[], sentAt: number[], mark: string): number[] {
  const end = sent.findIndex((o) => o.kind === "mark" && o.name === mark);
  let start = end;
  while (start > 0 && sent[start - 1]?.kind === "media") start--;
  return sentAt.slice(start, end);
}

/** A call answered with `sentences` as the model's reply, the TTS fake delayed by `delayMs`, once it is all sent. */
async function replied(sentences: string[], delayMs: OpenAIScript["delayMs"]) {
  const call = await setup({
    script: { transcripts: ["When do you open?"], replies: [sentences.join(" ")], delayMs },
  });
  say(call.engine, hello());
  await call.engine.idle();
  return call;
}

describe("PipelineEngine sending speech", () => {
  it("holds a reply that starts on a quiet line until 200 ms of it is ready", async () => {
    // The TTS fake sends 100 ms of audio every 60 ms (the first chunk makes 4 frames: the
    // resampler's delay): sent alone, the line would run dry before the next. "Hi!" is 150 ms
    // (8 frames), shorter than the hold.
    const sentences = ["Hi!", "We open at nine on Sundays, and the ovens start at five."];
    const { engine, sent, sentAt, turns } = await replied(sentences, { ttsChunkGap: 60 });

    expect(segments(sent).map((s) => s.frames)).toEqual(sentences.map((text) => Math.ceil(framesFor(text))));
    // The short first sentence went out whole, at once, when its audio ended.
    expect(spread(sendTimes(sent, sentAt, "turn-1-0"))).toBeLessThan(TOGETHER_MS);
    playAll(engine, sent);
    const timings = turns[0]?.turn.timings as RealtimeTimings;
    // Its first frame waited for its second chunk and the end of its audio, two gaps of 60 ms.
    expect(timings.first_frame_ms - timings.first_audio_ms).toBeGreaterThanOrEqual(100);
  });

  it("does not hold a sentence that follows audio with 200 ms still to play", async () => {
    // The first sentence is 1.35 s of audio, delivered in 0.84 s: about half a second of it is
    // still to play when the second's audio comes.
    const sentences = ["We open at nine on Sundays.", "The ovens start at five!"];
    const { sent, sentAt } = await replied(sentences, { ttsChunkGap: 60 });

    // The first sentence's start was held; the second's frames went out as each chunk came.
    const first = sendTimes(sent, sentAt, "turn-1-0");
    expect(spread(first.slice(0, 10))).toBeLessThan(TOGETHER_MS);
    const second = sendTimes(sent, sentAt, "turn-1-1");
    expect(spread(second.slice(0, 10))).toBeGreaterThanOrEqual(TOGETHER_MS);
  });

  it("holds a sentence again when the one before has finished playing before its audio comes", async () => {
    // Each sentence's audio starts 300 ms after it is asked for: "Hi!" (160 ms) has played out
    // by then, although Twilio has not echoed its mark yet.
    const sentences = ["Hi!", "We open at nine on Sundays, and the ovens start at five."];
    const { sent, sentAt } = await replied(sentences, { tts: 300, ttsChunkGap: 60 });

    const second = sendTimes(sent, sentAt, "turn-1-1");
    expect(second).toHaveLength(Math.ceil(framesFor(sentences[1] as string)));
    // Its first 200 ms went out together, once that much had come; the rest as it came.
    expect(spread(second.slice(0, 10))).toBeLessThan(TOGETHER_MS);
    expect(spread(second)).toBeGreaterThanOrEqual(TOGETHER_MS);
  });
});

describe("PipelineSpeaker", () => {
  async function speakerWith(delayMs: OpenAIScript["delayMs"]) {
    const fake = fakeControl(testEnv.FAKE_OPENAI_URL);
    await openaiScript(fake.url, { delayMs });
    const providers = createOpenAIProviders({ apiKey: "sk-test", baseUrl: `${fake.url}/v1` });
    const sent: OutboundAudio[] = [];
    const sentAt: number[] = [];
    const speaker = new PipelineSpeaker({
      tts: providers.tts,
      config: CONFIG,
      now: () => Date.now(),
      send: (out) => {
        sent.push(out);
        sentAt.push(Date.now());
      },
    });
    return { speaker, sent, sentAt };
  }

  it("speaks one speech at a time, in the order asked, when two are asked for at once", async () => {
    const { speaker, sent } = await speakerWith({ ttsChunkGap: 20 });
    const signal = new AbortController().signal;
    const first = "We open at nine on Sundays.";
    const second = "Connecting you now.";
    await Promise.all([
      speaker.speak(first, { name: "first" }, signal),
      speaker.speak(second, { name: "second" }, signal),
    ]);
    // Each speech's frames, then its mark: none of one inside the other.
    expect(segments(sent)).toEqual([
      { mark: "first", frames: Math.ceil(framesFor(first)) },
      { mark: "second", frames: Math.ceil(framesFor(second)) },
    ]);
  });

  it("drops a speech cancelled while it waits its turn, without waiting for the one ahead", async () => {
    const { speaker, sent } = await speakerWith({ ttsChunkGap: 20 });
    const first = speaker.speak(
      "We open at nine on Sundays.",
      { name: "first" },
      new AbortController().signal,
    );
    const cancel = new AbortController();
    const second = speaker.speak("Connecting you now.", { name: "second" }, cancel.signal);
    cancel.abort(new DOMException("the caller spoke", "AbortError"));
    await expect(second).rejects.toThrow("the caller spoke");
    // The first is still being spoken: the cancelled one did not wait for it.
    expect(markNames(sent)).toEqual([]);
    await first;
    expect(markNames(sent)).toEqual(["first"]);
  });

  it("holds the next speech again after a clear, since Twilio dropped what it had to play", async () => {
    const { speaker, sent, sentAt } = await speakerWith({ ttsChunkGap: 60 });
    const signal = new AbortController().signal;
    await speaker.speak("We open at nine on Sundays.", { name: "first" }, signal);
    // A barge-in: the engine sends Twilio a clear and the speaker forgets what was queued.
    speaker.forget();
    await speaker.speak("Hi!", { name: "second" }, signal);
    // On the quiet line "Hi!" (8 frames) was held whole, not sent as its two chunks came.
    expect(spread(sendTimes(sent, sentAt, "second"))).toBeLessThan(TOGETHER_MS);
  });
});

describe("PipelineEngine barge-in", () => {
  it("stops talking when the caller talks over it, and keeps only what the caller heard", async () => {
    const long = [
      "We bake sourdough every morning.",
      "Rye comes out on Fridays.",
      "Croissants sell out by ten.",
      "Would you like to order?",
    ];
    const { engine, sent, turns, chats, speeches } = await setup({
      script: {
        transcripts: ["What do you bake?", "Do you have rye today?"],
        replies: [long.join(" "), "Yes, we do."],
        delayMs: { tts: 300 },
      },
    });

    say(engine, hello());
    await waitForMark(sent, "turn-1-0");
    engine.markPlayed("turn-1-0");
    say(engine, hello());

    const clearAt = sent.findIndex((o) => o.kind === "clear");
    expect(clearAt).toBeGreaterThan(0);
    // The interrupted turn is recorded at once, cut to the sentence whose mark came back.
    expect(turns).toEqual([
      {
        turn: expect.objectContaining({
          seq: 1,
          outcome: "reply",
          transcript: "What do you bake?",
          reply: long[0],
          interrupted: true,
        }),
        messages: [
          { role: "user", content: "What do you bake?" },
          { role: "assistant", content: long[0] },
        ],
      },
    ]);
    await engine.idle();

    // The reply's model stream was cancelled and none of its later sentences were started.
    expect(chats[0]?.signal?.aborted).toBe(true);
    const firstReplySpeech = speeches.filter((s) => long.includes(s.text));
    expect(firstReplySpeech.length).toBeLessThan(long.length);
    for (const s of firstReplySpeech) expect(s.sentBefore).toBeLessThanOrEqual(clearAt);

    // After the clear, only the answer to the interruption is spoken.
    const after = sent.slice(clearAt + 1);
    expectWholeFrames(after);
    const spoken = segments(after);
    expect(spoken).toHaveLength(1);
    expectSpoken(spoken[0], "turn-2-0", "Yes, we do.");
    // ...and the model knew what the caller had heard of the first reply.
    expect(chats[1]?.messages).toEqual([
      { role: "system", content: CONFIG.system_prompt },
      { role: "user", content: "What do you bake?" },
      { role: "assistant", content: long[0] },
      { role: "user", content: "Do you have rye today?" },
    ]);
    // Twilio echoes the marks the clear dropped; they do not make the first turn heard.
    playAll(engine, sent);
    expect(turns.map((t) => [t.turn.seq, t.turn.reply, t.turn.interrupted])).toEqual([
      [1, long[0], true],
      [2, "Yes, we do.", undefined],
    ]);
  });

  it("keeps talking through a noise shorter than interrupt_timeout", async () => {
    const reply = ["Our shop is on Elm Street.", "Parking is behind it."];
    const { engine, sent, turns, requests } = await setup({
      script: { transcripts: ["Where are you?"], replies: [reply.join(" ")], delayMs: { tts: 200 } },
    });

    say(engine, hello());
    await waitForMark(sent, "turn-1-0");
    // A 300 ms burst, loud enough to be voiced, while the reply is still playing.
    say(engine, whiteNoise(2400, 3000));
    await engine.idle();

    expect(sent.some((o) => o.kind === "clear")).toBe(false);
    expect(segments(sent).map((s) => s.mark)).toEqual(["turn-1-0", "turn-1-1"]);
    playAll(engine, sent);
    expect(turns.map((t) => t.turn)).toEqual([expect.objectContaining({ seq: 1, reply: reply.join(" ") })]);
    expect(turns[0]?.turn.interrupted).toBeUndefined();
    // The noise was not taken for a turn of its own.
    expect(await requests("/v1/audio/transcriptions")).toHaveLength(1);
  });

  it("interrupts the greeting too, then answers the caller", async () => {
    const greeting = pcm16ToMulaw(whiteNoise(8 * 1230, 1000));
    const { engine, sent, turns } = await setup({
      script: { transcripts: ["Are you open?"], replies: ["Yes, until five."] },
      greeting: async () => greeting,
    });
    await engine.greet();
    expect(segments(sent)).toEqual([{ mark: "greeting-1", frames: 62 }]);
    expectWholeFrames(sent);
    expect(engine.speaking).toBe(true);

    say(engine, hello());
    await engine.idle();

    expect(sent[63]).toEqual({ kind: "clear" });
    expectSpoken(segments(sent.slice(64))[0], "turn-1-0", "Yes, until five.");
    playAll(engine, sent);
    expect(turns.map((t) => t.turn.reply)).toEqual(["Yes, until five."]);
  });
});

describe("PipelineEngine greeting", () => {
  /** A greeting not cached yet: ready when the test says (its synthesis can take seconds). */
  function slowGreeting() {
    const audio = pcm16ToMulaw(whiteNoise(8 * 1000, 1000));
    let ready: (audio: Uint8Array) => void = () => {};
    const greeting = new Promise<Uint8Array>((resolve) => {
      ready = resolve;
    });
    return { greeting: () => greeting, ready: () => ready(audio) };
  }

  /** The fixture's first 1.7 s (its speech runs from 0.5 s to 1.9 s): the caller is still speaking. */
  function startSpeaking(engine: PipelineEngine): void {
    hear(engine, hello().subarray(0, 8 * 1700));
  }

  /** Silence long enough to end the utterance. */
  function stopSpeaking(engine: PipelineEngine): void {
    hear(engine, silence(600));
  }

  /** A call whose greeting is ready only once the caller has started speaking (and still is). */
  async function greetingReadyMidSpeech(script: OpenAIScript) {
    const slow = slowGreeting();
    const call = await setup({ script, greeting: slow.greeting });
    const greeted = call.engine.greet();
    startSpeaking(call.engine);
    slow.ready();
    await greeted;
    return call;
  }

  /** The engine's log lines named `event`, while `run` runs. */
  async function logged(event: string, run: () => Promise<void>): Promise<Array<Record<string, unknown>>> {
    const lines: string[] = [];
    const spy = vi.spyOn(console, "log").mockImplementation((line: unknown) => lines.push(String(line)));
    try {
      await run();
    } finally {
      spy.mockRestore();
    }
    return lines.map((line) => JSON.parse(line)).filter((line) => line.event === event);
  }

  it("drops a greeting that is ready only after the caller's first turn began", async () => {
    const slow = slowGreeting();
    const { engine, sent, chats } = await setup({
      script: {
        transcripts: ["Hello? Are you open?", "Until when?"],
        replies: ["Yes, we are.", "Until five."],
      },
      greeting: slow.greeting,
    });
    const greeted = engine.greet();
    say(engine, hello());
    await waitForMark(sent, "turn-1-0");
    const skipped = await logged("pipeline_greeting_skipped", async () => {
      slow.ready();
      await greeted;
    });
    playAll(engine, sent);
    say(engine, hello());
    await engine.idle();

    // The first reply opened the call; the greeting was not played after it, nor mid-reply.
    expect(markNames(sent)).toEqual(["turn-1-0", "turn-2-0"]);
    expectWholeFrames(sent);
    expectSpoken(segments(sent)[0], "turn-1-0", "Yes, we are.");
    expect(skipped).toEqual([expect.objectContaining({ reason: "caller_spoke_first" })]);
    // Nor does the model believe it was said.
    expect(chats[1]?.messages.slice(1)).toEqual([
      { role: "user", content: "Hello? Are you open?" },
      { role: "assistant", content: "Yes, we are." },
      { role: "user", content: "Until when?" },
    ]);
  });

  it("holds the greeting while the caller speaks, and drops it when that speech becomes a turn", async () => {
    const { engine, sent, requests } = await greetingReadyMidSpeech({
      transcripts: ["Hi, is this the bakery?"],
      replies: ["It is."],
    });
    // Not played over the caller, who has not finished (nothing went to speech-to-text yet).
    expect(sent).toEqual([]);
    expect(await requests("/v1/audio/transcriptions")).toHaveLength(0);
    const skipped = await logged("pipeline_greeting_skipped", async () => {
      stopSpeaking(engine);
      await engine.idle();
    });

    expect(markNames(sent)).toEqual(["turn-1-0"]);
    expectSpoken(segments(sent)[0], "turn-1-0", "It is.");
    expect(skipped).toHaveLength(1);
  });

  it("plays a greeting held for speech that holds no words, and the model knows it was said", async () => {
    const { engine, sent, chats } = await greetingReadyMidSpeech({
      transcripts: ["", "Are you open?"],
      replies: ["Yes, until five."],
    });
    expect(sent).toEqual([]);
    stopSpeaking(engine);
    await engine.idle();

    expect(segments(sent)).toEqual([{ mark: "greeting-1", frames: 50 }]);
    playAll(engine, sent);
    say(engine, hello());
    await engine.idle();
    expect(markNames(sent)).toEqual(["greeting-1", "turn-1-0"]);
    expect(chats[0]?.messages.slice(1)).toEqual([
      { role: "assistant", content: "Welcome to Rosa's Bakery!" },
      { role: "user", content: "Are you open?" },
    ]);
  });

  it("holds the greeting while a transcript is pending, and plays it when that has no words", async () => {
    const slow = slowGreeting();
    const { engine, sent, requests } = await setup({
      script: { transcripts: ["..."], delayMs: { stt: 300 } },
      greeting: slow.greeting,
    });
    const greeted = engine.greet();
    say(engine, hello());
    await vi.waitFor(async () => expect(await requests("/v1/audio/transcriptions")).toHaveLength(1));
    slow.ready();
    await greeted;
    expect(sent).toEqual([]);
    await engine.idle();

    expect(segments(sent)).toEqual([{ mark: "greeting-1", frames: 50 }]);
  });

  it("drops the greeting when the caller's first words cannot be transcribed: the apology asks again", async () => {
    const { fake, engine, sent, turns } = await greetingReadyMidSpeech({});
    await fake.behave({ status: 500, pathIncludes: "/audio/transcriptions", times: 1 });
    stopSpeaking(engine);
    await engine.idle();

    expect(markNames(sent)).toEqual(["turn-1-apology"]);
    playAll(engine, sent);
    expect(turns.map((t) => t.turn)).toEqual([
      expect.objectContaining({ outcome: "failed", failed_stage: "stt" }),
    ]);
  });

  it("sends nothing when the call ends while the greeting is being made or held", async () => {
    const making = slowGreeting();
    const first = await setup({ script: {}, greeting: making.greeting });
    const greeted = first.engine.greet();
    first.engine.close();
    making.ready();
    await greeted;

    const second = await greetingReadyMidSpeech({});
    second.engine.close();
    stopSpeaking(second.engine);
    await second.engine.idle();

    expect([first.sent, second.sent]).toEqual([[], []]);
  });
});

describe("PipelineEngine with interrupts off", () => {
  it("finishes its reply, then answers what the caller said meanwhile", async () => {
    const first = ["We deliver within five miles.", "Delivery is free over twenty dollars."];
    const { engine, sent, turns, chats } = await setup({
      config: { enable_interrupts: false },
      script: {
        transcripts: ["Do you deliver?", "What about Elm Street?"],
        replies: [first.join(" "), "Elm Street is close enough."],
        delayMs: { tts: 200 },
      },
    });

    say(engine, hello());
    await waitForMark(sent, "turn-1-0");
    say(engine, hello());
    await engine.idle();

    expect(sent.some((o) => o.kind === "clear")).toBe(false);
    expectWholeFrames(sent);
    const spoken = segments(sent);
    expect(spoken.map((s) => s.mark)).toEqual(["turn-1-0", "turn-1-1", "turn-2-0"]);
    expectSpoken(spoken[1], "turn-1-1", first[1] as string);
    expectSpoken(spoken[2], "turn-2-0", "Elm Street is close enough.");
    // The second answer was written knowing the whole first reply.
    expect(chats[1]?.messages.slice(1)).toEqual([
      { role: "user", content: "Do you deliver?" },
      { role: "assistant", content: first.join(" ") },
      { role: "user", content: "What about Elm Street?" },
    ]);

    playAll(engine, sent);
    expect(turns.map((t) => [t.turn.transcript, t.turn.reply, t.turn.interrupted])).toEqual([
      ["Do you deliver?", first.join(" "), undefined],
      ["What about Elm Street?", "Elm Street is close enough.", undefined],
    ]);
  });
});

describe("PipelineEngine when a provider fails", () => {
  it("apologizes, records the failed turn, and answers the next utterance", async () => {
    const { fake, engine, sent, turns, chats } = await setup({
      script: { transcripts: ["Do you sell cakes?", "Do you sell cakes?"], replies: ["Yes, to order."] },
    });
    await fake.behave({ status: 500, pathIncludes: "/chat/completions", times: 1 });

    say(engine, hello());
    await engine.idle();

    expectWholeFrames(sent);
    expectSpoken(segments(sent)[0], "turn-1-apology", PHRASES.tryAgain);
    expect(turns.map((t) => t.turn)).toEqual([
      expect.objectContaining({
        seq: 1,
        outcome: "failed",
        failed_stage: "llm",
        transcript: "Do you sell cakes?",
        reply: null,
      }),
    ]);
    expect(turns[0]?.messages).toEqual([]);

    playAll(engine, sent);
    say(engine, hello());
    await engine.idle();
    playAll(engine, sent);

    expectSpoken(segments(sent)[1], "turn-2-0", "Yes, to order.");
    expect(turns[1]?.turn).toMatchObject({ seq: 2, outcome: "reply", reply: "Yes, to order." });
    expect(chats[1]?.messages.map((m) => m.role)).toEqual(["system", "user"]);
  });

  it("says nothing more when the apology cannot be synthesized either", async () => {
    const { fake, engine, sent, turns } = await setup({ script: { transcripts: ["Hello?"] } });
    await fake.behave({ status: 500, pathIncludes: "/audio/speech" });

    say(engine, hello());
    await engine.idle();

    expect(sent.filter((o) => o.kind === "media")).toHaveLength(0);
    expect(turns.map((t) => [t.turn.outcome, t.turn.failed_stage])).toEqual([["failed", "tts"]]);
  });
});

describe("PipelineEngine closing", () => {
  it("stops mid-reply when the call ends and records what was sent", async () => {
    const reply = ["We close at five today.", "Tomorrow we open at eight."];
    const { engine, sent, turns } = await setup({
      script: { transcripts: ["When do you close?"], replies: [reply.join(" ")], delayMs: { tts: 300 } },
    });

    say(engine, hello());
    await waitForMark(sent, "turn-1-0");
    engine.close();
    const closedAt = sent.length;
    await engine.idle();

    expect(sent).toHaveLength(closedAt);
    expect(markNames(sent)).toEqual(["turn-1-0"]);
    expect(turns.map((t) => t.turn)).toEqual([
      expect.objectContaining({ seq: 1, reply: reply[0], interrupted: true }),
    ]);
  });
});

describe("synthesizeMulaw", () => {
  it("renders text as 8 kHz μ-law of the speech's duration", async () => {
    const fake = fakeControl(testEnv.FAKE_OPENAI_URL);
    const { tts } = createOpenAIProviders({ apiKey: "sk-test", baseUrl: `${fake.url}/v1` });
    const text = "Welcome to Rosa's Bakery!";

    const mulaw = await synthesizeMulaw(tts, { text, model: "tts-1", voice: "alloy" });

    // 25 characters of the fake's 50 ms each: 1.25 s at 8000 bytes per second.
    expect(mulaw.length).toBe(10_000);
    const pcm = mulawToPcm16(mulaw.subarray(4000, 6000));
    const rms = Math.sqrt(pcm.reduce((sum, s) => sum + s * s, 0) / pcm.length);
    expect(rms).toBeGreaterThan(600);
    const [request] = (await fake.requests()).filter((r) => r.path === "/v1/audio/speech");
    expect(JSON.parse(request?.body ?? "")).toEqual({
      model: "tts-1",
      voice: "alloy",
      input: text,
      response_format: "pcm",
    });
  });
});
