import { expect, it } from "vitest";
import { Pcm16Decoder } from "../../../src/audio/pcm16.ts";

const bytesOf = (...samples: number[]) => new Uint8Array(Int16Array.from(samples).buffer);

it("decodes little-endian samples, including the extremes", () => {
  const decoder = new Pcm16Decoder();
  expect(decoder.push(bytesOf(0, 1, -1, 32767, -32768, 258))).toEqual(
    Int16Array.from([0, 1, -1, 32767, -32768, 258]),
  );
  expect(decoder.hasPartialSample).toBe(false);
});

it("gives the same samples however the byte stream is split, holding half samples", () => {
  const all = bytesOf(1000, -2000, 3000, -4000, 5000, 12345, -12345);
  for (const sizes of [
    [1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1],
    [3, 3, 3, 5],
    [1, 0, 12, 1],
    [13, 1],
  ]) {
    const decoder = new Pcm16Decoder();
    const out: number[] = [];
    let at = 0;
    for (const size of sizes) {
      out.push(...decoder.push(all.subarray(at, at + size)));
      at += size;
      expect(decoder.hasPartialSample).toBe(at % 2 === 1);
    }
    expect(out).toEqual([1000, -2000, 3000, -4000, 5000, 12345, -12345]);
  }
});
