import { describe, expect, it } from "vitest";
import { decodeWav, encodeWav, WavFormatError } from "../../../src/audio/wav.ts";
import { fixtures } from "./signals.ts";

/** A WAV assembled chunk by chunk, for the layouts other writers produce. */
function riff(chunks: Array<[id: string, body: Uint8Array, declaredSize?: number]>): Uint8Array {
  const parts: number[] = [..."WAVE"].map((c) => c.charCodeAt(0));
  for (const [id, body, declaredSize] of chunks) {
    const size = declaredSize ?? body.length;
    parts.push(
      ...[...id].map((c) => c.charCodeAt(0)),
      size & 0xff,
      (size >> 8) & 0xff,
      (size >> 16) & 0xff,
      size >>> 24,
    );
    parts.push(...body);
    if (body.length % 2 === 1) parts.push(0);
  }
  const bytes = new Uint8Array(8 + parts.length);
  bytes.set([..."RIFF"].map((c) => c.charCodeAt(0)));
  new DataView(bytes.buffer).setUint32(4, parts.length, true);
  bytes.set(parts, 8);
  return bytes;
}

function fmt(
  formatTag: number,
  channels: number,
  rate: number,
  bits: number,
  extensibleSubFormat?: number,
): Uint8Array {
  const body = new Uint8Array(extensibleSubFormat === undefined ? 16 : 40);
  const view = new DataView(body.buffer);
  view.setUint16(0, formatTag, true);
  view.setUint16(2, channels, true);
  view.setUint32(4, rate, true);
  view.setUint32(8, (rate * channels * bits) / 8, true);
  view.setUint16(12, (channels * bits) / 8, true);
  view.setUint16(14, bits, true);
  if (extensibleSubFormat !== undefined) {
    view.setUint16(16, 22, true);
    view.setUint16(24, extensibleSubFormat, true);
  }
  return body;
}

const pcmBytes = (...samples: number[]) => new Uint8Array(Int16Array.from(samples).buffer);

describe("encodeWav", () => {
  it("writes the canonical 44-byte header for 16-bit mono PCM", () => {
    const bytes = encodeWav(Int16Array.from([0, 1, -1, 32767, -32768]), 8000);
    const view = new DataView(bytes.buffer);
    const tag = (at: number) => String.fromCharCode(...bytes.subarray(at, at + 4));
    expect(bytes.length).toBe(54);
    expect([tag(0), tag(8), tag(12), tag(36)]).toEqual(["RIFF", "WAVE", "fmt ", "data"]);
    expect(view.getUint32(4, true)).toBe(46);
    expect(view.getUint16(20, true)).toBe(1);
    expect(view.getUint16(22, true)).toBe(1);
    expect(view.getUint32(24, true)).toBe(8000);
    expect(view.getUint32(28, true)).toBe(16000);
    expect(view.getUint16(32, true)).toBe(2);
    expect(view.getUint16(34, true)).toBe(16);
    expect(view.getUint32(40, true)).toBe(10);
    expect(Array.from(bytes.subarray(44))).toEqual([0, 0, 1, 0, 0xff, 0xff, 0xff, 0x7f, 0x00, 0x80]);
  });

  it("round-trips through decodeWav", () => {
    const samples = Int16Array.from({ length: 1000 }, (_, i) => ((i * 733) % 65536) - 32768);
    expect(decodeWav(encodeWav(samples, 16000))).toEqual({ sampleRate: 16000, channels: 1, samples });
  });
});

describe("decodeWav", () => {
  it("reads the committed fixtures (written by sox)", () => {
    const hello = decodeWav(fixtures.hello);
    expect(hello.sampleRate).toBe(8000);
    expect(hello.channels).toBe(1);
    expect(hello.samples.length).toBe((38374 - 44) / 2);
  });

  it("skips other chunks, including odd-sized ones with their pad byte", () => {
    const wav = riff([
      ["LIST", new Uint8Array([1, 2, 3])],
      ["fmt ", fmt(1, 1, 24000, 16)],
      ["fact", new Uint8Array(4)],
      ["data", pcmBytes(5, -6, 7)],
    ]);
    expect(decodeWav(wav)).toEqual({ sampleRate: 24000, channels: 1, samples: Int16Array.from([5, -6, 7]) });
  });

  it("reads WAVE_FORMAT_EXTENSIBLE PCM and keeps stereo interleaved", () => {
    const wav = riff([
      ["fmt ", fmt(0xfffe, 2, 44100, 16, 1)],
      ["data", pcmBytes(1, 2, 3, 4)],
    ]);
    expect(decodeWav(wav)).toEqual({
      sampleRate: 44100,
      channels: 2,
      samples: Int16Array.from([1, 2, 3, 4]),
    });
  });

  it("reads a streamed WAV whose data size is unknown, up to the last whole sample", () => {
    const streamed = riff([
      ["fmt ", fmt(1, 1, 24000, 16)],
      ["data", pcmBytes(9, 10, 11), 0xffffffff],
    ]);
    expect(decodeWav(streamed).samples).toEqual(Int16Array.from([9, 10, 11]));
    const cut = streamed.subarray(0, streamed.length - 1);
    expect(decodeWav(cut).samples).toEqual(Int16Array.from([9, 10]));
  });

  it("reads from a view into a larger buffer", () => {
    const wav = encodeWav(Int16Array.from([42, -42]), 8000);
    const padded = new Uint8Array(wav.length + 10);
    padded.set(wav, 5);
    expect(decodeWav(padded.subarray(5, 5 + wav.length)).samples).toEqual(Int16Array.from([42, -42]));
  });

  it.each([
    ["not RIFF", new TextEncoder().encode("ID3 this is an mp3 file")],
    [
      "8-bit PCM",
      riff([
        ["fmt ", fmt(1, 1, 8000, 8)],
        ["data", new Uint8Array(4)],
      ]),
    ],
    [
      "mu-law",
      riff([
        ["fmt ", fmt(7, 1, 8000, 8)],
        ["data", new Uint8Array(4)],
      ]),
    ],
    [
      "float",
      riff([
        ["fmt ", fmt(3, 1, 8000, 32)],
        ["data", new Uint8Array(4)],
      ]),
    ],
    ["no data chunk", riff([["fmt ", fmt(1, 1, 8000, 16)]])],
    [
      "data before fmt",
      riff([
        ["data", pcmBytes(1)],
        ["fmt ", fmt(1, 1, 8000, 16)],
      ]),
    ],
  ])("rejects %s with a WavFormatError", (_name, bytes) => {
    expect(() => decodeWav(bytes)).toThrow(WavFormatError);
  });
});
