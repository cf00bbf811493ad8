import { decodeSample } from "../audio/mulaw.ts";
import { FRAME_BYTES, LINE_RATE } from "../audio/telephony.ts";
import { VoiceActivityDetector } from "../audio/vad.ts";
import { encodeWav } from "../audio/wav.ts";

/**
 * The caller's side of a Media Stream cut into utterances: μ-law bytes in (any chunking),
 * 20 ms PCM frames through the voice activity detector, and each utterance's audio out as a
 * WAV ready for speech-to-text. The audio kept starts a little before the detector's onset
 * (which trails the first syllable) and ends a little after the last voiced frame, instead of
 * carrying the whole end-of-speech silence.
 */

export const CAPTURE_RATE = LINE_RATE;
const FRAME_SAMPLES = FRAME_BYTES;
const PREROLL_MS = 200;
const TAIL_MS = 200;
/** Longest utterance kept; speech past this is dropped (speech-to-text takes ~25 MB at most). */
export const MAX_UTTERANCE_MS = 30_000;
/**
 * Recent audio kept while nobody speaks: the pre-roll plus the detector's onset, which needs
 * `minSpeechMs` of voiced frames and tolerates short gaps between them.
 */
const RING_SAMPLES = CAPTURE_RATE / 2;
/** Utterance buffer's first size (2 s); it doubles as needed and is reused. */
const INITIAL_UTTERANCE_SAMPLES = 2 * CAPTURE_RATE;

const samplesOf = (ms: number) => Math.round((ms * CAPTURE_RATE) / 1000);

export interface CapturedUtterance {
  /** 8 kHz mono 16-bit WAV */
  wav: Uint8Array;
  /** from the first to the last voiced frame */
  durationMs: number;
  /** the caller spoke past MAX_UTTERANCE_MS and the rest was dropped */
  truncated: boolean;
}

export interface UtteranceListener {
  speechStarted(): void;
  /** Every frame while an utterance lasts: how long the caller has spoken so far (ms). */
  speechContinues(speechMs: number): void;
  utterance(utterance: CapturedUtterance): void;
}

export class UtteranceCapture {
  private readonly vad: VoiceActivityDetector;
  private readonly frame = new Int16Array(FRAME_SAMPLES);
  private frameFill = 0;
  /** Samples analysed so far (the detector's clock). */
  private clock = 0;
  private readonly ring = new Int16Array(RING_SAMPLES);
  private utterance: Int16Array | undefined;
  /** Stream time (samples) of utterance[0], or -1 outside an utterance. */
  private utteranceStart = -1;
  private utteranceLength = 0;
  private truncated = false;

  private readonly listener: UtteranceListener;

  constructor(options: { silenceMs: number }, listener: UtteranceListener) {
    this.listener = listener;
    this.vad = new VoiceActivityDetector({ sampleRate: CAPTURE_RATE, silenceMs: options.silenceMs });
  }

  /** true from the detector's speech onset until the utterance it starts has been handed over */
  get speaking(): boolean {
    return this.utteranceStart >= 0;
  }

  push(mulaw: Uint8Array): void {
    for (let i = 0; i < mulaw.length; i++) {
      this.frame[this.frameFill++] = decodeSample(mulaw[i] as number);
      if (this.frameFill === FRAME_SAMPLES) {
        this.frameFill = 0;
        this.analyse(this.frame);
      }
    }
  }

  private analyse(frame: Int16Array): void {
    const at = this.clock;
    this.ring.set(frame, at % RING_SAMPLES);
    this.clock += frame.length;
    if (this.utteranceStart >= 0) this.append(frame);
    for (const event of this.vad.push(frame)) {
      if (event.type === "speech_start") {
        this.begin(samplesOf(event.atMs));
        this.listener.speechStarted();
      } else {
        this.listener.utterance(this.finish(samplesOf(event.atMs), event.durationMs));
      }
    }
    if (this.vad.speaking) this.listener.speechContinues(this.vad.speechMs);
  }

  /** Start an utterance from the ring: the pre-roll before `onset` up to now. */
  private begin(onset: number): void {
    const start = Math.max(0, onset - samplesOf(PREROLL_MS), this.clock - RING_SAMPLES);
    this.utterance ??= new Int16Array(INITIAL_UTTERANCE_SAMPLES);
    this.utteranceStart = start;
    this.truncated = false;
    // The ring is written in FRAME_SAMPLES blocks and RING_SAMPLES is a multiple of that, so
    // the range wraps at most once.
    const from = start % RING_SAMPLES;
    const count = this.clock - start;
    const first = Math.min(count, RING_SAMPLES - from);
    this.utterance.set(this.ring.subarray(from, from + first), 0);
    this.utterance.set(this.ring.subarray(0, count - first), first);
    this.utteranceLength = count;
  }

  private append(frame: Int16Array): void {
    const needed = this.utteranceLength + frame.length;
    if (needed > samplesOf(MAX_UTTERANCE_MS)) {
      this.truncated = true;
      return;
    }
    let buffer = this.utterance as Int16Array;
    if (needed > buffer.length) {
      const grown = new Int16Array(Math.min(buffer.length * 2, samplesOf(MAX_UTTERANCE_MS)));
      grown.set(buffer.subarray(0, this.utteranceLength));
      buffer = grown;
      this.utterance = grown;
    }
    buffer.set(frame, this.utteranceLength);
    this.utteranceLength = needed;
  }

  private finish(lastVoiced: number, durationMs: number): CapturedUtterance {
    const end = Math.min(this.utteranceLength, lastVoiced + samplesOf(TAIL_MS) - this.utteranceStart);
    const wav = encodeWav((this.utterance as Int16Array).subarray(0, end), CAPTURE_RATE);
    const utterance = { wav, durationMs, truncated: this.truncated };
    this.utteranceStart = -1;
    this.utteranceLength = 0;
    return utterance;
  }
}
