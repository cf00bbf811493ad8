import { pcm16ToMulaw } from "../audio/mulaw.ts";
import { Pcm16Decoder } from "../audio/pcm16.ts";
import { Resampler } from "../audio/resample.ts";
import { LINE_RATE } from "../audio/telephony.ts";
import type { CallConfig } from "../config/defaults.ts";
import { type TextToSpeech, TTS_PCM_RATE } from "../providers/types.ts";
import { type AudioStore, greetingId } from "./audio-store.ts";

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
  const cached = await audio.get(id);
  if (cached) return { id, bytes: new Uint8Array(cached) };
  const request = { text: config.greeting, model: config.tts_model, voice: config.tts_voice, signal };
  const bytes =
    format === "mp3"
      ? await tts.synthesize({ ...request, format: "mp3" })
      : await synthesizeMulaw(tts, request);
  await audio.put(id, bytes, "greeting");
  return { id, bytes };
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
