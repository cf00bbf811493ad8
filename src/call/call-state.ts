import type { CallConfig } from "../config/defaults.ts";
import type { ConfigSource } from "../config/resolver.ts";
import type { MediaStreamState } from "../conversation/media-stream-session.ts";
import type { ChatMessage } from "../providers/types.ts";
import type { RecordingState } from "./recording.ts";
import type { CallReply } from "./reply.ts";
import type { CallRouting, EndReason, TurnRecord } from "./summary.ts";

/**
 * What a CallSession keeps in its storage for the life of one call: the shell and the mode
 * modules (turns-mode.ts, the Media Stream adapter) read and update it, the shell persists it.
 */

export interface StartInput {
  callSid: string;
  /** the signed webhook's AccountSid: REST calls use it when TWILIO_ACCOUNT_SID is not set */
  accountSid: string;
  from: string;
  to: string;
  config: CallConfig;
  configSource: ConfigSource;
  mode: CallConfig["conversation_mode"];
  publicBaseUrl: string;
  /** how the call was routed; its summary and log lines carry it */
  routing?: CallRouting;
  /**
   * When the voice webhook answered (ms since the epoch): the call's start, from which
   * max_call_duration and the recording are timed, however late the session itself is created.
   */
  answeredAt: number;
  /** where the caller is: a phone call through Twilio, or the console's browser test call (absent: phone) */
  channel?: CallChannel;
}

export type CallChannel = "phone" | "web";

export interface CallState extends StartInput {
  /** ms since the epoch */
  startedAt: number;
  /** ms since the epoch: max_call_duration after the start */
  deadlineAt: number;
  /** consecutive turns with nothing said / with a failure */
  silences: number;
  failures: number;
  /** set when we ended the call ourselves; the status callback then finalises with it */
  endReason: EndReason | null;
  /** when to finalise even if Twilio's status callback never comes (ms since the epoch) */
  finalizeAt: number | null;
  recording: RecordingState;
  /** stream mode: the Media Stream this call's audio flows through, once it has started */
  stream: MediaStreamState;
  /** a transfer in progress: the turn whose tool asked for it, until Twilio reports the <Dial> outcome */
  transfer?: { seq: number; target: { name: string; to: string } } | null;
  /** stream mode: what the agent says first when the caller comes back from a failed transfer */
  resume?: string | null;
}

export interface StoredTurn {
  /** RecordingSid, "no-speech:<n>" or "stream:<seq>": a retried webhook finds its answer by it */
  key: string;
  record: TurnRecord;
  reply: CallReply;
  /** the turn's messages when tools ran (tool calls and results stay in the history) */
  messages?: ChatMessage[];
}

/** Turns in a row with nothing said, or with a failure, before the call says goodbye. */
export const MAX_SILENCES = 3;
export const MAX_FAILURES = 3;
/** The exchanges a new reply sees: the last dozen, in every mode. */
const HISTORY_TURNS = 12;

/** The conversation so far as chat messages, oldest first (answered turns only). */
export function historyOf(turns: readonly StoredTurn[]): ChatMessage[] {
  return turns
    .filter((t) => t.messages || (t.record.outcome === "reply" && t.record.transcript && t.record.reply))
    .slice(-HISTORY_TURNS)
    .flatMap(
      (t): ChatMessage[] =>
        t.messages ?? [
          { role: "user", content: t.record.transcript as string },
          { role: "assistant", content: t.record.reply as string },
        ],
    );
}
