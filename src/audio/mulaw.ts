/**
 * G.711 μ-law, the codec of Twilio Media Streams (8 kHz, one byte per sample).
 * Same algorithm as the ITU-T reference / Sun g711.c on 16-bit input: bias 0x84, clip 32635.
 */

const BIAS = 0x84;
const CLIP = 32635;

/** Decoding is a table lookup: 256 entries cover every byte. */
const DECODE_TABLE = buildDecodeTable();

function buildDecodeTable(): Int16Array {
  const table = new Int16Array(256);
  for (let byte = 0; byte < 256; byte++) {
    const u = ~byte & 0xff;
    const exponent = (u >> 4) & 0x07;
    const magnitude = ((((u & 0x0f) << 3) + BIAS) << exponent) - BIAS;
    table[byte] = u & 0x80 ? -magnitude : magnitude;
  }
  return table;
}

/** One linear PCM16 sample (-32768..32767) to its μ-law byte. */
export function encodeSample(pcm16: number): number {
  const sign = (pcm16 >> 8) & 0x80;
  let magnitude = sign ? -pcm16 : pcm16;
  if (magnitude > CLIP) magnitude = CLIP;
  magnitude += BIAS;
  // The segment is the position of the highest set bit above bit 7; clz32 finds it without
  // the usual 256-entry segment table.
  const exponent = 31 - Math.clz32((magnitude >> 7) | 1);
  const mantissa = (magnitude >> (exponent + 3)) & 0x0f;
  return ~(sign | (exponent << 4) | mantissa) & 0xff;
}

/** One μ-law byte to linear PCM16. */
export function decodeSample(ulaw: number): number {
  return DECODE_TABLE[ulaw & 0xff] as number;
}

/**
 * μ-law bytes to PCM16. Pass `out` (at least as long as the input) to reuse a buffer
 * instead of allocating; the result is then a view of it.
 */
export function mulawToPcm16(ulaw: Uint8Array, out?: Int16Array): Int16Array {
  const pcm = outputFor(out, ulaw.length, Int16Array);
  for (let i = 0; i < ulaw.length; i++) pcm[i] = DECODE_TABLE[ulaw[i] as number] as number;
  return pcm;
}

/**
 * PCM16 to μ-law bytes. Pass `out` (at least as long as the input) to reuse a buffer
 * instead of allocating; the result is then a view of it.
 */
export function pcm16ToMulaw(pcm: Int16Array, out?: Uint8Array): Uint8Array {
  const ulaw = outputFor(out, pcm.length, Uint8Array);
  for (let i = 0; i < pcm.length; i++) ulaw[i] = encodeSample(pcm[i] as number);
  return ulaw;
}

function outputFor<T extends Int16Array | Uint8Array>(
  out: T | undefined,
  length: number,
  make: new (length: number) => T,
): T {
  if (!out) return new make(length);
  if (out.length < length) {
    throw new RangeError(`output buffer holds ${out.length} samples, need ${length}`);
  }
  return out.length === length ? out : (out.subarray(0, length) as T);
}
