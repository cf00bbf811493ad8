import type { MulawAudio } from "../audio/mulaw-audio.ts";
import type { EndReason, TurnRecord } from "../call/summary.ts";
import type { CallConfig } from "../config/defaults.ts";
import type { ChatMessage } from "../providers/types.ts";
import type { ToolIntent } from "./tools/index.ts";

/**
 * The seam every conversation engine plugs into. A source of the caller's audio (Twilio's Media
 * Stream today, a browser test call tomorrow) feeds an engine 8 kHz μ-law and tells it which
 * marks have played; the engine answers with audio, marks and clears toward the caller, and with
 * turn records and end-of-call requests toward the call session. Engines never see a wire format.
 */

/** What an engine sends toward the caller; the source's adapter turns it into its own messages. */
export type OutboundAudio =
  /**
   * 8 kHz μ-law, played after what was sent before: the pipeline sends 20 ms frames (160 bytes,
   * src/audio/telephony.ts), the realtime engine each of the model's deltas as the base64 text it
   * arrived in (any whole number of bytes)
   */
  | { kind: "media"; mulaw: MulawAudio }
  /** echoed back through `markPlayed` once everything sent before it has played */
  | { kind: "mark"; name: string }
  /** drop all audio queued toward the caller and not yet played (barge-in) */
  | { kind: "clear" };

/** Where an engine's output goes. */
export interface EngineSink {
  /** Toward the caller. Throws if the transport is gone (the engine then stops). */
  send(out: OutboundAudio): void;
  /** A finished (or interrupted) turn, in seq order, for the call log and the history. */
  onTurn(turn: TurnRecord, messages: ChatMessage[]): void;
  /**
   * The engine cannot carry the call any further, or the model ended it (end_call, after its
   * last sentence played): say `goodbye` ("" for none) and end it with `reason`.
   */
  onEnd(request: { reason: EndReason; goodbye: string }): void;
  /**
   * A transfer's announcement has played: connect the caller to the target; turn `seq` asked.
   * Resolves false when Twilio did not move the call (it refused the update, or could not be
   * reached): the caller is still on this stream.
   */
  onTransfer(transfer: Extract<ToolIntent, { kind: "transfer" }>, seq: number): Promise<boolean>;
  /**
   * A turn still under way, for a live view (the console's test call): what the caller said as
   * soon as it is known, and the agent's reply so far. Its onTurn record, later, is what counts.
   */
  onProgress(progress: TurnProgress): void;
}

/** A turn before its record: `transcript` null until known; `reply` the agent's words so far ("" for none yet). */
export interface TurnProgress {
  seq: number;
  transcript: string | null;
  reply: string;
}

/** What an engine starts from: the call's config snapshot and the conversation so far. */
export interface EngineOptions {
  config: CallConfig;
  /** the conversation so far, oldest first, without the system prompt */
  history: ChatMessage[];
  /** seq of the first turn this engine records */
  nextSeq: number;
}

export interface ConversationEngine {
  /**
   * The caller's line has just opened: say the greeting. Resolves once it is on its way, or once
   * the engine has set it aside for a caller who spoke first (the pipeline's rule).
   */
  greet(): Promise<void>;
  /**
   * One inbound payload of 8 kHz μ-law (normally 160 bytes = 20 ms; any length is handled):
   * bytes, or base64 text as the Media Stream carried it, which an engine relaying base64 (the
   * realtime engine) passes on without decoding.
   */
  pushAudio(mulaw: MulawAudio): void;
  /** The mark of this name came back: the audio sent before it has been heard. */
  markPlayed(name: string): void;
  /** The call is over: abort work in flight and report what is left. Idempotent. */
  close(): void;
  /** Resolves when no work is in flight (graceful shutdown and tests). */
  idle(): Promise<void>;
}

/** Builds the engine for a call once its audio source is up (and again after an eviction). */
export type EngineFactory = (sink: Pick<EngineSink, "send">) => ConversationEngine;
