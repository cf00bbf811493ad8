import { describe, expect, it } from "vitest";
import { errorFields } from "../../src/log.ts";
import { createOpenAIProviders } from "../../src/providers/openai.ts";
import { type ChatMessage, ProviderError } from "../../src/providers/types.ts";
import { fakeControl } from "../fakes/client.ts";
import { type OpenAIScript, openaiScript } from "../fakes/openai-client.ts";
import type { RecordedRequest } from "../fakes/types.ts";
import { testEnv } from "../support/env.ts";

const API_KEY = "sk-test-provider-0123456789abcdef";

/** A fresh namespace on the OpenAI fake, the providers pointed at it, and its script. */
async function setup(script: OpenAIScript = {}, timeoutMs?: number) {
  const fake = fakeControl(testEnv.FAKE_OPENAI_URL);
  await openaiScript(fake.url, script);
  const providers = createOpenAIProviders({
    apiKey: API_KEY,
    baseUrl: `${fake.url}/v1`,
    ...(timeoutMs === undefined ? {} : { timeoutMs }),
  });
  const sent = async (path: string): Promise<RecordedRequest[]> =>
    (await fake.requests()).filter((r) => r.path === path);
  return { fake, sent, ...providers };
}

async function failureOf(work: Promise<unknown>): Promise<ProviderError> {
  const err = await work.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(ProviderError);
  return err as ProviderError;
}

async function collect<T>(items: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const item of items) out.push(item);
  return out;
}

function bytesOf(base64: string): Uint8Array {
  return Uint8Array.from(atob(base64), (c) => c.charCodeAt(0));
}

function parseWav(bytes: Uint8Array) {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const text = (at: number) => String.fromCharCode(...bytes.subarray(at, at + 4));
  return {
    riff: text(0),
    wave: text(8),
    riffSize: view.getUint32(4, true),
    format: view.getUint16(20, true),
    channels: view.getUint16(22, true),
    sampleRate: view.getUint32(24, true),
    bitsPerSample: view.getUint16(34, true),
    dataTag: text(36),
    dataSize: view.getUint32(40, true),
  };
}

const conversation: ChatMessage[] = [
  { role: "system", content: "You are the front desk of Rosa's Bakery." },
  { role: "assistant", content: "Hello! How can I help you today?" },
  { role: "user", content: "Are you open on Sundays?" },
];

describe("OpenAI speech-to-text", () => {
  it("uploads the audio and model as multipart and returns the transcript", async () => {
    const { stt, sent } = await setup({ transcripts: ["Do you deliver to Elm Street?"] });
    const audio = Uint8Array.from({ length: 3200 }, (_, i) => (i * 7) % 256);

    const result = await stt.transcribe(
      { data: audio, contentType: "audio/wav", filename: "turn-1.wav" },
      { model: "whisper-1", prompt: "Rosa's Bakery" },
    );

    expect(result).toEqual({ text: "Do you deliver to Elm Street?" });
    const [request] = await sent("/v1/audio/transcriptions");
    expect(request?.headers.authorization).toBe(`Bearer ${API_KEY}`);
    const form = await new Response(bytesOf(request?.bodyBase64 ?? ""), {
      headers: { "content-type": request?.headers["content-type"] ?? "" },
    }).formData();
    expect(form.get("model")).toBe("whisper-1");
    expect(form.get("prompt")).toBe("Rosa's Bakery");
    const file = form.get("file") as File;
    expect(file.name).toBe("turn-1.wav");
    expect(file.type).toBe("audio/wav");
    expect(new Uint8Array(await file.arrayBuffer())).toEqual(audio);
  });

  it("gets the fake's default transcript when none is scripted", async () => {
    const { stt } = await setup();
    const result = await stt.transcribe(
      { data: new Uint8Array(64), contentType: "audio/wav", filename: "turn.wav" },
      { model: "whisper-1" },
    );
    expect(result.text).toBe("I would like to know your opening hours.");
  });
});

