import { describe, expect, it } from "vitest";
import { mulawToPcm16, pcm16ToMulaw } from "../../../src/audio/mulaw.ts";
import { decodeWav } from "../../../src/audio/wav.ts";
import {
  type CapturedUtterance,
  UtteranceCapture,
  type UtteranceListener,
} from "../../../src/call/utterance-capture.ts";
import { concat, fixtureSamples } from "../audio/signals.ts";

const silence = (ms: number) => new Int16Array(8 * ms);

/** Feed μ-law in pieces of `size` bytes; returns what the listener heard. */
function capture(audio: Int16Array, size = 160, silenceMs = 300) {
  const utterances: CapturedUtterance[] = [];
  const starts: number[] = [];
  const longest: number[] = [];
  const listener: UtteranceListener = {
    speechStarted: () => {
      starts.push(starts.length);
      longest.push(0);
    },
    speechContinues: (ms) => {
      longest[longest.length - 1] = ms;
    },
    utterance: (u) => utterances.push(u),
  };
  const capturer = new UtteranceCapture({ silenceMs }, listener);
  const mulaw = pcm16ToMulaw(audio);
  for (let at = 0; at < mulaw.length; at += size) capturer.push(mulaw.subarray(at, at + size));
  return { utterances, starts, longest, line: mulawToPcm16(mulaw) };
}

function energy(samples: Int16Array): number {
  let sum = 0;
  for (const s of samples) sum += s * s;
  return sum;
}

describe("UtteranceCapture", () => {
  it("captures a whole utterance as an 8 kHz WAV without the long silences around it", () => {
    // hello.wav: 0.5 s silence, speech 500-1896 ms, 0.5 s silence.
    const { utterances, line } = capture(concat(silence(1000), fixtureSamples("hello"), silence(600)));
    expect(utterances).toHaveLength(1);
    const [utterance] = utterances as [CapturedUtterance];
    const wav = decodeWav(utterance.wav);
    expect(wav.sampleRate).toBe(8000);
    expect(wav.channels).toBe(1);
    // Every voiced sample is kept (the silences around the speech are digital zeros)...
    expect(energy(wav.samples)).toBe(energy(line));
    // ...with ~200 ms of audio either side of the 1396 ms of speech, not the 2.6 s of silence.
    expect(wav.samples.length / 8).toBeGreaterThan(1396 + 300);
    expect(wav.samples.length / 8).toBeLessThan(1396 + 500);
    expect(utterance.durationMs).toBeGreaterThan(1300);
    expect(utterance.durationMs).toBeLessThan(1500);
    expect(utterance.truncated).toBe(false);
  });

  it("reports each utterance of a caller who pauses, and how long the caller has been speaking", () => {
    // Speech at 500-2512 ms and 3512-4721 ms.
    const { utterances, starts, longest } = capture(concat(fixtureSamples("twoUtterances"), silence(400)));
    expect(starts).toHaveLength(2);
    expect(utterances).toHaveLength(2);
    utterances.forEach((u, i) => {
      expect(longest[i]).toBe(u.durationMs);
    });
    expect(Math.abs((utterances[0]?.durationMs ?? 0) - 2012)).toBeLessThan(60);
    expect(Math.abs((utterances[1]?.durationMs ?? 0) - 1209)).toBeLessThan(60);
  });

  it("does not depend on how the payloads are chunked", () => {
    const audio = concat(fixtureSamples("twoUtterances"), silence(400));
    const framed = capture(audio).utterances.map((u) => u.wav);
    expect(capture(audio, 7).utterances.map((u) => u.wav)).toEqual(framed);
    expect(capture(audio, 1000).utterances.map((u) => u.wav)).toEqual(framed);
  });

  it("hears nothing in silence", () => {
    const { utterances, starts } = capture(silence(3000));
    expect(starts).toHaveLength(0);
    expect(utterances).toHaveLength(0);
  });
});
