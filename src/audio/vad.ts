/**
 * Energy-based voice activity detection with endpointing, for the caller's side of a Media
 * Stream (8 kHz PCM16, 20 ms frames). A frame is voiced when its level is both above an
 * absolute minimum and well above an adaptive noise floor. An utterance starts once
 * `minSpeechMs` of voiced audio has accumulated (so clicks and short bursts are ignored) and
 * ends after `silenceMs` without a voiced frame; pauses shorter than that (the hangover)
 * stay inside the utterance.
 */

export type VadEvent =
  /** `atMs`: start of the utterance's first voiced frame, in stream time. */
  | { type: "speech_start"; atMs: number }
  /** `atMs`: end of its last voiced frame; emitted `silenceMs` later. */
  | { type: "speech_end"; atMs: number; durationMs: number };

export interface VadOptions {
  /** Input sample rate (Hz). */
  sampleRate: number;
  /** Silence that ends an utterance: the per-number `end_of_speech_ms`. */
  silenceMs: number;
  /** Voiced audio needed before an utterance counts as started. */
  minSpeechMs: number;
  /** How far above the noise floor a frame must be to count as voiced. */
  thresholdDb: number;
  /** Frames quieter than this (dBFS) are never voiced, whatever the noise floor. */
  minLevelDb: number;
}

export const DEFAULT_VAD_OPTIONS: Readonly<VadOptions> = {
  sampleRate: 8000,
  silenceMs: 700,
  minSpeechMs: 100,
  thresholdDb: 10,
  minLevelDb: -50,
};

/**
 * Noise-floor time constants. It falls fast, so it finds the floor in the gaps between words;
 * it rises slowly, so speech does not drag it up; and it still rises on voiced frames, so a
 * lasting step in background noise is absorbed within seconds instead of being speech forever.
 */
const FLOOR_FALL_TAU_MS = 100;
const FLOOR_RISE_TAU_MS = 1000;
const FLOOR_RISE_VOICED_TAU_MS = 4000;
/**
 * Speech rises and falls with its syllables; a level that stays within STEADY_RANGE_DB for
 * STEADY_FRAMES frames (400 ms of 20 ms frames) is background noise that stepped up (a car, a
 * street), so the floor moves up to it quickly instead of making it one long utterance.
 */
const STEADY_FRAMES = 20;
const STEADY_RANGE_DB = 3;
const FLOOR_RISE_STEADY_TAU_MS = 100;
/** A pending onset is dropped after a gap this long between voiced frames. */
const ONSET_GAP_MS = 40;
/** Level of digital silence, so log10 never sees 0. */
const SILENCE_DB = -100;

/** Returned when a frame changes nothing, so the common case allocates nothing. */
const NO_EVENTS: readonly VadEvent[] = Object.freeze([]);

export class VoiceActivityDetector {
  private readonly rate: number;
  private readonly silenceSamples: number;
  private readonly minSpeechSamples: number;
  private readonly onsetGapSamples: number;
  private readonly thresholdDb: number;
  private readonly minLevelDb: number;
  /** Lowest the floor may go, so digital silence does not make faint noise look like speech. */
  private readonly floorMinDb: number;

  /** Samples pushed so far: the stream clock. */
  private clock = 0;
  private floorDb: number | undefined;
  private inSpeech = false;
  /** Stream time (samples) at which the current utterance started. */
  private speechStart = 0;
  /** End of the most recent voiced frame. */
  private lastVoicedEnd = 0;
  /** Start of a possible utterance not yet long enough to count, or -1. */
  private onsetStart = -1;
  private onsetVoiced = 0;
  /** Levels of the last STEADY_FRAMES frames (a ring), to notice steady noise. */
  private readonly recentLevels = new Float32Array(STEADY_FRAMES);
  private recentCount = 0;

  constructor(options: Partial<VadOptions> = {}) {
    const o = { ...DEFAULT_VAD_OPTIONS, ...options };
    for (const [name, value] of Object.entries(o)) {
      if (!Number.isFinite(value)) throw new RangeError(`VAD option ${name} must be a finite number`);
    }
    if (o.sampleRate <= 0 || o.silenceMs <= 0 || o.minSpeechMs < 0) {
      throw new RangeError("VAD sampleRate and silenceMs must be positive, minSpeechMs not negative");
    }
    this.rate = o.sampleRate;
    this.silenceSamples = this.samples(o.silenceMs);
    this.minSpeechSamples = this.samples(o.minSpeechMs);
    this.onsetGapSamples = this.samples(ONSET_GAP_MS);
    this.thresholdDb = o.thresholdDb;
    this.minLevelDb = o.minLevelDb;
    this.floorMinDb = o.minLevelDb - o.thresholdDb;
  }

