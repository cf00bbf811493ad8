import { splitText } from "../audio/sentences.ts";
import { decodeWav } from "../audio/wav.ts";
import type { CallConfig } from "../config/defaults.ts";
import {
  completeWithTools,
  intentSpeech,
  type ToolCallRecord,
  type ToolIntent,
  type ToolRunner,
} from "../conversation/tools/index.ts";
import { errorFields, type Logger } from "../log.ts";
import {
  type ChatMessage,
  type ChatModel,
  ProviderError,
  SPEECH_INPUT_MAX_CHARS,
  type SpeechToText,
  type TextToSpeech,
  TRANSCRIBE_MIN_AUDIO_MS,
} from "../providers/types.ts";
import type { Budget } from "./budget.ts";
import type { Speech } from "./reply.ts";

/**
 * One record→reply turn: the caller's recording → transcript (stt_model) → reply
 * (inference_model, system_prompt, history, temperature, max_tokens) → speech
 * (tts_model/tts_voice). The number's tools run between the model's rounds, before speech,
 * inside the same webhook budget. Failures are outcomes, not exceptions: the session turns each
 * into something the caller hears.
 */

export interface TurnTimings {
  recording_ms: number;
  stt_ms: number;
  llm_ms: number;
  tts_ms: number;
  total_ms: number;
}

/** What the tools added to a replied turn (absent when the model called none). */
export interface TurnTools {
  /** the tool rounds' messages, for the history */
  rounds: ChatMessage[];
  /** the reply after the last round (the history's final assistant message) */
  finalText: string;
  records: ToolCallRecord[];
  intent: ToolIntent | null;
}

export type TurnOutcome =
  | {
      kind: "reply";
      transcript: string;
      /** what the caller hears: the model's words (then a transfer's announcement) */
      reply: string;
      /** the reply in pieces a speech request accepts; a piece whose synthesis failed has no audio */
      speech: Speech[];
      timings: TurnTimings;
      tools?: TurnTools;
    }
  | { kind: "silence"; timings: TurnTimings }
  | { kind: "failed"; stage: "recording" | "stt" | "llm"; transcript?: string; timings: TurnTimings };

export interface TurnDeps {
  stt: SpeechToText;
  llm: ChatModel;
  tts: TextToSpeech;
  fetchRecording(retryUntil: number): Promise<{ bytes: Uint8Array; contentType: string }>;
  storeAudio(audio: Uint8Array): Promise<string>;
  /** the number's tools (absent or empty: the model can only talk) */
  tools?: ToolRunner | null;
  now: () => number;
}

export interface TurnInput {
  config: CallConfig;
  /** Twilio's RecordingDuration (whole seconds), when it sent one: 0 means nothing was recorded */
  recordingSeconds?: number;
  history: ChatMessage[];
  budget: Budget;
  /** the turn's logger (call_sid, seq) */
  log: Logger;
}

/** Transcripts of noise come back as punctuation or nothing at all. */
export function isSilence(transcript: string): boolean {
  return !/[\p{L}\p{N}]/u.test(transcript);
}

