/**
 * WAV (RIFF) files of 16-bit PCM: built to upload caller audio to speech-to-text, parsed for
 * text-to-speech `wav` responses and test fixtures.
 */

export interface WavAudio {
  sampleRate: number;
  channels: number;
  /** Interleaved when channels > 1. */
  samples: Int16Array;
}

/** Why a WAV could not be read; callers wrap it into their own error with this as `cause`. */
export class WavFormatError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "WavFormatError";
  }
}

const HEADER_BYTES = 44;
const FORMAT_PCM = 1;
const FORMAT_EXTENSIBLE = 0xfffe;
/** Streamed WAVs are written before their length is known and carry this (or 0) as a size. */
const UNKNOWN_SIZE = 0xffffffff;

/** A canonical 44-byte-header WAV of 16-bit PCM, mono unless `channels` says otherwise. */
export function encodeWav(samples: Int16Array, sampleRate: number, channels = 1): Uint8Array {
  const dataBytes = samples.length * 2;
  const bytes = new Uint8Array(HEADER_BYTES + dataBytes);
  const view = new DataView(bytes.buffer);
  writeTag(view, 0, "RIFF");
  view.setUint32(4, HEADER_BYTES - 8 + dataBytes, true);
  writeTag(view, 8, "WAVE");
  writeTag(view, 12, "fmt ");
  view.setUint32(16, 16, true);
  view.setUint16(20, FORMAT_PCM, true);
  view.setUint16(22, channels, true);
  view.setUint32(24, sampleRate, true);
  view.setUint32(28, sampleRate * channels * 2, true);
  view.setUint16(32, channels * 2, true);
  view.setUint16(34, 16, true);
  writeTag(view, 36, "data");
  view.setUint32(40, dataBytes, true);
  for (let i = 0; i < samples.length; i++) view.setInt16(HEADER_BYTES + i * 2, samples[i] as number, true);
  return bytes;
}

/**
 * Read a 16-bit PCM WAV. Chunks other than `fmt ` and `data` are skipped; a `data` chunk whose
 * size is unknown or runs past the end (a streamed response) extends to the end of the bytes.
 */
export function decodeWav(input: ArrayBuffer | Uint8Array): WavAudio {
  const bytes = input instanceof Uint8Array ? input : new Uint8Array(input);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (bytes.length < 12 || readTag(view, 0) !== "RIFF" || readTag(view, 8) !== "WAVE") {
    throw new WavFormatError("not a RIFF/WAVE file");
  }
  let format: { sampleRate: number; channels: number } | undefined;
  let offset = 12;
  while (offset + 8 <= bytes.length) {
    const id = readTag(view, offset);
    const size = view.getUint32(offset + 4, true);
    const body = offset + 8;
    if (id === "fmt ") {
      format = readFormat(view, body, size);
    } else if (id === "data") {
      if (!format) throw new WavFormatError("data chunk before fmt chunk");
      const declaredEnd = body + size;
      const end =
        size === 0 || size === UNKNOWN_SIZE || declaredEnd > bytes.length ? bytes.length : declaredEnd;
      // A cut-off stream can end inside a sample frame: keep whole frames only.
      const frameBytes = format.channels * 2;
      const count = Math.floor((end - body) / frameBytes) * format.channels;
      const samples = new Int16Array(count);
      for (let i = 0; i < count; i++) samples[i] = view.getInt16(body + i * 2, true);
      return { ...format, samples };
    }
    // Chunks are word-aligned: an odd size is followed by a pad byte.
    offset = body + size + (size % 2);
  }
  throw new WavFormatError(format ? "no data chunk" : "no fmt chunk");
}

function readFormat(view: DataView, at: number, size: number): { sampleRate: number; channels: number } {
  if (size < 16 || at + 16 > view.byteLength) throw new WavFormatError("fmt chunk too short");
  let formatTag = view.getUint16(at, true);
  const channels = view.getUint16(at + 2, true);
  const sampleRate = view.getUint32(at + 4, true);
  const bitsPerSample = view.getUint16(at + 14, true);
  // WAVE_FORMAT_EXTENSIBLE names the real format in the first two bytes of its SubFormat GUID.
  if (formatTag === FORMAT_EXTENSIBLE && size >= 40 && at + 26 <= view.byteLength) {
    formatTag = view.getUint16(at + 24, true);
  }
  if (formatTag !== FORMAT_PCM || bitsPerSample !== 16) {
    throw new WavFormatError(
      `unsupported WAV format ${formatTag} with ${bitsPerSample} bits (need 16-bit PCM)`,
    );
  }
  if (channels === 0 || sampleRate === 0)
    throw new WavFormatError("WAV declares no channels or no sample rate");
  return { sampleRate, channels };
}

function writeTag(view: DataView, at: number, tag: string): void {
  for (let i = 0; i < 4; i++) view.setUint8(at + i, tag.charCodeAt(i));
}

function readTag(view: DataView, at: number): string {
  return String.fromCharCode(
    view.getUint8(at),
    view.getUint8(at + 1),
    view.getUint8(at + 2),
    view.getUint8(at + 3),
  );
}
