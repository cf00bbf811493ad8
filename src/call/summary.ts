import type { CallConfig } from "../config/defaults.ts";
import type { ConfigSource } from "../config/resolver.ts";
import type { ToolCallRecord } from "../conversation/tools/index.ts";
import type { NumberRule } from "../twilio/call-number.ts";
import { FINAL_CALL_STATUSES } from "../twilio/webhook.ts";
import type { CallChannel, CallState, StoredTurn } from "./call-state.ts";
import type { TurnTimings } from "./turn.ts";

/**
 * What a call leaves behind for `/admin/calls`: who called which number, which config
 * version answered, each turn with its transcript and timings, and how it ended.
 */
export interface RealtimeTimings {
  /** end of caller speech → transcript */
  transcript_ms: number;
  /** end of caller speech → first LLM token */
  first_token_ms: number;
  /** end of caller speech → first TTS byte */
  first_audio_ms: number;
  /** end of caller speech → first frame sent to Twilio */
  first_frame_ms: number;
}

/** Realtime mode (speech to speech): when the server's VAD heard the end of speech, then our own clock. */
export interface SpeechToSpeechTimings {
  /** where the caller's speech ended, in ms of the caller's audio since the stream began (the server's figure) */
  speech_stopped_ms: number;
  /** `speech_stopped` received → first audio delta of the answer */
  first_audio_delta_ms: number;
  /** `speech_stopped` received → first frame sent to Twilio */
  first_frame_ms: number;
}

export interface TurnRecord {
  seq: number;
  at: string;
  outcome: "reply" | "silence" | "failed";
  transcript: string | null;
  reply: string | null;
  failed_stage?: string;
  timings: TurnTimings | RealtimeTimings | SpeechToSpeechTimings;
  /** stream and realtime modes: the caller barged in and heard only `reply` */
  interrupted?: boolean;
  /** the tools the model called during the turn, in order */
  tools?: ToolCallRecord[];
}

/**
 * Every way a call can end: Twilio's final call statuses, then why we ended it ourselves. The one
 * list that analytics' `fill=true`, the console's filter and `EndReason` are all derived from.
 */
export const END_REASONS = [
  ...FINAL_CALL_STATUSES,
  "max_duration",
  "silence",
  "errors",
  "stream_closed",
  "abandoned",
  "rejected",
  "forwarded",
  /** the model ended the call (end_call tool) */
  "agent_hangup",
  /** the caller was connected to a transfer target, and that call ended */
  "transferred",
  /** the call's session could not be stored: the caller heard an apology and was hung up on */
  "start_failed",
] as const;

/** Twilio's final call status, or why we ended the call ourselves. */
export type EndReason = (typeof END_REASONS)[number];

/** How a call was routed: which rule found its number, and what routing picked (config/routing.ts). */
export interface CallRouting {
  number_rule: NumberRule;
  variant: string | null;
  rule: string | null;
  after_hours: boolean;
}

export interface CallSummary {
  call_sid: string;
  from: string;
  to: string;
  display_name: string;
  config_version: number;
  config_source: ConfigSource;
  uses_defaults: boolean;
  mode: CallConfig["conversation_mode"];
  /** a phone call through Twilio, or a test call from the console's browser */
  channel: CallChannel;
  status: "in_progress" | "ended";
  started_at: string;
  ended_at: string | null;
  duration_seconds: number | null;
  end_reason: EndReason | null;
  /** Twilio's RecordingSid when the call was recorded (enable_recording) */
  recording_sid: string | null;
  turns: TurnRecord[];
  /** How the call was routed (absent from calls logged before routing existed). */
  number_rule?: NumberRule;
  variant?: string | null;
  rule?: string | null;
  after_hours?: boolean;
  /** a forwarded call: the number it was forwarded to */
  forwarded_to?: string;
  /** a forwarded call: Twilio's DialCallStatus once the dialled leg ended */
  forward_status?: string;
}

/** The call as its summary: in progress while `reason` is null. `durationSeconds`: Twilio's figure, if any. */
export function summarize(
  state: CallState,
  turns: readonly StoredTurn[],
  reason: EndReason | null,
  durationSeconds: number | undefined,
): CallSummary {
  const ended = reason !== null;
  return {
    call_sid: state.callSid,
    from: state.from,
    to: state.to,
    display_name: state.config.display_name,
    config_version: state.config.version,
    config_source: state.configSource,
    uses_defaults: state.config.uses_defaults,
    mode: state.mode,
    channel: state.channel ?? "phone",
    status: ended ? "ended" : "in_progress",
    started_at: new Date(state.startedAt).toISOString(),
    ended_at: ended ? new Date().toISOString() : null,
    duration_seconds: ended ? (durationSeconds ?? Math.round((Date.now() - state.startedAt) / 1000)) : null,
    end_reason: reason,
    recording_sid: state.recording.sid ?? null,
    turns: turns.map((t) => t.record),
    ...state.routing,
  };
}