describe("OpenAI chat", () => {
  it("complete() sends model, messages in order, temperature and max_tokens and returns the reply", async () => {
    const { llm, sent } = await setup({ replies: ["Yes, from nine to three on Sundays."] });

    const result = await llm.complete({
      model: "gpt-4o-mini",
      messages: conversation,
      temperature: 0.3,
      maxTokens: 120,
    });

    expect(result).toEqual({ text: "Yes, from nine to three on Sundays." });
    const [request] = await sent("/v1/chat/completions");
    expect(JSON.parse(request?.body ?? "")).toMatchObject({
      model: "gpt-4o-mini",
      messages: conversation,
      temperature: 0.3,
      max_tokens: 120,
    });
  });

  it("without a scripted reply the fake echoes the caller's last message", async () => {
    const { llm } = await setup();
    const result = await llm.complete({
      model: "gpt-4o-mini",
      messages: conversation,
      temperature: 0,
      maxTokens: 50,
    });
    expect(result.text).toBe("You said: Are you open on Sundays. We are open nine to five.");
  });

  it("stream() yields several deltas that join to the reply", async () => {
    const reply = "We bake sourdough every morning, and rye on Fridays.";
    const { llm, sent } = await setup({ replies: [reply] });

    const deltas = await collect(
      llm.stream({ model: "gpt-4o-mini", messages: conversation, temperature: 0.7, maxTokens: 200 }),
    );

    expect(deltas.length).toBeGreaterThan(1);
    expect(deltas.join("")).toBe(reply);
    const [request] = await sent("/v1/chat/completions");
    expect(JSON.parse(request?.body ?? "")).toMatchObject({ stream: true, max_tokens: 200 });
  });
});

describe("OpenAI text-to-speech", () => {
  const text = "Thanks for calling Rosa's Bakery.";

  it("synthesize() sends model, voice, input and format and returns a 24 kHz mono 16-bit WAV", async () => {
    const { tts, sent } = await setup();

    const audio = await tts.synthesize({ text, model: "tts-1", voice: "nova", format: "wav" });

    const wav = parseWav(audio);
    expect(wav).toMatchObject({
      riff: "RIFF",
      wave: "WAVE",
      riffSize: audio.byteLength - 8,
      format: 1,
      channels: 1,
      sampleRate: 24_000,
      bitsPerSample: 16,
      dataTag: "data",
      dataSize: audio.byteLength - 44,
    });
    expect(wav.dataSize).toBeGreaterThan(0);
    const [request] = await sent("/v1/audio/speech");
    expect(JSON.parse(request?.body ?? "")).toEqual({
      model: "tts-1",
      voice: "nova",
      input: text,
      response_format: "wav",
    });
  });

  it("longer text gives longer audio", async () => {
    const { tts } = await setup();
    const short = await tts.synthesize({ text: "Hi.", model: "tts-1", voice: "alloy", format: "wav" });
    const long = await tts.synthesize({ text, model: "tts-1", voice: "alloy", format: "wav" });
    expect(parseWav(long).dataSize).toBeGreaterThan(parseWav(short).dataSize);
  });

  it("synthesizeStream() yields whole-sample PCM chunks adding up to the same audio as the WAV", async () => {
    const { tts, sent } = await setup();
    const wav = await tts.synthesize({ text, model: "tts-1", voice: "alloy", format: "wav" });

    const chunks = await collect(
      tts.synthesizeStream({ text, model: "tts-1", voice: "alloy", format: "pcm" }),
    );

    expect(chunks.length).toBeGreaterThan(1);
    for (const chunk of chunks) expect(chunk.byteLength % 2).toBe(0);
    const pcm = new Uint8Array(chunks.reduce((n, c) => n + c.byteLength, 0));
    let at = 0;
    for (const chunk of chunks) {
      pcm.set(chunk, at);
      at += chunk.byteLength;
    }
    expect(pcm).toEqual(wav.subarray(44));
    const requests = await sent("/v1/audio/speech");
    expect(JSON.parse(requests[1]?.body ?? "")).toMatchObject({ response_format: "pcm" });
  });
});