  /** Whether the caller is inside an utterance (from speech_start until its speech_end). */
  get speaking(): boolean {
    return this.inSpeech;
  }

  /**
   * How long the current utterance has lasted, from its start to its latest voiced frame
   * (trailing silence does not count); 0 outside an utterance. Barge-in compares this with
   * `interrupt_timeout`.
   */
  get speechMs(): number {
    return this.inSpeech ? this.ms(this.lastVoicedEnd - this.speechStart) : 0;
  }

  /** Stream time: duration of all audio pushed so far. */
  get nowMs(): number {
    return this.ms(this.clock);
  }

  /** Analyse the next frame (normally 20 ms); returns what changed, usually nothing. */
  push(frame: Int16Array): readonly VadEvent[] {
    if (frame.length === 0) return NO_EVENTS;
    const start = this.clock;
    const end = start + frame.length;
    this.clock = end;

    const level = levelDb(frame);
    this.recentLevels[this.recentCount % STEADY_FRAMES] = level;
    this.recentCount++;
    const floor = this.floorDb ?? Math.max(level, this.floorMinDb);
    const voiced = level >= this.minLevelDb && level >= floor + this.thresholdDb;
    this.floorDb = this.nextFloor(floor, level, voiced, frame.length);

    if (voiced) this.lastVoicedEnd = end;
    if (this.inSpeech) {
      if (voiced || end - this.lastVoicedEnd < this.silenceSamples) return NO_EVENTS;
      this.inSpeech = false;
      return [
        {
          type: "speech_end",
          atMs: this.ms(this.lastVoicedEnd),
          durationMs: this.ms(this.lastVoicedEnd - this.speechStart),
        },
      ];
    }
    if (!voiced) {
      if (this.onsetStart >= 0 && end - this.lastVoicedEnd > this.onsetGapSamples) this.onsetStart = -1;
      return NO_EVENTS;
    }
    if (this.onsetStart < 0) {
      this.onsetStart = start;
      this.onsetVoiced = 0;
    }
    this.onsetVoiced += frame.length;
    if (this.onsetVoiced < this.minSpeechSamples) return NO_EVENTS;
    this.inSpeech = true;
    this.speechStart = this.onsetStart;
    this.onsetStart = -1;
    return [{ type: "speech_start", atMs: this.ms(this.speechStart) }];
  }

  private nextFloor(floor: number, level: number, voiced: boolean, length: number): number {
    const tau =
      level < floor
        ? FLOOR_FALL_TAU_MS
        : this.levelIsSteady()
          ? FLOOR_RISE_STEADY_TAU_MS
          : voiced
            ? FLOOR_RISE_VOICED_TAU_MS
            : FLOOR_RISE_TAU_MS;
    const alpha = 1 - Math.exp(-this.ms(length) / tau);
    return Math.max(this.floorMinDb, floor + (level - floor) * alpha);
  }

  private levelIsSteady(): boolean {
    if (this.recentCount < STEADY_FRAMES) return false;
    let min = Number.POSITIVE_INFINITY;
    let max = Number.NEGATIVE_INFINITY;
    for (const level of this.recentLevels) {
      if (level < min) min = level;
      if (level > max) max = level;
    }
    return max - min < STEADY_RANGE_DB;
  }

  private samples(ms: number): number {
    return Math.round((ms * this.rate) / 1000);
  }

  private ms(samples: number): number {
    return (samples * 1000) / this.rate;
  }
}

/** Frame level in dBFS (mean power relative to a full-scale square wave). */
function levelDb(frame: Int16Array): number {
  let power = 0;
  for (let i = 0; i < frame.length; i++) {
    const s = frame[i] as number;
    power += s * s;
  }
  power /= frame.length * 32768 * 32768;
  return power > 0 ? Math.max(SILENCE_DB, 10 * Math.log10(power)) : SILENCE_DB;
}
