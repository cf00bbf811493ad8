import { describe, expect, it } from "vitest";
import { mulawToPcm16, pcm16ToMulaw } from "../../../src/audio/mulaw.ts";
import { type VadEvent, VoiceActivityDetector } from "../../../src/audio/vad.ts";
import { concat, fixtureSamples, mix, whiteNoise } from "./signals.ts";

const FRAME = 160;
const second = (s: number) => new Int16Array(Math.round(8000 * s));

/** Feed audio in 20 ms frames, as a Media Stream delivers it. */
function run(vad: VoiceActivityDetector, audio: Int16Array): VadEvent[] {
  const events: VadEvent[] = [];
  for (let at = 0; at + FRAME <= audio.length; at += FRAME)
    events.push(...vad.push(audio.subarray(at, at + FRAME)));
  return events;
}

/** What the phone line does to audio: mu-law encode and decode. */
const overPhoneLine = (pcm: Int16Array) => mulawToPcm16(pcm16ToMulaw(pcm));

/** The speech in two-utterances.wav (see its README): 500-2512 ms and 3512-4721 ms. */
const UTTERANCES = [
  { start: 500, end: 2512 },
  { start: 3512, end: 4721 },
];

function expectUtterances(events: VadEvent[], toleranceMs: number): void {
  expect(events.map((e) => e.type)).toEqual(["speech_start", "speech_end", "speech_start", "speech_end"]);
  UTTERANCES.forEach(({ start, end }, i) => {
    const started = events[2 * i] as VadEvent;
    const ended = events[2 * i + 1] as Extract<VadEvent, { type: "speech_end" }>;
    expect(Math.abs(started.atMs - start)).toBeLessThanOrEqual(toleranceMs);
    expect(Math.abs(ended.atMs - end)).toBeLessThanOrEqual(toleranceMs);
    expect(ended.durationMs).toBe(ended.atMs - started.atMs);
  });
}

describe("VoiceActivityDetector on speech", () => {
  // The fixture ends 500 ms after the last word; the line stays quiet afterwards.
  const call = overPhoneLine(concat(fixtureSamples("twoUtterances"), second(1)));

  it("finds both utterances of a caller who pauses for a second, with their boundaries", () => {
    expectUtterances(run(new VoiceActivityDetector(), call), 40);
  });

  it("still finds them under steady background noise 17 dB below the speech", () => {
    const raw = concat(fixtureSamples("twoUtterances"), second(1));
    const noisy = overPhoneLine(mix(raw, whiteNoise(raw.length, 300)));
    // Noise masks the soft first sounds ("F" of "For"), so onsets may come later.
    expectUtterances(run(new VoiceActivityDetector(), noisy), 120);
  });

  it("reports speech_end silenceMs after the last word, not before", () => {
    const vad = new VoiceActivityDetector({ silenceMs: 700 });
    const frames: Array<{ nowMs: number; event: VadEvent }> = [];
    for (let at = 0; at + FRAME <= call.length; at += FRAME) {
      for (const event of vad.push(call.subarray(at, at + FRAME))) frames.push({ nowMs: vad.nowMs, event });
    }
    const ends = frames.filter((f) => f.event.type === "speech_end");
    expect(ends).toHaveLength(2);
    for (const { nowMs, event } of ends) {
      expect(nowMs - event.atMs).toBeGreaterThanOrEqual(700);
      expect(nowMs - event.atMs).toBeLessThan(720);
    }
  });

  it("keeps a pause shorter than silenceMs inside the utterance", () => {
    // hello.wav has a 190 ms pause at its comma.
    const hello = overPhoneLine(concat(fixtureSamples("hello"), second(1)));
    expect(run(new VoiceActivityDetector(), hello).map((e) => e.type)).toEqual([
      "speech_start",
      "speech_end",
    ]);
    expect(run(new VoiceActivityDetector({ silenceMs: 120 }), hello).map((e) => e.type)).toEqual([
      "speech_start",
      "speech_end",
      "speech_start",
      "speech_end",
    ]);
  });

  it("merges the two utterances when silenceMs is longer than the pause between them", () => {
    const events = run(new VoiceActivityDetector({ silenceMs: 1500 }), concat(call, second(1)));
    expect(events.map((e) => e.type)).toEqual(["speech_start", "speech_end"]);
  });

  it("tracks how long the caller has been speaking, not counting trailing silence", () => {
    const vad = new VoiceActivityDetector();
    const hello = overPhoneLine(concat(fixtureSamples("hello"), second(1)));
    let reachedHalfSecondAt: number | undefined;
    let longest = 0;
    for (let at = 0; at + FRAME <= hello.length; at += FRAME) {
      vad.push(hello.subarray(at, at + FRAME));
      if (reachedHalfSecondAt === undefined && vad.speechMs >= 500) reachedHalfSecondAt = vad.nowMs;
      longest = Math.max(longest, vad.speechMs);
      // hello.wav's words end at 1896 ms; the following silence must not add to the duration.
      if (vad.nowMs === 2400) expect(vad.speaking).toBe(true);
    }
    // Speech starts at 500 ms; while the caller pauses at the comma (926-1115 ms) the duration
    // stays at about 430 ms, and passes 500 ms only when they go on.
    expect(reachedHalfSecondAt).toBeGreaterThanOrEqual(1100);
    expect(reachedHalfSecondAt).toBeLessThanOrEqual(1140);
    expect(longest).toBeGreaterThan(1350);
    expect(longest).toBeLessThanOrEqual(1420);
    expect(vad.speaking).toBe(false);
    expect(vad.speechMs).toBe(0);
  });
});

describe("VoiceActivityDetector on noise", () => {
  it("ignores low white noise", () => {
    expect(run(new VoiceActivityDetector(), whiteNoise(8000 * 5, 30))).toEqual([]);
  });

  it("ignores steady white noise louder than the absolute threshold, via the noise floor", () => {
    expect(run(new VoiceActivityDetector(), whiteNoise(8000 * 5, 300))).toEqual([]);
  });

  it("ignores a burst shorter than minSpeechMs but not one longer", () => {
    const burst = (ms: number) => concat(second(1), whiteNoise(8 * ms, 3000), second(1));
    expect(run(new VoiceActivityDetector({ minSpeechMs: 100 }), burst(60))).toEqual([]);
    expect(run(new VoiceActivityDetector({ minSpeechMs: 100 }), burst(200))).toEqual([
      { type: "speech_start", atMs: 1000 },
      { type: "speech_end", atMs: 1200, durationMs: 200 },
    ]);
  });

  it("absorbs a lasting step up in background noise within half a second", () => {
    const events = run(new VoiceActivityDetector(), concat(second(1), whiteNoise(8000 * 9, 400)));
    const end = events.find((e) => e.type === "speech_end");
    expect(events).toHaveLength(2);
    expect(end?.durationMs).toBeLessThan(500);
  });
});

it("rejects nonsensical options", () => {
  expect(() => new VoiceActivityDetector({ silenceMs: 0 })).toThrow(RangeError);
  expect(() => new VoiceActivityDetector({ sampleRate: Number.NaN })).toThrow(RangeError);
});
