import { FRAME_BYTES, FRAME_MS, MULAW_SILENCE } from "../audio/telephony.ts";
import { MulawFramer } from "../call/mulaw-framer.ts";
import type { CallConfig } from "../config/defaults.ts";
import { type TextToSpeech, TTS_PCM_RATE } from "../providers/types.ts";
import type { OutboundAudio } from "./engine.ts";
import type { Reached, Turn } from "./pipeline-turn.ts";

/**
 * What the stream pipeline's caller hears: text-to-speech as 20 ms frames of 8 kHz μ-law, each
 * piece followed by a mark, and the marks sent and not yet echoed, in order (Twilio plays in
 * order, so an echoed mark means everything before it was heard).
 */

/**
 * The start of each speech is held until the line has this much audio ahead of the caller
 * (what Twilio still has to play, plus the frames held), or until the speech ends; the held
 * frames then go out at once, and the rest of the speech as the framer makes it. Twilio plays
 * what it has and fills any gap with silence, so the next piece of audio must reach it before
 * what it holds has played. On a quiet line the first TTS chunk alone (100 ms in the bench's
 * fake) gave the Worker that long to read the next, which calls replying at the same moment
 * took from it (late frames in `bench/voice.ts`); the hold gives it 200 ms. It costs a reply's
 * first frame the time the TTS takes to deliver 200 ms after its first chunk; speech that
 * follows audio with 200 ms still to play is not held at all.
 */
const PREFILL_MS = 200;

/**
 * Resolves when `previous` settles (it never rejects: the chain is built from allSettled), or
 * rejects with the signal's reason as soon as it aborts: a speech cancelled while it waits its
 * turn (a barge-in) does not wait for the one ahead.
 */
function afterOrAborted(previous: Promise<void>, signal: AbortSignal): Promise<void> {
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise((resolve, reject) => {
    const abort = () => reject(signal.reason);
    signal.addEventListener("abort", abort, { once: true });
    previous.then(() => {
      signal.removeEventListener("abort", abort);
      resolve();
    });
  });
}

export interface Mark {
  name: string;
  /** the turn whose audio this mark closes, if any */
  turn?: Turn;
  /** when it comes back, this many of the turn's sentences have been heard */
  heard?: number;
}

export interface SpeakerDeps {
  tts: TextToSpeech;
  config: Pick<CallConfig, "tts_model" | "tts_voice">;
  now(): number;
  /** toward the caller (the engine's send: it stops the call if the socket is gone) */
  send(out: OutboundAudio): void;
}

export class PipelineSpeaker {
  private readonly deps: SpeakerDeps;
  private readonly framer: MulawFramer;
  /** marks sent and not yet echoed, in the order sent */
  private readonly marks: Mark[] = [];
  /** this speech's frames held until the line is PREFILL_MS ahead; null once released */
  private held: Uint8Array[] | null = null;
  /** frames the current `speak` has sent */
  private sent = 0;
  /**
   * When the audio sent so far will have played (deps.now() ms), reckoned as Twilio plays it: as
   * soon as it arrives, 20 ms a frame. Marks tell the same later, once echoed.
   */
  private playsUntil = 0;
  /** the last speech asked for: speeches run one at a time, since they share the framer and the line */
  private lastSpeech: Promise<void> = Promise.resolve();

  constructor(deps: SpeakerDeps) {
    this.deps = deps;
    this.framer = new MulawFramer(TTS_PCM_RATE, (frame) => this.frame(frame));
  }

  /** true while audio has been sent whose marks have not all come back */
  get playing(): boolean {
    return this.marks.length > 0;
  }

  /**
   * Synthesize `text` and send it as frames, then `mark`. Throws if the provider fails (the
   * audio received so far is sent, then a mark, which counts nothing as heard) or the signal
   * aborts (nothing more is sent, held frames included). `reached` gets the first audio and
   * first frame times. Speeches run one at a time, in the order asked for (a transfer's refusal
   * can be asked for while a turn speaks).
   */
  speak(text: string, mark: Mark, signal: AbortSignal, reached?: Reached): Promise<void> {
    const previous = this.lastSpeech;
    const speech = afterOrAborted(previous, signal).then(() => this.speakNow(text, mark, signal, reached));
    // The chain only orders speeches (the next waits for both); each caller gets its own outcome.
    this.lastSpeech = Promise.allSettled([previous, speech]).then(() => undefined);
    return speech;
  }

