import type { ConfigSource } from "../config/resolver.ts";
import type { NumberRule } from "../twilio/call-number.ts";
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

export interface TurnRecord {
  seq: number;
  at: string;
  outcome: "reply" | "silence" | "failed";
  transcript: string | null;
  reply: string | null;
  failed_stage?: string;
  timings: TurnTimings | RealtimeTimings;
  /** stream mode: the caller barged in and heard only `reply` */
  interrupted?: boolean;
}

export type EndReason =
  | "completed"
  | "busy"
  | "failed"
  | "no-answer"
  | "canceled"
  | "max_duration"
  | "silence"
  | "errors"
  | "stream_closed"
  | "abandoned"
  | "rejected"
  | "forwarded";

export interface CallSummary {
  call_sid: string;
  from: string;
  to: string;
  display_name: string;
  config_version: number;
  config_source: ConfigSource;
  uses_defaults: boolean;
  mode: "turns" | "stream";
  status: "in_progress" | "ended";
  started_at: string;
  ended_at: string | null;
  duration_seconds: number | null;
  end_reason: EndReason | null;
  turns: TurnRecord[];
  /** How the call was routed (issue 10; absent from calls logged before it). */
  number_rule?: NumberRule;
  variant?: string | null;
  rule?: string | null;
  after_hours?: boolean;
  /** a forwarded call: the number it was forwarded to */
  forwarded_to?: string;
  /** a forwarded call: Twilio's DialCallStatus once the dialled leg ended */
  forward_status?: string;
}
