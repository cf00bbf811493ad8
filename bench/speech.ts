import { readFileSync } from "node:fs";
import { mulawToPcm16 } from "../src/audio/mulaw.ts";
import { VoiceActivityDetector } from "../src/audio/vad.ts";
import { FRAME_MS, mulawFrames, SILENT_FRAME } from "./stream-frames.ts";

/**
 * The caller's utterance for Media Streams calls: the speech fixture (test/fixtures/audio/
 * hello.wav.bin, "Hello, can you hear me?") as μ-law frames followed by silence, and the frame
 * at which the Worker's voice activity detector ends the utterance. That frame is found by
 * running the same detector, with the number's end_of_speech_ms, over the same μ-law audio, so
 * "end of speech" is the detector's own, not a guess.
 */

export interface Utterance {
  frames: Uint8Array[];
  /** index in `frames` of the frame after which the detector reports the end of speech */
  endFrame: number;
  /** end of the last voiced frame, ms from the utterance's first frame */
  speechEndMs: number;
}

/** Silence before the speech in the detector run, as on a call the caller has been quiet first. */
const LEAD_IN_FRAMES = 50;

export function speechUtterance(endOfSpeechMs: number): Utterance {
  const fixture = readFileSync(new URL("../test/fixtures/audio/hello.wav.bin", import.meta.url));
  const trailing = Math.ceil(endOfSpeechMs / FRAME_MS) + 10;
  const frames = [...mulawFrames(fixture), ...Array.from({ length: trailing }, () => SILENT_FRAME)];
  const vad = new VoiceActivityDetector({ sampleRate: 8000, silenceMs: endOfSpeechMs });
  const events: { type: string; frame: number; atMs: number }[] = [];
  const run = [...Array.from({ length: LEAD_IN_FRAMES }, () => SILENT_FRAME), ...frames];
  run.forEach((frame, i) => {
    for (const event of vad.push(mulawToPcm16(frame)))
      events.push({ type: event.type, frame: i - LEAD_IN_FRAMES, atMs: event.atMs });
  });
  const [start, end] = events;
  if (events.length !== 2 || start?.type !== "speech_start" || end?.type !== "speech_end") {
    throw new Error(
      `the speech fixture should be one utterance, the detector saw: ${JSON.stringify(events)}`,
    );
  }
  return { frames, endFrame: end.frame, speechEndMs: end.atMs - LEAD_IN_FRAMES * FRAME_MS };
}
