import { encodeSample } from "../audio/mulaw.ts";
import { Pcm16Decoder } from "../audio/pcm16.ts";
import { Resampler } from "../audio/resample.ts";
import { FRAME_BYTES, LINE_RATE, MULAW_SILENCE } from "../audio/telephony.ts";

/**
 * Text-to-speech PCM (16-bit little-endian, any rate) to the phone line's 20 ms frames of 8 kHz
 * μ-law, streaming: bytes go in as they arrive and each frame is emitted as soon as it is full
 * (the speaker decides when it goes out).
 * One framer is reused for every stream of a call (`end` or `discard` starts over).
 */

export class MulawFramer {
  private decoder = new Pcm16Decoder();
  private readonly resampler: Resampler;
  private readonly frame = new Uint8Array(FRAME_BYTES);
  private fill = 0;

  /** Receives each full frame; the array is the caller's to keep. */
  private readonly emit: (frame: Uint8Array) => void;

  constructor(inRate: number, emit: (frame: Uint8Array) => void) {
    this.emit = emit;
    this.resampler = new Resampler(inRate, LINE_RATE);
  }

  /** The next bytes of the stream; each frame they complete is emitted. */
  push(bytes: Uint8Array): void {
    this.write(this.resampler.push(this.decoder.push(bytes)));
  }

  /** The stream is complete: emit what is left, the last frame padded with silence. */
  end(): void {
    this.write(this.resampler.flush());
    if (this.fill > 0) {
      this.frame.fill(MULAW_SILENCE, this.fill);
      this.sendFrame();
    }
    this.decoder = new Pcm16Decoder();
  }

  /** Drop the stream without emitting anything more (it was cancelled). */
  discard(): void {
    this.resampler.flush();
    this.decoder = new Pcm16Decoder();
    this.fill = 0;
  }

  private write(samples: Int16Array): void {
    for (let i = 0; i < samples.length; i++) {
      this.frame[this.fill++] = encodeSample(samples[i] as number);
      if (this.fill === FRAME_BYTES) this.sendFrame();
    }
  }

  private sendFrame(): void {
    this.fill = 0;
    this.emit(this.frame.slice());
  }
}
