/**
 * Little-endian PCM16 bytes, as streamed by text-to-speech (`pcm` format), to samples. Network
 * chunks can end in the middle of a sample, so a trailing odd byte is held for the next chunk.
 */
export class Pcm16Decoder {
  private carry = -1;

  /** The samples completed by this chunk (possibly none). */
  push(bytes: Uint8Array): Int16Array {
    const held = this.carry >= 0 ? 1 : 0;
    const total = held + bytes.length;
    const samples = new Int16Array(total >> 1);
    let i = 0;
    if (held && samples.length > 0) {
      samples[0] = toInt16(this.carry | ((bytes[0] as number) << 8));
      i = 1;
    }
    for (let s = held; s < samples.length; s++, i += 2) {
      samples[s] = toInt16((bytes[i] as number) | ((bytes[i + 1] as number) << 8));
    }
    this.carry = total % 2 === 1 ? (bytes[bytes.length - 1] ?? this.carry) : -1;
    return samples;
  }

  /** Whether half a sample is still waiting for its second byte. */
  get hasPartialSample(): boolean {
    return this.carry >= 0;
  }
}

function toInt16(word: number): number {
  return (word << 16) >> 16;
}
