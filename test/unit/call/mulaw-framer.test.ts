import { describe, expect, it } from "vitest";
import { mulawToPcm16 } from "../../../src/audio/mulaw.ts";
import { FRAME_BYTES, MULAW_SILENCE } from "../../../src/audio/telephony.ts";
import { MulawFramer } from "../../../src/call/mulaw-framer.ts";

/** A 24 kHz 440 Hz tone as little-endian PCM16 bytes, like text-to-speech `pcm`. */
function tone24k(ms: number, amplitude = 1000): Uint8Array {
  const samples = Math.round(24 * ms);
  const bytes = new Uint8Array(samples * 2);
  const view = new DataView(bytes.buffer);
  for (let i = 0; i < samples; i++) {
    view.setInt16(i * 2, Math.round(amplitude * Math.sin((2 * Math.PI * 440 * i) / 24000)), true);
  }
  return bytes;
}

function framesOf(pieces: Uint8Array[]): Uint8Array[] {
  const frames: Uint8Array[] = [];
  const framer = new MulawFramer(24000, (frame) => frames.push(frame));
  for (const piece of pieces) framer.push(piece);
  framer.end();
  return frames;
}

function split(bytes: Uint8Array, size: number): Uint8Array[] {
  const pieces: Uint8Array[] = [];
  for (let at = 0; at < bytes.length; at += size) pieces.push(bytes.subarray(at, at + size));
  return pieces;
}

function rms(samples: Int16Array): number {
  let sum = 0;
  for (const s of samples) sum += s * s;
  return Math.sqrt(sum / samples.length);
}

describe("MulawFramer", () => {
  it("turns 24 kHz speech into whole 20 ms frames of 8 kHz μ-law, the last padded with silence", () => {
    // 1010 ms at 8 kHz is 8080 samples: 50 full frames and 80 samples over.
    const frames = framesOf([tone24k(1010)]);
    expect(frames).toHaveLength(51);
    for (const frame of frames) expect(frame.length).toBe(FRAME_BYTES);
    const last = frames[50] as Uint8Array;
    expect(last.subarray(80).every((b) => b === MULAW_SILENCE)).toBe(true);
    expect(last.subarray(0, 80).some((b) => b !== MULAW_SILENCE)).toBe(true);
  });

  it("keeps the tone's level through resampling and μ-law", () => {
    const frames = framesOf([tone24k(500)]);
    const middle = mulawToPcm16(frames[10] as Uint8Array);
    expect(rms(middle)).toBeGreaterThan(1000 / Math.SQRT2 - 40);
    expect(rms(middle)).toBeLessThan(1000 / Math.SQRT2 + 40);
  });

  it("gives the same frames however the stream is chunked, odd chunks included", () => {
    const audio = tone24k(730);
    const whole = framesOf([audio]);
    expect(framesOf(split(audio, 4801))).toEqual(whole);
    expect(framesOf(split(audio, 3))).toEqual(whole);
  });

  it("starts over after end, and discard drops a cancelled stream without sending it", () => {
    const frames: Uint8Array[] = [];
    const framer = new MulawFramer(24000, (frame) => frames.push(frame));
    framer.push(tone24k(15)); // less than one frame
    framer.discard();
    expect(frames).toHaveLength(0);
    framer.push(tone24k(400));
    framer.end();
    expect(frames).toEqual(framesOf([tone24k(400)]));
  });
});
