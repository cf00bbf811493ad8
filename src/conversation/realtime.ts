import type { RealtimeClientEvent, RealtimeServerEvent } from "openai/resources/realtime/realtime";
import { asBase64Mulaw, type MulawAudio, mulawBase64 } from "../audio/mulaw-audio.ts";
import type { CallConfig } from "../config/defaults.ts";
import { errorFields, type Logger } from "../log.ts";
import type { RealtimeConnection, RealtimeHandlers } from "../providers/openai-realtime.ts";
import type { ChatMessage } from "../providers/types.ts";
import type { ConversationEngine, EngineOptions, EngineSink } from "./engine.ts";
import { heardPart, RealtimePlayback } from "./realtime-playback.ts";
import { historyItems, realtimeSession } from "./realtime-session.ts";
import { type RealtimeTools, runToolCalls } from "./realtime-tools.ts";
import { exchange, newTurn, type RealtimeTurn, settleTurn, turnRecord } from "./realtime-turns.ts";
import { carryOutIntent, type ToolIntent } from "./tools/index.ts";

/**
 * The realtime engine (conversation_mode "realtime"): the caller's μ-law goes to OpenAI's
 * Realtime API as it is (`audio/pcmu` both ways, no decoding or resampling; the base64 text of
 * Twilio's payload becomes the append's audio unchanged), and the model's μ-law deltas go back
 * to the caller the same way, byte for byte. The server's VAD finds
 * the turns; marks after each audio delta tell how much of the answer the caller has heard, so a
 * barge-in clears the caller's queue, cancels the response and truncates the item at exactly
 * the milliseconds heard. A socket that won't open, a refused session, a greeting that does not
 * start, or a socket that drops: the engine reports what it has and calls `onFailure`, and the
 * call carries on with the pipeline (conversation/fallback.ts).
 */

/** The Realtime socket must be open within this, or the call falls back to the pipeline. */
export const REALTIME_OPEN_TIMEOUT_MS = 3000;
/** The greeting's first audio must arrive within this of the stream starting (issue 12). */
export const GREETING_START_TIMEOUT_MS = 3000;
/** Caller audio kept while the socket opens: the open limit's worth of 20 ms frames. */
const MAX_BUFFERED_FRAMES = REALTIME_OPEN_TIMEOUT_MS / 20;

export interface RealtimeEngineDeps
  extends Pick<EngineSink, "send" | "onTurn">,
    Partial<Pick<EngineSink, "onEnd" | "onTransfer" | "onProgress">> {
  /** Opens the Realtime socket (providers/openai-realtime.ts), aborted by `signal`. */
  connect(handlers: RealtimeHandlers, signal: AbortSignal): Promise<RealtimeConnection>;
  /** The engine cannot carry the call: it has reported its turns and stopped. */
  onFailure(reason: RealtimeFailure, err?: unknown): void;
  tools?: RealtimeTools;
  now(): number;
  /** the call's logger, with the stream's stream_sid */
  log: Logger;
}

export type RealtimeFailure = "connect_failed" | "session_refused" | "greeting_timeout" | "socket_dropped";

export class RealtimeEngine implements ConversationEngine {
  private readonly deps: RealtimeEngineDeps;
  private readonly config: CallConfig;
  private readonly history: ChatMessage[];
  private nextSeq: number;
  private conn: RealtimeConnection | null = null;
  private readonly opening: Promise<void>;
  private readonly buffered: MulawAudio[] = [];
  private stopped = false;
  private readonly turns: RealtimeTurn[] = [];
  /** turns (or the greeting) waiting for their response, oldest first */
  private readonly awaiting: Array<RealtimeTurn | "greeting"> = [];
  private response: { id: string; owner: RealtimeTurn | null; active: boolean } | null = null;
  private readonly playback: RealtimePlayback<RealtimeTurn | null>;
  private greetingTimer: ReturnType<typeof setTimeout> | undefined;
  private respondWhenDone = false;

  constructor(deps: RealtimeEngineDeps, options: EngineOptions) {
    this.deps = deps;
    this.config = options.config;
    this.history = options.history;
    this.nextSeq = options.nextSeq;
    this.playback = new RealtimePlayback<RealtimeTurn | null>(deps.send, (item) => {
      if (item.owner) item.owner.firstFrameAt ??= this.deps.now();
    });
    this.opening = this.open();
  }

  async greet(): Promise<void> {
    this.greetingTimer = setTimeout(() => this.fail("greeting_timeout"), GREETING_START_TIMEOUT_MS);
    await this.opening;
    if (this.stopped) return;
    this.awaiting.push("greeting");
    this.emit({
      type: "response.create",
      response: {
        instructions: `Say exactly the following greeting, word for word, and nothing else: "${this.config.greeting}"`,
      },
    });
  }

