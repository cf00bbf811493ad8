import { encodeBase64, isBase64 } from "../base64.ts";

/**
 * μ-law audio as conversation engines receive and send it: bytes, or the same bytes as base64
 * text when that is how the source carried them. Twilio's Media Stream `media.payload` and the
 * Realtime API's `input_audio_buffer.append` / `response.output_audio.delta` all carry 8 kHz
 * μ-law as base64, so the realtime engine relays that text as it is, with no decoding and no
 * re-encoding (issue 12: "μ-law bytes untouched"); an engine that needs the samples (the
 * pipeline's voice activity detector) asks for the bytes.
 */

/** 8 kHz mono μ-law as standard, padded base64 text (RFC 4648 §4). */
export type Base64Mulaw = string & { readonly __encoding: "base64 μ-law" };

/** μ-law bytes, or the same as base64 text. */
export type MulawAudio = Uint8Array | Base64Mulaw;

/**
 * `text` as base64 μ-law, padded if it came without padding; null when it is not standard
 * base64. Checks the alphabet only: any bytes are valid μ-law.
 */
export function asBase64Mulaw(text: string): Base64Mulaw | null {
  if (!isBase64(text)) return null;
  const missing = (4 - (text.length % 4)) % 4;
  return (missing === 0 ? text : text + "=".repeat(missing)) as Base64Mulaw;
}

/** The audio's μ-law bytes (decoded when it is base64 text). */
export function mulawBytes(audio: MulawAudio): Uint8Array {
  // A Base64Mulaw was checked when it was made (asBase64Mulaw), so it goes straight to the
  // runtime's decoder, which throws a SyntaxError on anything else.
  return typeof audio === "string" ? Uint8Array.fromBase64(audio) : audio;
}

/** The audio as base64 text (encoded when it is bytes). */
export function mulawBase64(audio: MulawAudio): Base64Mulaw {
  return typeof audio === "string" ? audio : (encodeBase64(audio) as Base64Mulaw);
}

/** How many μ-law bytes (= samples) the audio holds, without decoding it. */
export function mulawLength(audio: MulawAudio): number {
  if (typeof audio !== "string") return audio.length;
  const padding = audio.endsWith("==") ? 2 : audio.endsWith("=") ? 1 : 0;
  return (audio.length / 4) * 3 - padding;
}
