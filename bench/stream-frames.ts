import { pcm16ToMulaw } from "../src/audio/mulaw.ts";
import { FRAME_BYTES, FRAME_MS, LINE_RATE, MULAW_SILENCE } from "../src/audio/telephony.ts";
import { decodeWav } from "../src/audio/wav.ts";
import { encodeBase64 } from "../src/base64.ts";

/**
 * Twilio's inbound Media Streams frames, built the way Twilio sends them (20 ms of 8 kHz μ-law,
 * base64, JSON), shared by the simulated caller in Node and the per-frame operation in the
 * bench Worker, so both push the same bytes.
 */

export { FRAME_BYTES, FRAME_MS };

/** An 8 kHz 16-bit WAV as μ-law bytes, cut into whole 20 ms frames (the last padded with silence). */
export function mulawFrames(wav: ArrayBuffer | Uint8Array): Uint8Array[] {
  const audio = decodeWav(wav);
  if (audio.sampleRate !== LINE_RATE || audio.channels !== 1) {
    throw new Error(`speech fixture must be 8 kHz mono, got ${audio.sampleRate} Hz x${audio.channels}`);
  }
  const mulaw = pcm16ToMulaw(audio.samples);
  const frames: Uint8Array[] = [];
  for (let at = 0; at < mulaw.length; at += FRAME_BYTES) {
    const frame = new Uint8Array(FRAME_BYTES).fill(MULAW_SILENCE);
    frame.set(mulaw.subarray(at, at + FRAME_BYTES));
    frames.push(frame);
  }
  return frames;
}

export const SILENT_FRAME = new Uint8Array(FRAME_BYTES).fill(MULAW_SILENCE);

/** One inbound `media` message as Twilio sends it: `chunk` counts from 1, `timestamp` is ms since start. */
export function inboundMedia(streamSid: string, chunk: number, frame: Uint8Array): string {
  return JSON.stringify({
    event: "media",
    sequenceNumber: String(chunk + 1),
    media: {
      track: "inbound",
      chunk: String(chunk),
      timestamp: String((chunk - 1) * FRAME_MS),
      payload: encodeBase64(frame),
    },
    streamSid,
  });
}