  private async speakNow(text: string, mark: Mark, signal: AbortSignal, reached?: Reached): Promise<void> {
    signal.throwIfAborted();
    let complete = false;
    this.held = [];
    this.sent = 0;
    try {
      const audio = this.deps.tts.synthesizeStream({
        text,
        model: this.deps.config.tts_model,
        voice: this.deps.config.tts_voice,
        format: "pcm",
        signal,
      });
      for await (const chunk of audio) {
        signal.throwIfAborted();
        if (reached) reached.firstAudio ??= this.deps.now();
        this.framer.push(chunk);
        if (this.sent > 0 && reached) reached.firstFrame ??= this.deps.now();
      }
      signal.throwIfAborted();
      complete = true;
    } finally {
      if (signal.aborted) {
        this.framer.discard();
        this.held = null;
      } else {
        this.framer.end();
        this.release();
        if (this.sent > 0 && reached) reached.firstFrame ??= this.deps.now();
        if (complete) this.addMark(mark);
        // Audio cut short still gets a mark, so `speaking` lasts while it plays; it counts nothing as heard.
        else if (this.sent > 0) this.addMark({ name: mark.name, ...(mark.turn && { turn: mark.turn }) });
      }
    }
  }

  /**
   * Pre-rendered 8 kHz μ-law audio (the cached greeting) as frames, then `mark`. Frames are
   * views of `mulaw` except the padded last one.
   */
  play(mulaw: Uint8Array, mark: Mark): void {
    for (let at = 0; at < mulaw.length; at += FRAME_BYTES) {
      let frame = mulaw.subarray(at, at + FRAME_BYTES);
      if (frame.length < FRAME_BYTES) {
        const padded = new Uint8Array(FRAME_BYTES).fill(MULAW_SILENCE);
        padded.set(frame);
        frame = padded;
      }
      this.transmit(frame);
    }
    this.addMark(mark);
  }

  /**
   * The mark `name` came back: it and every mark sent before it, in order. Empty when it is not
   * outstanding (a mark dropped by a clear, which Twilio echoes too, or not one of ours).
   */
  played(name: string): Mark[] {
    const index = this.marks.findIndex((mark) => mark.name === name);
    return index < 0 ? [] : this.marks.splice(0, index + 1);
  }

  /**
   * Forget the outstanding marks and what Twilio had to play: after a clear (their echoes must
   * not count as heard, and the line is quiet) or the end.
   */
  forget(): void {
    this.marks.length = 0;
    this.playsUntil = 0;
  }

  /** One 20 ms frame of the speech: held until the line would be PREFILL_MS ahead, then sent. */
  private frame(mulaw: Uint8Array): void {
    if (!this.held) {
      this.transmitSpeech(mulaw);
      return;
    }
    this.held.push(mulaw);
    const ahead = Math.max(0, this.playsUntil - this.deps.now()) + this.held.length * FRAME_MS;
    if (ahead >= PREFILL_MS) this.release();
  }

  /** Send the held frames (the line is far enough ahead, or the speech ended short of it). */
  private release(): void {
    const held = this.held;
    this.held = null;
    for (const mulaw of held ?? []) this.transmitSpeech(mulaw);
  }

  /** A frame of the current speech, counted as sent by it. */
  private transmitSpeech(mulaw: Uint8Array): void {
    this.transmit(mulaw);
    this.sent += 1;
  }

  private transmit(mulaw: Uint8Array): void {
    this.deps.send({ kind: "media", mulaw });
    this.playsUntil = Math.max(this.playsUntil, this.deps.now()) + FRAME_MS;
  }

  private addMark(mark: Mark): void {
    this.marks.push(mark);
    if (mark.turn) mark.turn.marksOut += 1;
    this.deps.send({ kind: "mark", name: mark.name });
  }
}
