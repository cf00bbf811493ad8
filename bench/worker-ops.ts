import { encodeBase64 } from "../src/base64.ts";
import { AudioStore, greetingId } from "../src/call/audio-store.ts";
import type { CallReply } from "../src/call/reply.ts";
import { signingSecret } from "../src/call/tokens.ts";
import { freshKey, MemoryCache } from "../src/config/cache-policy.ts";
import { defaultCallConfig } from "../src/config/defaults.ts";
import type { E164 } from "../src/config/phone-number.ts";
import { ConfigResolver, type ConfigSource } from "../src/config/resolver.ts";
import { CreateConfigBody } from "../src/config/schema.ts";
import type { OutboundAudio } from "../src/conversation/engine.ts";
import { PipelineEngine } from "../src/conversation/pipeline.ts";
import { RealtimeEngine } from "../src/conversation/realtime.ts";
import { type Settings, settingsOf } from "../src/env.ts";
import app from "../src/index.ts";
import { log } from "../src/log.ts";
import type { RealtimeHandlers } from "../src/providers/openai-realtime.ts";
import type { ChatModel, SpeechToText, TextToSpeech } from "../src/providers/types.ts";
import { createStore } from "../src/stores/index.ts";
import type { ConfigStore } from "../src/stores/store.ts";
import { replyTwiml } from "../src/twilio/call-twiml.ts";
import { clearMessage, markMessage, mediaMessage, parseStreamMessage } from "../src/twilio/media-stream.ts";
import { computeSignature, verifySignature } from "../src/twilio/signature.ts";
import hello from "../test/fixtures/audio/hello.wav.bin";
import {
  CONFIG_PHONE,
  REALTIME_PHONE,
  STORE_MISS_BASE,
  STORE_MISS_NUMBERS,
  STREAM_PHONE,
  storeMissPhone,
  TURNS_PHONE,
} from "./numbers.ts";
import { inboundMedia, mulawFrames, SILENT_FRAME } from "./stream-frames.ts";

/**
 * Operations the bench times from Node. workerd freezes the clock while code runs, so an
 * operation cannot time itself: each request sets up, runs the operation `n` times and answers;
 * Node times requests with n = 0 and n = N and divides the difference by N (bench/in-worker.ts).
 * Setup is the same whatever n is, so it cancels out.
 */

export interface OpInput {
  env: Env;
  ctx: ExecutionContext;
  n: number;
  query: URLSearchParams;
  /** a preparation's JSON body, if any */
  body: unknown;
}

type Operation = (input: OpInput) => Promise<void>;

type StoreName = keyof typeof STORE_MISS_BASE;

function storeNamed(env: Env, name: StoreName): { store: ConfigStore; settings: Settings } {
  const settings = settingsOf(env);
  // The store CONFIG_STORE=<name> would build, whatever this Worker's own CONFIG_STORE is.
  return { store: createStore(env, { ...settings, CONFIG_STORE: name }), settings };
}

function storeParam(query: URLSearchParams): StoreName {
  const name = query.get("store") ?? "embedded";
  if (name !== "embedded" && name !== "mongodb") throw new Error(`unknown store "${name}"`);
  return name;
}

/**
 * Cache fills the resolver left running after a store-miss batch (as production does, via
 * waitUntil). The next batch forgets KV entries only once they have landed, or a late write
 * would turn its misses into hits.
 */
const pendingFills = new Set<Promise<unknown>>();

function trackFill(promise: Promise<unknown>): void {
  pendingFills.add(promise);
  void promise.finally(() => pendingFills.delete(promise));
}

function resolverFor(input: OpInput, store: ConfigStore, settings: Settings, memory: MemoryCache) {
  return new ConfigResolver({
    store,
    kv: input.env.CONFIG_CACHE,
    settings,
    memory,
    waitUntil: (p) => {
      trackFill(p);
      input.ctx.waitUntil(p);
    },
  });
}

function expectSource(actual: ConfigSource, expected: ConfigSource, phone: string): void {
  if (actual !== expected) {
    throw new Error(`resolve(${phone}) came from "${actual}", the bench expected "${expected}"`);
  }
}

const resolveMemoryHit: Operation = async (input) => {
  const { store, settings } = storeNamed(input.env, "embedded");
  const resolver = resolverFor(input, store, settings, new MemoryCache());
  const phone = CONFIG_PHONE as E164;
  await resolver.resolve(phone);
  for (let i = 0; i < input.n; i++) expectSource((await resolver.resolve(phone)).source, "memory", phone);
};