describe("OpenAI provider failures", () => {
  const chat = { model: "gpt-4o-mini", messages: conversation, temperature: 0.7, maxTokens: 100 };

  it("an HTTP 500 becomes a ProviderError of kind http with the status, and is not retried", async () => {
    const { llm, fake, sent } = await setup();
    await fake.behave({ status: 500, pathIncludes: "/v1/chat/completions", times: 1 });

    const err = await failureOf(llm.complete(chat));

    expect(err).toMatchObject({ provider: "openai", operation: "complete", kind: "http", status: 500 });
    expect(err.message).toContain("500");
    expect(await sent("/v1/chat/completions")).toHaveLength(1);
  });

  it("a 429 with a short retry-after-ms is retried once, after that wait, and its answer used", async () => {
    const { llm, fake, sent } = await setup({ replies: ["We open at nine."] });
    await fake.behave({
      status: 429,
      pathIncludes: "/v1/chat/completions",
      headers: { "retry-after-ms": "300" },
      times: 1,
    });
    expect((await llm.complete(chat)).text).toBe("We open at nine.");
    const [first, second] = await sent("/v1/chat/completions");
    expect(second).toBeDefined();
    expect((second?.at ?? 0) - (first?.at ?? 0)).toBeGreaterThanOrEqual(290);
  });

  it("a 503 with retry-after: 1 is retried for streams and streamed speech too", async () => {
    const { llm, tts, fake, sent } = await setup({ replies: ["Yes, we deliver."] });
    await fake.behave({
      status: 503,
      pathIncludes: "/v1/chat/completions",
      headers: { "retry-after": "1" },
      times: 1,
    });
    expect((await collect(llm.stream(chat))).join("")).toBe("Yes, we deliver.");
    expect(await sent("/v1/chat/completions")).toHaveLength(2);

    await fake.behave({
      status: 503,
      pathIncludes: "/v1/audio/speech",
      headers: { "retry-after": "1" },
      times: 1,
    });
    const speech = { text: "Hello.", model: "tts-1", voice: "alloy", format: "pcm" } as const;
    expect((await collect(tts.synthesizeStream(speech))).length).toBeGreaterThan(0);
    expect(await sent("/v1/audio/speech")).toHaveLength(2);
  });

  it("a retry-after longer than a caller would wait is not honoured: the failure is at once", async () => {
    const { llm, fake, sent } = await setup();
    await fake.behave({
      status: 429,
      pathIncludes: "/v1/chat/completions",
      headers: { "retry-after": "20" },
    });
    expect(await failureOf(llm.complete(chat))).toMatchObject({ kind: "http", status: 429 });
    expect(await sent("/v1/chat/completions")).toHaveLength(1);
  });

  it("a hang-up during the retry-after wait cancels the retry", async () => {
    const { llm, fake, sent } = await setup();
    await fake.behave({
      status: 429,
      pathIncludes: "/v1/chat/completions",
      headers: { "retry-after-ms": "1000" },
    });
    const hangUp = new AbortController();
    setTimeout(() => hangUp.abort(), 100);
    expect(await failureOf(llm.complete({ ...chat, signal: hangUp.signal }))).toMatchObject({
      kind: "aborted",
    });
    await new Promise((resolve) => setTimeout(resolve, 1200));
    expect(await sent("/v1/chat/completions")).toHaveLength(1);
  });

  it("a 2xx answer without a message is a bad_response", async () => {
    const { llm, fake } = await setup();
    await fake.behave({ status: 200, body: "{}", pathIncludes: "/v1/chat/completions" });
    expect(await failureOf(llm.complete(chat))).toMatchObject({ kind: "bad_response" });
  });

  it("a stream cut off before the model finished is a bad_response, not a short reply", async () => {
    const { llm, fake } = await setup();
    const partial = { choices: [{ index: 0, delta: { content: "We are open" }, finish_reason: null }] };
    await fake.behave({
      status: 200,
      body: `data: ${JSON.stringify(partial)}\n\n`,
      pathIncludes: "/v1/chat",
    });
    const deltas: string[] = [];
    const consume = async () => {
      for await (const delta of llm.stream(chat)) deltas.push(delta);
    };
    expect(await failureOf(consume())).toMatchObject({ kind: "bad_response", operation: "stream" });
    expect(deltas).toEqual(["We are open"]);
  });

  it("time the consumer spends holding a chunk does not count against the stream's timeout", async () => {
    const reply = "Certainly, one moment.";
    const { llm } = await setup({ replies: [reply] }, 250);
    const deltas: string[] = [];
    for await (const delta of llm.stream(chat)) {
      deltas.push(delta);
      await new Promise((resolve) => setTimeout(resolve, 500)); // speaking the sentence so far
    }
    expect(deltas.join("")).toBe(reply);
  });

  it("with no API key, every operation fails as a 401 ProviderError and nothing is thrown at creation", async () => {
    const { stt, llm, tts } = createOpenAIProviders({ apiKey: "", baseUrl: "http://127.0.0.1:1/v1" });
    const audio = { data: new Uint8Array(64), contentType: "audio/wav", filename: "turn.wav" };
    const speech = { text: "Hello.", model: "tts-1", voice: "alloy" } as const;
    const failures = [
      await failureOf(stt.transcribe(audio, { model: "whisper-1" })),
      await failureOf(llm.complete(chat)),
      await failureOf(collect(llm.stream(chat))),
      await failureOf(tts.synthesize({ ...speech, format: "wav" })),
      await failureOf(collect(tts.synthesizeStream({ ...speech, format: "pcm" }))),
    ];
    for (const err of failures) {
      expect(err).toMatchObject({ kind: "http", status: 401 });
      expect(err.message).toContain("OPENAI_API_KEY is not set");
    }
  });

  it("an unreachable provider is a network error", async () => {
    const { llm } = createOpenAIProviders({ apiKey: API_KEY, baseUrl: "http://127.0.0.1:1/v1" });
    expect(await failureOf(llm.complete(chat))).toMatchObject({ kind: "network", operation: "complete" });
  });

  it("a provider slower than the timeout is a timeout, for whole answers and for streams", async () => {
    const { llm, stt, tts } = await setup({ delayMs: { llmFirstToken: 3000, stt: 3000, tts: 3000 } }, 200);
    const audio = { data: new Uint8Array(64), contentType: "audio/wav", filename: "turn.wav" };

    expect(await failureOf(llm.complete(chat))).toMatchObject({ kind: "timeout", operation: "complete" });
    expect(await failureOf(collect(llm.stream(chat)))).toMatchObject({
      kind: "timeout",
      operation: "stream",
    });
    expect(await failureOf(stt.transcribe(audio, { model: "whisper-1" }))).toMatchObject({ kind: "timeout" });
    // pcm answers its headers at once and stalls before the audio: the body wait is timed too.
    const speech = { text: "Hello.", model: "tts-1", voice: "alloy", format: "pcm" } as const;
    expect(await failureOf(collect(tts.synthesizeStream(speech)))).toMatchObject({
      kind: "timeout",
      operation: "synthesizeStream",
    });
  });

  it("the caller's signal cancels: aborted on hang-up, timeout on the caller's deadline", async () => {
    const { llm, tts } = await setup({ delayMs: { llmFirstToken: 3000, tts: 3000 } });
    const hangUp = new AbortController();
    const pending = llm.complete({ ...chat, signal: hangUp.signal });
    setTimeout(() => hangUp.abort(), 50);
    expect(await failureOf(pending)).toMatchObject({ kind: "aborted" });

    const speech = { text: "Hello.", model: "tts-1", voice: "alloy", format: "wav" } as const;
    const budget = AbortSignal.timeout(100);
    expect(await failureOf(tts.synthesize({ ...speech, signal: budget }))).toMatchObject({ kind: "timeout" });
  });

  it("sends the key as a bearer token and keeps it out of errors even when the server echoes it", async () => {
    const { llm, fake, sent } = await setup();
    await fake.behave({
      status: 401,
      pathIncludes: "/v1/chat/completions",
      body: JSON.stringify({
        error: { message: `Incorrect API key provided: ${API_KEY}.`, type: "invalid_request_error" },
      }),
    });

    const err = await failureOf(llm.complete(chat));

    expect(err).toMatchObject({ kind: "http", status: 401 });
    expect(err.message).toContain("Incorrect API key provided");
    expect(JSON.stringify(errorFields(err))).not.toContain(API_KEY);
    const [request] = await sent("/v1/chat/completions");
    expect(request?.headers.authorization).toBe(`Bearer ${API_KEY}`);
  });

  it("the fake refuses requests without a bearer key, as OpenAI does", async () => {
    const { fake } = await setup();
    const res = await fetch(`${fake.url}/v1/chat/completions`, { method: "POST", body: "{}" });
    expect(res.status).toBe(401);
    expect(await res.json()).toMatchObject({ error: { code: "invalid_api_key" } });
  });
});

