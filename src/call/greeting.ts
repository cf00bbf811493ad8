import { pcm16ToMulaw } from "../audio/mulaw.ts";
import { Pcm16Decoder } from "../audio/pcm16.ts";
import { Resampler } from "../audio/resample.ts";
import { LINE_RATE } from "../audio/telephony.ts";
import type { CallConfig } from "../config/defaults.ts";
import { errorFields, type Logger } from "../log.ts";
import { type TextToSpeech, TTS_PCM_RATE } from "../providers/types.ts";
import { type AudioStore, greetingId } from "./audio-store.ts";
import { type Speech, saying } from "./reply.ts";

/**
 * Greeting audio ids this isolate has seen in the cache, with when they leave it (ms since the
 * epoch), less a margin: an incoming call whose greeting is known to be cached is answered with
 * no I/O at all. Per isolate on purpose, like the config resolver's memory layer.
 */
const cachedGreetings = new Map<string, number>();
/** Stop trusting a remembered greeting this long before it expires, so <Play> can still fetch it. */
const EXPIRY_MARGIN_MS = 15 * 60 * 1000;
const MAX_REMEMBERED = 1000;

function remember(id: string, expiresAt: number | null): void {
  if (expiresAt === null) return;
  if (cachedGreetings.size >= MAX_REMEMBERED) cachedGreetings.clear();
  cachedGreetings.set(id, expiresAt - EXPIRY_MARGIN_MS);
}

/**
 * A number's greeting as audio, synthesised once per (text, model, voice, format) and then
 * served from the cache, so repeated calls to a number never synthesise it again: mp3 for
 * turns mode's <Play>, 8 kHz μ-law for a Media Stream. Throws if it must synthesise and can't.
 */
export async function greetingAudio(
  audio: AudioStore,
  tts: TextToSpeech,
  config: CallConfig,
  format: "mp3" | "mulaw",
  signal: AbortSignal,
): Promise<{ id: string; bytes: Uint8Array }> {
  const id = await greetingId(config.greeting, config.tts_model, config.tts_voice, format);
  const cached = await audio.lookup(id);
  if (cached) {
    remember(id, cached.expiresAt);
    return { id, bytes: new Uint8Array(cached.bytes) };
  }
  const request = { text: config.greeting, model: config.tts_model, voice: config.tts_voice, signal };
  const bytes =
    format === "mp3"
      ? await tts.synthesize({ ...request, format: "mp3" })
      : await synthesizeMulaw(tts, request);
  remember(id, await audio.put(id, bytes, "greeting"));
  return { id, bytes };
}

/**
 * Turns mode's greeting as speech for <Play>: from this isolate's memory of the cache when it can
 * (no I/O), else from the cache or synthesised once within `timeoutMs` (ms). Falls back to
 * Twilio's voice (`<Say>`) when it cannot be synthesised, so the caller always hears it. Never
 * throws.
 */
export async function greetingSpeech(
  audio: AudioStore,
  tts: TextToSpeech,
  config: CallConfig,
  timeoutMs: number,
  log: Logger,
  now = Date.now(),
): Promise<Speech> {
  try {
    const id = await greetingId(config.greeting, config.tts_model, config.tts_voice, "mp3");
    if ((cachedGreetings.get(id) ?? 0) > now) return { text: config.greeting, audioId: id };
    await greetingAudio(audio, tts, config, "mp3", AbortSignal.timeout(timeoutMs));
    return { text: config.greeting, audioId: id };
  } catch (err) {
    log.warn("greeting_tts_fell_back_to_say", errorFields(err));
    return saying(config.greeting);
  }
}

/** Whole text → 8 kHz μ-law (for the greeting cache): synthesizeStream pcm → resample 24k→8k → μ-law. */
export async function synthesizeMulaw(
  tts: TextToSpeech,
  req: { text: string; model: string; voice: string; signal?: AbortSignal },
): Promise<Uint8Array> {
  const decoder = new Pcm16Decoder();
  const resampler = new Resampler(TTS_PCM_RATE, LINE_RATE);
  const parts: Int16Array[] = [];
  let total = 0;
  const keep = (samples: Int16Array) => {
    parts.push(samples);
    total += samples.length;
  };
  for await (const chunk of tts.synthesizeStream({ ...req, format: "pcm" })) {
    keep(resampler.push(decoder.push(chunk)));
  }
  keep(resampler.flush());
  const mulaw = new Uint8Array(total);
  let at = 0;
  for (const samples of parts) {
    pcm16ToMulaw(samples, mulaw.subarray(at, at + samples.length));
    at += samples.length;
  }
  return mulaw;
}