const resolveKvHit: Operation = async (input) => {
  const { store, settings } = storeNamed(input.env, "embedded");
  const phone = CONFIG_PHONE as E164;
  for (let i = 0; i < input.n; i++) {
    const resolver = resolverFor(input, store, settings, new MemoryCache());
    expectSource((await resolver.resolve(phone)).source, "kv", phone);
  }
};

const resolveStoreMiss: Operation = async (input) => {
  const name = storeParam(input.query);
  const { store, settings } = storeNamed(input.env, name);
  if (input.n > STORE_MISS_NUMBERS)
    throw new Error(`n may be at most ${STORE_MISS_NUMBERS} for a store miss`);
  for (let i = 0; i < input.n; i++) {
    const phone = storeMissPhone(STORE_MISS_BASE[name], i) as E164;
    const resolver = resolverFor(input, store, settings, new MemoryCache());
    expectSource((await resolver.resolve(phone)).source, "store", phone);
  }
};

const TWILIO_URL = "https://voice.example.test/webhooks/twilio/voice";

/** A realistic incoming-call form: the parameters Twilio sends with every voice webhook. */
function incomingCallForm(): Record<string, string> {
  return {
    AccountSid: "AC00000000000000000000000000000000",
    ApiToken: "",
    ApiVersion: "2010-04-01",
    CallSid: "CA0123456789abcdef0123456789abcdef",
    CallStatus: "ringing",
    Called: TURNS_PHONE,
    CalledCity: "NEW YORK",
    CalledCountry: "US",
    CalledState: "NY",
    CalledZip: "10001",
    Caller: "+14155550100",
    CallerCity: "SAN FRANCISCO",
    CallerCountry: "US",
    CallerState: "CA",
    CallerZip: "94103",
    Direction: "inbound",
    From: "+14155550100",
    FromCity: "SAN FRANCISCO",
    FromCountry: "US",
    FromState: "CA",
    FromZip: "94103",
    To: TURNS_PHONE,
    ToCity: "NEW YORK",
    ToCountry: "US",
    ToState: "NY",
    ToZip: "10001",
  };
}

const verifyTwilioSignature: Operation = async (input) => {
  const token = settingsOf(input.env).TWILIO_AUTH_TOKEN ?? "bench-token";
  const form = incomingCallForm();
  const signature = await computeSignature(token, TWILIO_URL, form);
  for (let i = 0; i < input.n; i++) {
    if (!(await verifySignature(token, signature, TWILIO_URL, form))) {
      throw new Error("verifySignature rejected the bench's own signature");
    }
  }
};

/**
 * The whole incoming-call answer inside the Worker: the app's fetch handler on a signed voice
 * webhook for TURNS_PHONE (config and greeting cached), its TwiML read to the end. HTTP and
 * wrangler's proxy around it are not in it.
 */
const answerCall: Operation = async (input) => {
  const settings = settingsOf(input.env);
  const url = `${settings.PUBLIC_BASE_URL ?? "https://voice.example.test"}/webhooks/twilio/voice`;
  const form = incomingCallForm();
  const init = {
    method: "POST",
    headers: {
      "Content-Type": "application/x-www-form-urlencoded",
      "X-Twilio-Signature": await computeSignature(settings.TWILIO_AUTH_TOKEN ?? "bench-token", url, form),
    },
    body: new URLSearchParams(form).toString(),
  };
  for (let i = 0; i < input.n; i++) {
    const twiml = await (await app.fetch(new Request(url, init), input.env, input.ctx)).text();
    if (!twiml.includes("<Play>")) throw new Error(`the answer has no <Play>: ${twiml.slice(0, 200)}`);
  }
};

/** A request no route takes, through the same app: its middleware, routing and error answer. */
const appNotFound: Operation = async (input) => {
  for (let i = 0; i < input.n; i++) {
    const response = await app.fetch(new Request("https://voice.example.test/nowhere"), input.env, input.ctx);
    if (response.status !== 404) throw new Error(`the app answered ${response.status} for no route`);
    await response.text();
  }
};