describe("OpenAI chat: parameters per model family", () => {
  const ask = { messages: conversation, temperature: 0.7, maxTokens: 300 };

  it.each(["o3-mini", "gpt-5-mini"])(
    "%s gets max_completion_tokens and no temperature, so the turn is answered",
    async (model) => {
      const { llm, sent } = await setup({ replies: ["Yes, on Sundays too.", "Yes, on Sundays too."] });
      expect(await llm.complete({ model, ...ask })).toEqual({ text: "Yes, on Sundays too." });
      expect(await collect(llm.stream({ model, ...ask }))).not.toHaveLength(0);
      for (const request of await sent("/v1/chat/completions")) {
        const body = JSON.parse(request.body);
        expect(body).toMatchObject({ model, max_completion_tokens: 300 });
        expect(body).not.toHaveProperty("max_tokens");
        expect(body).not.toHaveProperty("temperature");
      }
    },
  );

  it("OPENAI_TOKEN_PARAM=max_completion_tokens sends that name to a compatible endpoint too", async () => {
    const fake = fakeControl(testEnv.FAKE_OPENAI_URL);
    const { llm } = createOpenAIProviders({
      apiKey: API_KEY,
      baseUrl: `${fake.url}/v1`,
      tokenParam: "max_completion_tokens",
    });
    await llm.complete({ model: "gpt-4o-mini", ...ask });
    const [request] = (await fake.requests()).filter((r) => r.path === "/v1/chat/completions");
    expect(JSON.parse(request?.body ?? "")).toMatchObject({ temperature: 0.7, max_completion_tokens: 300 });
  });

  it("the fake refuses what OpenAI refuses for reasoning models, with OpenAI's error body", async () => {
    const fake = fakeControl(testEnv.FAKE_OPENAI_URL);
    const post = async (body: object) => {
      const res = await fetch(`${fake.url}/v1/chat/completions`, {
        method: "POST",
        headers: { authorization: `Bearer ${API_KEY}`, "content-type": "application/json" },
        body: JSON.stringify({ model: "o3-mini", messages: conversation, ...body }),
      });
      return { status: res.status, body: await res.json() };
    };
    expect(await post({ max_tokens: 100 })).toEqual({
      status: 400,
      body: {
        error: {
          message:
            "Unsupported parameter: 'max_tokens' is not supported with this model. Use 'max_completion_tokens' instead.",
          type: "invalid_request_error",
          param: "max_tokens",
          code: "unsupported_parameter",
        },
      },
    });
    expect(await post({ temperature: 0.7 })).toEqual({
      status: 400,
      body: {
        error: {
          message:
            "Unsupported value: 'temperature' does not support 0.7 with this model. Only the default (1) value is supported.",
          type: "invalid_request_error",
          param: "temperature",
          code: "unsupported_value",
        },
      },
    });
    expect((await post({ temperature: 1, max_completion_tokens: 100 })).status).toBe(200);
  });
});