  pushAudio(mulaw: MulawAudio): void {
    if (this.stopped) return;
    if (!this.conn) {
      // Bytes may be a view of the source's buffer; base64 text is immutable.
      const kept = typeof mulaw === "string" ? mulaw : mulaw.slice();
      if (this.buffered.length < MAX_BUFFERED_FRAMES) this.buffered.push(kept);
      return;
    }
    try {
      this.conn.appendAudio(mulawBase64(mulaw));
    } catch (err) {
      this.fail("socket_dropped", err);
    }
  }

  markPlayed(name: string): void {
    for (const item of this.playback.played(name)) {
      if (item.owner) settleTurn(item.owner, item.transcript, false);
    }
    this.report();
  }

  close(): void {
    if (this.stopped) return;
    this.stop();
    this.conn?.close();
  }

  async idle(): Promise<void> {
    await this.opening;
  }

  private async open(): Promise<void> {
    // Not AbortSignal.timeout: aborting the handshake's fetch later would also cut the open socket.
    const handshake = new AbortController();
    const timer = setTimeout(
      () => handshake.abort(new DOMException("the Realtime socket did not open in time", "TimeoutError")),
      REALTIME_OPEN_TIMEOUT_MS,
    );
    let conn: RealtimeConnection;
    try {
      conn = await this.deps.connect(
        { event: (event) => this.receive(event), closed: (reason) => this.fail("socket_dropped", reason) },
        handshake.signal,
      );
    } catch (err) {
      this.fail("connect_failed", err);
      return;
    } finally {
      clearTimeout(timer);
    }
    if (this.stopped) {
      conn.close();
      return;
    }
    this.conn = conn;
    this.emit({
      type: "session.update",
      event_id: "session_update",
      session: realtimeSession(this.config, this.deps.tools?.definitions ?? []),
    });
    // A new stream of a call already under way: the conversation so far goes back into the new session.
    for (const event of historyItems(this.history)) this.emit(event);
    for (const frame of this.buffered.splice(0)) this.pushAudio(frame);
  }

  private receive(event: RealtimeServerEvent): void {
    if (this.stopped) return;
    try {
      this.handle(event);
    } catch (err) {
      // One odd event must not end the call.
      this.deps.log.error("realtime_event_failed", { realtime_event: event.type, ...errorFields(err) });
    }
  }

  private handle(event: RealtimeServerEvent): void {
    switch (event.type) {
      case "error":
        this.serverError(event.error);
        return;
      case "input_audio_buffer.speech_started":
        this.speechStarted();
        return;
      case "input_audio_buffer.speech_stopped":
        this.speechStopped(event.item_id, event.audio_end_ms);
        return;
      case "conversation.item.input_audio_transcription.completed":
        this.transcribed(event.item_id, event.transcript);
        return;
      case "conversation.item.input_audio_transcription.failed":
        this.transcribed(event.item_id, null);
        return;
      case "response.created":
        this.responseCreated(event.response.id ?? "");
        return;
      case "response.output_item.added":
        if (event.item.type === "message" && event.item.id) {
          this.playback.added(event.item.id, this.response?.owner ?? null);
        }
        return;
      case "response.output_audio.delta":
        this.audioDelta(event.item_id, event.delta);
        return;
      case "response.output_audio_transcript.delta": {
        const item = this.playback.get(event.item_id);
        if (item) item.transcript += event.delta;
        if (item?.owner && !item.owner.record) this.progress(item.owner, item.transcript);
        return;
      }
      case "response.output_audio_transcript.done": {
        const item = this.playback.get(event.item_id);
        if (item) item.transcript = event.transcript;
        return;
      }
      case "response.output_audio.done":
        this.playback.done(event.item_id);
        return;
      case "response.done":
        this.responseDone(event.response);
        return;
      default:
        return;
    }
  }

  private serverError(error: { message: string; code?: string | null; event_id?: string | null }): void {
    const fields = { code: error.code, message: error.message };
    if (error.event_id === "session_update") {
      this.deps.log.warn("realtime_session_refused", fields);
      this.fail("session_refused", error.message);
      return;
    }
    if (error.code === "conversation_already_has_active_response") {
      // Interrupts off: the caller spoke while the agent was answering; answer once it is done.
      this.respondWhenDone = true;
      return;
    }
    // A cancel racing the server's own (interrupt_response) is harmless.
    if (error.code === "response_cancel_not_active") this.deps.log.info("realtime_error", fields);
    else this.deps.log.warn("realtime_error", fields);
  }

  private speechStarted(): void {
    const item = this.playback.playing();
    if (!this.config.enable_interrupts || !item) return;
    const audioEndMs = this.playback.cut(item);
    this.deps.log.info("realtime_barge_in", { item_id: item.itemId, audio_end_ms: audioEndMs });
    if (this.response?.active) this.emit({ type: "response.cancel" });
    this.emit({
      type: "conversation.item.truncate",
      item_id: item.itemId,
      content_index: 0,
      audio_end_ms: audioEndMs,
    });
    if (item.owner) settleTurn(item.owner, heardPart(item), true);
    this.report();
  }