const buildReplyTwiml: Operation = async (input) => {
  const settings = settingsOf(input.env);
  const base = "https://voice.example.test";
  const audio = new AudioStore(input.env.AUDIO_CACHE, signingSecret(settings), base);
  const greeting = "Welcome to our sales team! How can I help you today?";
  const reply: CallReply = {
    speech: [{ text: greeting, audioId: await greetingId(greeting, "tts-1", "nova") }],
    next: "listen",
    turns: 0,
  };
  const options = {
    recordAction: `${base}/webhooks/twilio/recording`,
    silenceAction: `${base}/webhooks/twilio/recording?no_speech=0`,
    dialAction: `${base}/webhooks/twilio/dial`,
    audioUrl: (id: string) => audio.signedUrl(id),
  };
  for (let i = 0; i < input.n; i++) await replyTwiml(reply, options);
};

/** Providers for the per-frame operation: every utterance transcribes as silence, so no reply is produced. */
const silentStt: SpeechToText = { transcribe: async () => ({ text: "" }) };
const unused = (what: string) => () => {
  throw new Error(`${what} is not used by the per-frame bench (every utterance is silent)`);
};
const noLlm: ChatModel = {
  complete: unused("complete"),
  stream: unused("stream"),
  streamEvents: unused("streamEvents"),
};
const noTts: TextToSpeech = {
  synthesize: unused("synthesize"),
  synthesizeStream: unused("synthesizeStream"),
};

/** The speech fixture then a second of silence, as Twilio's JSON frames, looped by the operation. */
const FRAME_MESSAGES = (() => {
  const frames = [...mulawFrames(hello), ...Array.from({ length: 50 }, () => SILENT_FRAME)];
  return frames.map((frame, i) => inboundMedia("MZbench", i + 1, frame));
})();

/** What the CallSession does with each inbound frame: parse Twilio's JSON, push the audio to the engine. */
const streamFrames: Operation = async (input) => {
  const config = {
    ...defaultCallConfig(settingsOf(input.env), STREAM_PHONE as E164),
    conversation_mode: "stream" as const,
  };
  const engine = new PipelineEngine(
    {
      stt: silentStt,
      llm: noLlm,
      tts: noTts,
      send: unused("send"),
      onTurn: () => {},
      now: Date.now,
      log: log.with({ bench: "stream-frames" }),
    },
    { config, history: [], nextSeq: 1 },
  );
  for (let i = 0; i < input.n; i++) {
    const event = parseStreamMessage(FRAME_MESSAGES[i % FRAME_MESSAGES.length] as string);
    if (event.kind !== "media") throw new Error(`bench frame parsed as ${event.kind}`);
    engine.pushAudio(event.payload);
  }
  engine.close();
  await engine.idle();
};

/** One 20 ms delta of the model's μ-law, as the Realtime API sends it (text frame). */
const DELTA_MESSAGE = JSON.stringify({
  type: "response.output_audio.delta",
  event_id: "event_bench",
  response_id: "resp_bench",
  item_id: "item_bench",
  output_index: 0,
  content_index: 0,
  delta: encodeBase64(SILENT_FRAME),
});

/**
 * What a realtime call does per 20 ms of audio each way: Twilio's JSON frame in → parse (the
 * payload's base64 checked, not decoded) → `input_audio_buffer.append` out with the same text;
 * the model's delta text frame in → JSON parse → a Twilio media message with the same base64
 * and a mark out. The socket is a stub: the runtime's WebSocket dispatch is not counted.
 */
