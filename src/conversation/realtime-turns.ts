import type { TurnRecord } from "../call/summary.ts";
import type { ChatMessage } from "../providers/types.ts";
import type { ToolCallRecord, ToolIntent } from "./tools/index.ts";

/**
 * The realtime engine's turn bookkeeping: a caller utterance the server's VAD ended, the answer
 * to it, and the call-log record and history messages it becomes once settled.
 */

/** A caller utterance the server's VAD ended, and the answer to it. */
export interface RealtimeTurn {
  seq: number;
  at: string;
  userItemId: string;
  /** undefined until the transcription completes (null: it failed) */
  transcript: string | null | undefined;
  /** the engine's clock (ms) when the server said the speech stopped */
  speechStoppedAt: number;
  /** where the utterance ended in the caller's audio (ms since the stream began), from the server */
  speechStoppedMs: number;
  /** the tools the model called for this turn, and what to do once its answer has played */
  tools: ToolCallRecord[];
  intent: ToolIntent | null;
  firstDeltaAt?: number;
  firstFrameAt?: number;
  record?: TurnRecord;
  messages: ChatMessage[];
}

/**
 * A new turn for the user item `userItemId` whose speech stopped at `audioEndMs` (ms into the
 * caller's audio, from `input_audio_buffer.speech_stopped`), seen at `now` (the engine's clock, ms).
 */
export function newTurn(seq: number, userItemId: string, audioEndMs: number, now: number): RealtimeTurn {
  return {
    seq,
    at: new Date().toISOString(),
    userItemId,
    transcript: undefined,
    speechStoppedAt: now,
    speechStoppedMs: audioEndMs,
    tools: [],
    intent: null,
    messages: [],
  };
}

/** Gives an unsettled turn its record: the answer the caller heard (`reply`), cut short or not. */
export function settleTurn(turn: RealtimeTurn, reply: string, interrupted: boolean): void {
  if (turn.record) return;
  turn.record = turnRecord(turn, { outcome: "reply", reply, ...(interrupted && { interrupted }) });
}

/**
 * The turn's call-log record; sets `turn.messages` to its history (the caller's words and the
 * reply, none for a failed turn). Timings are ms from the speech stopping (0 if never reached).
 */
export function turnRecord(
  turn: RealtimeTurn,
  result: Pick<TurnRecord, "outcome" | "reply" | "failed_stage" | "interrupted">,
): TurnRecord {
  const since = (at: number | undefined) => (at === undefined ? 0 : Math.max(0, at - turn.speechStoppedAt));
  turn.messages = result.outcome === "reply" ? exchange(turn.transcript ?? null, result.reply) : [];
  return {
    seq: turn.seq,
    at: turn.at,
    outcome: result.outcome,
    transcript: turn.transcript ?? null,
    reply: result.reply,
    ...(result.failed_stage !== undefined && { failed_stage: result.failed_stage }),
    ...(turn.tools.length > 0 && { tools: turn.tools }),
    timings: {
      speech_stopped_ms: turn.speechStoppedMs,
      first_audio_delta_ms: since(turn.firstDeltaAt),
      first_frame_ms: since(turn.firstFrameAt),
    },
    ...(result.interrupted && { interrupted: true }),
  };
}

/** The history messages of one exchange: the caller's words and the reply, each if non-empty. */
export function exchange(transcript: string | null, reply: string | null): ChatMessage[] {
  const messages: ChatMessage[] = [];
  if (transcript) messages.push({ role: "user", content: transcript });
  if (reply) messages.push({ role: "assistant", content: reply });
  return messages;
}