  private speechStopped(userItemId: string, audioEndMs: number): void {
    const turn = newTurn(this.nextSeq++, userItemId, audioEndMs, this.deps.now());
    this.turns.push(turn);
    this.awaiting.push(turn);
  }

  private transcribed(userItemId: string, transcript: string | null): void {
    const turn = this.turns.find((t) => t.userItemId === userItemId);
    if (!turn) return;
    turn.transcript = transcript?.trim() ?? null;
    if (turn.record) {
      turn.record.transcript = turn.transcript;
      turn.messages = exchange(turn.transcript, turn.record.reply);
    } else this.progress(turn, this.playback.find(turn)?.transcript ?? "");
    this.report();
  }

  /** A turn before its record, to a live view: the caller's words once known, the answer so far. */
  private progress(turn: RealtimeTurn, reply: string): void {
    this.deps.onProgress?.({ seq: turn.seq, transcript: turn.transcript ?? null, reply });
  }

  private responseCreated(id: string): void {
    const next = this.awaiting.shift();
    // A response nobody waited for (after a tool's output) continues the latest turn.
    const owner = next === "greeting" ? null : (next ?? this.turns.at(-1) ?? null);
    this.response = { id, owner, active: true };
  }

  private audioDelta(itemId: string, delta: string): void {
    const audio = asBase64Mulaw(delta);
    if (!audio) return;
    const turn = this.playback.get(itemId)?.owner;
    if (turn) turn.firstDeltaAt ??= this.deps.now();
    if (this.playback.delta(itemId, audio)) clearTimeout(this.greetingTimer);
  }

  private responseDone(response: {
    id?: string;
    status?: string;
    output?: Array<{ type?: string; call_id?: string; name?: string; arguments?: string }>;
  }): void {
    const owner = this.response?.owner ?? null;
    if (this.response?.id === response.id) this.response = null;
    const calls = (response.output ?? []).filter((o) => o.type === "function_call");
    if (calls.length > 0 && this.deps.tools) {
      void runToolCalls(this.deps.tools, calls, owner, {
        emit: (event) => this.emit(event),
        stopped: () => this.stopped,
      });
      return;
    }
    if (response.status === "failed" && owner && !owner.record) {
      this.deps.log.warn("realtime_response_failed", { seq: owner.seq });
      owner.record = turnRecord(owner, { outcome: "failed", reply: null, failed_stage: "realtime" });
      this.report();
    }
    if (this.respondWhenDone) {
      this.respondWhenDone = false;
      this.emit({ type: "response.create" });
    }
  }

  /** Report finished turns in seq order, each once its caller transcript is known. */
  private report(force = false): void {
    for (let turn = this.turns[0]; turn?.record; turn = this.turns[0]) {
      if (turn.transcript === undefined && !force) return;
      this.turns.shift();
      try {
        this.deps.onTurn(turn.record, turn.messages);
      } catch (err) {
        this.deps.log.error("realtime_on_turn_failed", { seq: turn.seq, ...errorFields(err) });
      }
      if (turn.intent && !this.stopped && turn.record.outcome === "reply" && !turn.record.interrupted) {
        this.carryOut(turn, turn.intent);
      }
    }
  }

  /** The turn's answer has all played: hand the caller to the transfer target, or hang up. */
  private carryOut(turn: RealtimeTurn, intent: ToolIntent): void {
    this.deps.log.info("realtime_tool_intent", { seq: turn.seq, intent: intent.kind });
    carryOutIntent(intent, turn.seq, this.deps, (text) => {
      if (this.stopped) return;
      // Like the greeting, a response no caller turn owns.
      this.awaiting.push("greeting");
      this.emit({
        type: "response.create",
        response: { instructions: `Say exactly the following, word for word, and nothing else: "${text}"` },
      });
    });
  }

  /** Stop for good: what was sent counts as heard, every turn is reported. */
  private stop(): void {
    this.stopped = true;
    clearTimeout(this.greetingTimer);
    this.playback.clear();
    for (const turn of this.turns) {
      if (turn.record) continue;
      const item = this.playback.find(turn);
      settleTurn(turn, item?.transcript ?? "", item !== undefined && !item.allSent);
    }
    this.report(true);
  }

  private fail(reason: RealtimeFailure, err?: unknown): void {
    if (this.stopped) return;
    this.deps.log.warn("realtime_engine_failed", {
      reason,
      ...(err instanceof Error ? errorFields(err) : err !== undefined && { detail: String(err) }),
    });
    this.stop();
    this.conn?.close();
    this.deps.onFailure(reason, err);
  }

  private emit(event: RealtimeClientEvent): void {
    if (!this.conn) return;
    try {
      this.conn.send(event);
    } catch (err) {
      this.fail("socket_dropped", err);
    }
  }
}