const realtimeFrames: Operation = async (input) => {
  const config = {
    ...defaultCallConfig(settingsOf(input.env), REALTIME_PHONE as E164),
    conversation_mode: "realtime" as const,
    inference_model: "gpt-realtime",
  };
  let handlers: RealtimeHandlers | undefined;
  let bytesOut = 0;
  const toTwilio = (out: OutboundAudio) =>
    out.kind === "media"
      ? mediaMessage("MZbench", out.mulaw)
      : out.kind === "mark"
        ? markMessage("MZbench", out.name)
        : clearMessage("MZbench");
  const engine = new RealtimeEngine(
    {
      send: (out) => {
        bytesOut += toTwilio(out).length;
      },
      onTurn: () => {},
      connect: async (h) => {
        handlers = h;
        return {
          send: (event) => {
            bytesOut += JSON.stringify(event).length;
          },
          appendAudio: (audio) => {
            bytesOut += `{"type":"input_audio_buffer.append","audio":"${audio}"}`.length;
          },
          close: () => {},
        };
      },
      onFailure: (reason) => {
        throw new Error(`the realtime engine failed in the bench: ${reason}`);
      },
      now: Date.now,
      log: log.with({ bench: "realtime-frames" }),
    },
    { config, history: [], nextSeq: 1 },
  );
  await engine.idle();
  const events = handlers;
  if (!events) throw new Error("the realtime engine did not connect");
  events.event({ type: "response.created", event_id: "e1", response: { id: "resp_bench" } });
  events.event({
    type: "response.output_item.added",
    event_id: "e2",
    response_id: "resp_bench",
    output_index: 0,
    item: { id: "item_bench", type: "message", role: "assistant", content: [] },
  });
  for (let i = 0; i < input.n; i++) {
    const event = parseStreamMessage(FRAME_MESSAGES[i % FRAME_MESSAGES.length] as string);
    if (event.kind !== "media") throw new Error(`bench frame parsed as ${event.kind}`);
    engine.pushAudio(event.payload);
    events.event(JSON.parse(DELTA_MESSAGE));
    // Twilio plays it: the marks come back (one a second, as a phone call's would be batched).
    if ((i + 1) % 50 === 0) engine.markPlayed(`rt-${i + 1}`);
  }
  engine.close();
  if (bytesOut === 0) throw new Error("the realtime engine sent nothing");
};

export const OPERATIONS: Record<string, Operation> = {
  "resolve-memory": resolveMemoryHit,
  "resolve-kv": resolveKvHit,
  "resolve-store": resolveStoreMiss,
  "verify-signature": verifyTwilioSignature,
  "reply-twiml": buildReplyTwiml,
  "answer-call": answerCall,
  "app-not-found": appNotFound,
  "stream-frames": streamFrames,
  "realtime-frames": realtimeFrames,
};

/**
 * Untimed preparation before a batch: the cache state an operation expects. Each returns a
 * short description for the bench's log.
 */
export const PREPARATIONS: Record<string, (input: OpInput) => Promise<string>> = {
  /** A fresh KV entry for CONFIG_PHONE, as an admin write leaves it. */
  "kv-fresh": async ({ env }) => {
    const { store, settings } = storeNamed(env, "embedded");
    const phone = CONFIG_PHONE as E164;
    const doc = await store.get(phone);
    if (!doc) throw new Error(`${phone} is not in the embedded store: seed it first`);
    await new ConfigResolver({ store, kv: env.CONFIG_CACHE, settings, memory: new MemoryCache() }).publish(
      phone,
      doc,
    );
    return `published ${phone} to KV`;
  },
  /** No fresh KV entry for the first `count` store-miss numbers of a store. */
  "kv-forget": async ({ env, query }) => {
    const name = storeParam(query);
    const count = Number(query.get("count") ?? STORE_MISS_NUMBERS);
    await Promise.all(pendingFills);
    const keys = Array.from({ length: count }, (_, i) => freshKey(storeMissPhone(STORE_MISS_BASE[name], i)));
    await Promise.all(keys.map((key) => env.CONFIG_CACHE.delete(key)));
    return `deleted ${keys.length} KV entries`;
  },
  /** The store-miss numbers written to a store (the admin API writes only to this Worker's own store). */
  "store-seed": async ({ env, query, body }) => {
    const name = storeParam(query);
    const { store } = storeNamed(env, name);
    const now = new Date();
    // The admin API's create rules (defaults included); the number itself is set per document.
    const { phone_number: _phone, ...settings } = CreateConfigBody.parse({
      ...(body as object),
      phone_number: CONFIG_PHONE,
    });
    for (let i = 0; i < STORE_MISS_NUMBERS; i++) {
      await store.put(storeMissPhone(STORE_MISS_BASE[name], i) as E164, settings, { now });
    }
    return `seeded ${STORE_MISS_NUMBERS} numbers into ${name}`;
  },
  "store-clean": async ({ env, query }) => {
    const name = storeParam(query);
    const { store } = storeNamed(env, name);
    for (let i = 0; i < STORE_MISS_NUMBERS; i++)
      await store.remove(storeMissPhone(STORE_MISS_BASE[name], i) as E164);
    return `removed ${STORE_MISS_NUMBERS} numbers from ${name}`;
  },
};
