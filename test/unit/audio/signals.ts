/** Test signals: the committed speech fixtures and deterministic synthetic audio. */

import { decodeWav } from "../../../src/audio/wav.ts";
import helloWav from "../../fixtures/audio/hello.wav.bin";
import twoUtterancesWav from "../../fixtures/audio/two-utterances.wav.bin";

export const fixtures = { hello: helloWav, twoUtterances: twoUtterancesWav };

/** A fixture's samples (all fixtures are 8 kHz mono). */
export function fixtureSamples(name: keyof typeof fixtures): Int16Array {
  return decodeWav(fixtures[name]).samples;
}

/** Uniform white noise with the given RMS, the same every run. */
export function whiteNoise(length: number, rms: number, seed = 1): Int16Array {
  const out = new Int16Array(length);
  let state = seed;
  const scale = rms * Math.sqrt(12);
  for (let i = 0; i < length; i++) {
    state = (state * 1103515245 + 12345) >>> 0;
    out[i] = Math.round((state / 2 ** 32 - 0.5) * scale);
  }
  return out;
}

export function concat(...parts: Int16Array[]): Int16Array {
  const out = new Int16Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** a + b, saturating at the PCM16 limits. */
export function mix(a: Int16Array, b: Int16Array): Int16Array {
  const out = new Int16Array(Math.max(a.length, b.length));
  for (let i = 0; i < out.length; i++) {
    out[i] = Math.max(-32768, Math.min(32767, (a[i] ?? 0) + (b[i] ?? 0)));
  }
  return out;
}