export async function runTurn(deps: TurnDeps, input: TurnInput): Promise<TurnOutcome> {
  const { config, budget, log } = input;
  const started = deps.now();
  const timings: TurnTimings = { recording_ms: 0, stt_ms: 0, llm_ms: 0, tts_ms: 0, total_ms: 0 };
  const timed = async <T>(
    key: Exclude<keyof TurnTimings, "total_ms">,
    work: () => Promise<T>,
  ): Promise<T> => {
    const t0 = deps.now();
    try {
      return await work();
    } finally {
      timings[key] = deps.now() - t0;
      timings.total_ms = deps.now() - started;
    }
  };
  const failed = (stage: "recording" | "stt" | "llm", err: unknown, transcript?: string): TurnOutcome => {
    log.warn("turn_step_failed", { stage, ...errorFields(err) });
    return { kind: "failed", stage, ...(transcript !== undefined && { transcript }), timings };
  };

  // Twilio reports whole seconds, and 0 when next to nothing was recorded (often under the 0.1 s
  // speech-to-text refuses): no download, no transcription, silence.
  if (input.recordingSeconds === 0) return { kind: "silence", timings };

  let recording: { bytes: Uint8Array; contentType: string };
  try {
    // Twilio may call back before the file is ready; keep ~8 s for the steps after this one.
    recording = await timed("recording_ms", () =>
      deps.fetchRecording(deps.now() + budget.sliceMs(4000, 8000)),
    );
  } catch (err) {
    return failed("recording", err);
  }

  const ms = durationMs(recording.bytes);
  if (ms !== null && ms < TRANSCRIBE_MIN_AUDIO_MS) {
    log.info("turn_recording_too_short", { duration_ms: ms });
    return { kind: "silence", timings };
  }

  let transcript: string;
  try {
    const result = await timed("stt_ms", () =>
      deps.stt.transcribe(
        { data: recording.bytes, contentType: recording.contentType, filename: "turn.wav" },
        { model: config.stt_model, signal: budget.signal(5000, 5000) },
      ),
    );
    transcript = result.text.trim();
  } catch (err) {
    // Audio we could not measure (not WAV) that the provider found too short: silence too.
    if (err instanceof ProviderError && err.kind === "audio_too_short") return { kind: "silence", timings };
    return failed("stt", err);
  }
  if (isSilence(transcript)) return { kind: "silence", timings };

  let reply: string;
  let tools: TurnTools | undefined;
  try {
    const result = await timed("llm_ms", () =>
      completeWithTools(
        deps.llm,
        {
          model: config.inference_model,
          messages: [
            { role: "system", content: config.system_prompt },
            ...input.history,
            { role: "user", content: transcript },
          ],
          temperature: config.temperature,
          maxTokens: config.max_tokens,
        },
        deps.tools,
        {
          llmSignal: () => budget.signal(6000, 2000),
          // A tool may use what is left once a last model round and speech are kept back.
          toolSignal: () => budget.signal(10_000, 3500),
        },
      ),
    );
    if (result.tools.length > 0) {
      tools = {
        rounds: result.rounds,
        finalText: result.finalText,
        records: result.tools,
        intent: result.intent,
      };
    }
    reply = spokenReply(result.text, result.intent);
    if (!reply) throw new Error("the model returned an empty reply");
  } catch (err) {
    return failed("llm", err, transcript);
  }

  // A long reply is several speech requests (each under the provider's limit), run side by side.
  const speech = await timed("tts_ms", () =>
    Promise.all(
      splitText(reply, SPEECH_INPUT_MAX_CHARS).map(async (text): Promise<Speech> => {
        try {
          const audio = await deps.tts.synthesize({
            text,
            model: config.tts_model,
            voice: config.tts_voice,
            format: "mp3",
            signal: budget.signal(4500, 300),
          });
          return { text, audioId: await deps.storeAudio(audio) };
        } catch (err) {
          // The caller still hears this piece, in Twilio's own voice.
          log.warn("turn_tts_fell_back_to_say", { chars: text.length, ...errorFields(err) });
          return { text, audioId: null };
        }
      }),
    ),
  );
  return { kind: "reply", transcript, reply, speech, timings, ...(tools && { tools }) };
}

/** The model's words, then what an intent adds: a transfer's announcement, a default goodbye. */
function spokenReply(text: string, intent: ToolIntent | null): string {
  return [text, intentSpeech(intent, text)].filter(Boolean).join(" ");
}

/** The length of a WAV recording in ms, or null when it is not a WAV this code can read. */
function durationMs(bytes: Uint8Array): number | null {
  try {
    const wav = decodeWav(bytes);
    return (wav.samples.length / wav.channels / wav.sampleRate) * 1000;
  } catch {
    // Not a WAV (Twilio may serve mp3): speech-to-text is the judge of its length.
    return null;
  }
}
