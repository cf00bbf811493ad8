import type { CallConfig } from "../config/defaults.ts";
import type { TextToSpeech } from "../providers/types.ts";
import { type AudioStore, greetingId } from "./audio-store.ts";
import { synthesizeMulaw } from "./realtime.ts";

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
