import { describe, expect, it } from "vitest";
import { speechUtterance } from "../../bench/speech.ts";
import { percentile, ratioInterval, summarize } from "../../bench/stats.ts";
import { twilioSignature } from "../../bench/twilio-client.ts";

/**
 * The bench's own measuring sticks (no timings here): if these are wrong, every number in
 * `npm run bench` is wrong with them.
 */

describe("summaries", () => {
  it("reports nearest-rank percentiles: p99 of 100 samples is the 99th, of 10 samples the largest", () => {
    const hundred = Array.from({ length: 100 }, (_, i) => 100 - i);
    expect(summarize(hundred)).toMatchObject({ n: 100, median: 50, p99: 99, min: 1, max: 100 });
    expect(percentile([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 99)).toBe(10);
    expect(summarize([3, 1, 2]).median).toBe(2);
  });

  it("refuses to summarise nothing rather than print a made-up number", () => {
    expect(() => summarize([])).toThrow(/no samples/);
  });
});

describe("a ratio's interval", () => {
  it("is two standard errors of the rounds' log ratios either side of the pooled ratio", () => {
    // Logs ±0.1 in four rounds: standard deviation √(4 × 0.01 / 3), over √4, twice.
    const twoSe = 2 * (Math.sqrt(0.04 / 3) / 2);
    const [low, high] = ratioInterval(0.85, [Math.exp(0.1), Math.exp(-0.1), Math.exp(0.1), Math.exp(-0.1)]);
    expect(low).toBeCloseTo(0.85 * Math.exp(-twoSe), 10);
    expect(high).toBeCloseTo(0.85 * Math.exp(twoSe), 10);
  });

  it("narrows as rounds agree and as they add up", () => {
    const [lowSame, highSame] = ratioInterval(0.9, [0.9, 0.9, 0.9]);
    expect(lowSame).toBeCloseTo(0.9, 12);
    expect(highSame).toBeCloseTo(0.9, 12);
    const spread = [0.7, 1.1, 0.8, 1.0];
    const [low4, high4] = ratioInterval(0.9, spread);
    const [low16, high16] = ratioInterval(0.9, [...spread, ...spread, ...spread, ...spread]);
    expect(high16 - low16).toBeLessThan((high4 - low4) / 1.8);
  });

  it("refuses one round, which shows no spread", () => {
    expect(() => ratioInterval(0.9, [0.9])).toThrow(/at least two rounds/);
  });
});

describe("the simulated Twilio", () => {
  it("signs webhooks as Twilio's documented example does", () => {
    const params = {
      CallSid: "CA1234567890ABCDE",
      Caller: "+12349013030",
      Digits: "1234",
      From: "+12349013030",
      To: "+18005551212",
    };
    expect(twilioSignature("https://mycompany.com/myapp.php?foo=1&bar=2", params, "12345")).toBe(
      "0/KCTR6DLpKmkAf8muzZqo1nDgQ=",
    );
  });
});

describe("the caller's utterance", () => {
  it("ends where the Worker's detector ends it: after the fixture's speech (1896 ms) plus end_of_speech_ms", () => {
    for (const endOfSpeechMs of [200, 700, 1500]) {
      const utterance = speechUtterance(endOfSpeechMs);
      // The detector works in 20 ms frames: the frame holding the last voiced sample ends at 1900 ms.
      expect(utterance.speechEndMs).toBe(1900);
      expect((utterance.endFrame + 1) * 20).toBe(1900 + endOfSpeechMs);
      expect(utterance.frames.length).toBeGreaterThan(utterance.endFrame);
    }
  });
});
