import { describe, expect, it } from "vitest";
import { decodeSample, encodeSample, mulawToPcm16, pcm16ToMulaw } from "../../../src/audio/mulaw.ts";

describe("G.711 mu-law", () => {
  it("decodes the reference end points", () => {
    expect(decodeSample(0xff)).toBe(0);
    expect(decodeSample(0x7f)).toBe(0);
    expect(decodeSample(0x00)).toBe(-32124);
    expect(decodeSample(0x80)).toBe(32124);
  });

  it("encodes the reference end points and clips beyond full scale", () => {
    expect(encodeSample(0)).toBe(0xff);
    expect(encodeSample(32124)).toBe(0x80);
    expect(encodeSample(-32124)).toBe(0x00);
    expect(encodeSample(32767)).toBe(0x80);
    expect(encodeSample(-32768)).toBe(0x00);
  });

  // Pairs from CPython's audioop.lin2ulaw / ulaw2lin (the Sun g711.c reference code).
  const pairs: Array<[pcm: number, ulaw: number, decoded: number]> = [
    [100, 0xf2, 104],
    [1000, 0xce, 988],
    [-1000, 0x4e, -988],
    [5000, 0xab, 5116],
    [-5000, 0x2b, -5116],
    [8159, 0x9f, 8316],
    [-8159, 0x1f, -8316],
    [12345, 0x97, 12412],
    [-12345, 0x17, -12412],
  ];
  it.each(pairs)("encodes %d as byte %d, which decodes to %d", (pcm, ulaw, decoded) => {
    expect(encodeSample(pcm)).toBe(ulaw);
    expect(decodeSample(ulaw)).toBe(decoded);
  });

  it("round-trips every byte exactly (decode then encode)", () => {
    for (let byte = 0; byte < 256; byte++) {
      // 0x7f is negative zero; it decodes to 0, which encodes as positive zero.
      const expected = byte === 0x7f ? 0xff : byte;
      expect(encodeSample(decodeSample(byte))).toBe(expected);
    }
  });

  it("keeps the round-trip error of any sample within half a quantization step (about 3%)", () => {
    for (let pcm = -32768; pcm <= 32767; pcm++) {
      const back = decodeSample(encodeSample(pcm));
      const magnitude = Math.min(Math.abs(pcm), 32124);
      // Steps double per segment: 8 near zero up to 1024 in the top segment; the clipped
      // extremes add the distance to the largest code.
      const step = 2 ** (Math.max(0, Math.floor(Math.log2((magnitude + 132) / 128))) + 3);
      const allowed = step / 2 + Math.max(0, Math.abs(pcm) - 32124);
      if (Math.abs(back - pcm) > allowed) {
        expect.fail(`pcm ${pcm} came back as ${back} (allowed error ${allowed})`);
      }
    }
  });

  it("converts arrays both ways and can write into a caller's buffer", () => {
    const pcm = Int16Array.from([0, 1000, -1000, 32767, -32768]);
    const ulaw = pcm16ToMulaw(pcm);
    expect(Array.from(ulaw)).toEqual([0xff, 0xce, 0x4e, 0x80, 0x00]);
    expect(Array.from(mulawToPcm16(ulaw))).toEqual([0, 988, -988, 32124, -32124]);

    const scratch = new Int16Array(160);
    const view = mulawToPcm16(ulaw, scratch);
    expect(view.buffer).toBe(scratch.buffer);
    expect(Array.from(view)).toEqual([0, 988, -988, 32124, -32124]);
    expect(() => pcm16ToMulaw(pcm, new Uint8Array(2))).toThrow(RangeError);
  });
});
