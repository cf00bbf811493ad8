import { describe, expect, it } from "vitest";
import { Resampler, resample } from "../../../src/audio/resample.ts";
import { concat, mix, whiteNoise } from "./signals.ts";

function tone(frequency: number, rate: number, seconds: number, amplitude: number): Int16Array {
  const out = new Int16Array(Math.round(rate * seconds));
  for (let i = 0; i < out.length; i++)
    out[i] = Math.round(amplitude * Math.sin((2 * Math.PI * frequency * i) / rate));
  return out;
}

/** RMS over the middle of a signal, away from the start and end transients. */
function middleRms(samples: Int16Array): number {
  const margin = Math.floor(samples.length / 10);
  let sum = 0;
  for (let i = margin; i < samples.length - margin; i++) sum += (samples[i] as number) ** 2;
  return Math.sqrt(sum / (samples.length - 2 * margin));
}

/** Amplitude of the `frequency` component (Goertzel over the middle, whole cycles only). */
function amplitudeAt(samples: Int16Array, frequency: number, rate: number): number {
  const cycle = rate / frequency;
  const start = Math.floor(samples.length / 10);
  const n = Math.floor((samples.length * 0.8) / cycle) * cycle;
  let re = 0;
  let im = 0;
  for (let i = 0; i < n; i++) {
    const phase = (2 * Math.PI * frequency * i) / rate;
    re += (samples[start + i] as number) * Math.cos(phase);
    im += (samples[start + i] as number) * Math.sin(phase);
  }
  return (2 * Math.hypot(re, im)) / n;
}

const db = (ratio: number) => 20 * Math.log10(ratio);

/** A deterministic test signal with energy across the band: two tones and white noise. */
function mixedSignal(rate: number, length: number): Int16Array {
  return mix(
    mix(tone(440, rate, length / rate, 6000), tone(2900, rate, length / rate, 3000)),
    whiteNoise(length, 1200),
  );
}

describe("24 kHz -> 8 kHz (TTS to the phone line)", () => {
  it("keeps a 1 kHz tone's amplitude within 1% (0.09 dB)", () => {
    const out = resample(tone(1000, 24000, 1, 10000), 24000, 8000);
    expect(out.length).toBe(8000);
    expect(amplitudeAt(out, 1000, 8000)).toBeGreaterThan(9900);
    expect(amplitudeAt(out, 1000, 8000)).toBeLessThan(10100);
  });

  it("keeps a 3.3 kHz tone, near the top of the telephone band (G.712: 300 to 3,400 Hz), within 0.5 dB", () => {
    const out = resample(tone(3300, 24000, 1, 10000), 24000, 8000);
    expect(Math.abs(db(amplitudeAt(out, 3300, 8000) / 10000))).toBeLessThan(0.5);
  });

  it("attenuates a 4.7 kHz tone, which would alias into the band at 3.3 kHz, by at least 60 dB", () => {
    const input = tone(4700, 24000, 1, 10000);
    const out = resample(input, 24000, 8000);
    expect(db(middleRms(out) / middleRms(input))).toBeLessThan(-60);
  });

  it("attenuates a 5 kHz tone, which would alias to 3 kHz, by at least 60 dB", () => {
    const input = tone(5000, 24000, 1, 10000);
    const out = resample(input, 24000, 8000);
    expect(db(middleRms(out) / middleRms(input))).toBeLessThan(-60);
  });

  it("does not shift audio in time: a click at 125 ms comes out at 125 ms", () => {
    const input = new Int16Array(24000);
    input[3000] = 30000;
    const out = resample(input, 24000, 8000);
    let peak = 0;
    for (let i = 1; i < out.length; i++) if ((out[i] as number) > (out[peak] as number)) peak = i;
    expect(peak).toBe(1000);
  });

  it("gives the same samples in irregular chunks as in one go", () => {
    const input = mixedSignal(24000, 24000);
    const resampler = new Resampler(24000, 8000);
    const parts: Int16Array[] = [];
    const sizes = [1, 2, 479, 4800, 33, 0, 1000, 7];
    let at = 0;
    for (let i = 0; at < input.length; i++) {
      const size = sizes[i % sizes.length] as number;
      parts.push(resampler.push(input.subarray(at, at + size)));
      at += size;
    }
    parts.push(resampler.flush());
    expect(Array.from(concat(...parts))).toEqual(Array.from(resample(input, 24000, 8000)));
  });

  it("starts a fresh stream after flush", () => {
    const input = mixedSignal(24000, 4800);
    const resampler = new Resampler(24000, 8000);
    resampler.push(mixedSignal(24000, 999));
    resampler.flush();
    const again = concat(resampler.push(input), resampler.flush());
    expect(Array.from(again)).toEqual(Array.from(resample(input, 24000, 8000)));
  });
});

describe("8 kHz -> 16 / 24 kHz", () => {
  it.each([16000, 24000])("keeps a 1 kHz tone and suppresses the 7 kHz image by 60 dB at %d Hz", (rate) => {
    const out = resample(tone(1000, 8000, 1, 10000), 8000, rate);
    expect(out.length).toBe(rate);
    expect(amplitudeAt(out, 1000, rate)).toBeGreaterThan(9900);
    expect(amplitudeAt(out, 1000, rate)).toBeLessThan(10100);
    expect(db(amplitudeAt(out, 7000, rate) / 10000)).toBeLessThan(-60);
  });

  it("gives the same samples in chunks of 20 ms frames as in one go", () => {
    const input = mixedSignal(8000, 8000);
    const resampler = new Resampler(8000, 24000);
    const parts: Int16Array[] = [];
    for (let at = 0; at < input.length; at += 160) parts.push(resampler.push(input.subarray(at, at + 160)));
    parts.push(resampler.flush());
    expect(Array.from(concat(...parts))).toEqual(Array.from(resample(input, 8000, 24000)));
  });
});

it("rejects rates that are not positive integers", () => {
  expect(() => new Resampler(0, 8000)).toThrow(RangeError);
  expect(() => new Resampler(22050.5, 8000)).toThrow(RangeError);
});
