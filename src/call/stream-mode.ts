import { isRealtimeModel } from "../config/realtime.ts";
import type { ConversationEngine, EngineSink, TurnProgress } from "../conversation/engine.ts";
import { FallbackEngine } from "../conversation/fallback.ts";
import { type MediaStreamHost, MediaStreamSession } from "../conversation/media-stream-session.ts";
import { PipelineEngine } from "../conversation/pipeline.ts";
import { RealtimeEngine, type RealtimeFailure } from "../conversation/realtime.ts";
import { type ToolIntent, type ToolRunner, toolLogFields } from "../conversation/tools/index.ts";
import { WebAudioSession } from "../conversation/web-audio-session.ts";
import type { Settings } from "../env.ts";
import { errorFields, type Logger } from "../log.ts";
import type { OpenAIProviders } from "../providers/openai.ts";
import { connectRealtime } from "../providers/openai-realtime.ts";
import { type ChatMessage, ProviderError } from "../providers/types.ts";
import type { AudioStore } from "./audio-store.ts";
import { type CallState, historyOf, MAX_FAILURES, type StoredTurn } from "./call-state.ts";
import { greetingAudio } from "./greeting.ts";
import { PHRASES } from "./reply.ts";
import type { EndReason, TurnRecord } from "./summary.ts";

/**
 * conversation_modes "stream" and "realtime": the call's audio flows over a Twilio Media Stream.
 * This module gives the Media Stream adapter its engine (the stream pipeline, or the realtime
 * engine falling back to the pipeline), built from the call's config
 * snapshot and the turns stored so far, so an object woken after an eviction carries on with the
 * same conversation; it stores each turn the engine reports and ends a call that keeps failing.
 */

/** How long the cached or synthesised μ-law greeting may take before the call goes on without it. */
const STREAM_GREETING_TIMEOUT_MS = 8000;

/** What stream mode needs from the call session that holds it. */
export interface StreamHost {
  state(): CallState;
  turns(): readonly StoredTurn[];
  storeTurn(stored: StoredTurn): void;
  save(): void;
  signingSecret(): string;
  settings(): Settings;
  providers(): OpenAIProviders;
  audioStore(): AudioStore;
  /** End the call from our side with a goodbye in Twilio's voice ("": just hang up). */
  hangUp(reason: EndReason, goodbye: string): Promise<void>;
  /** the number's tools for this call (null: none) */
  tools(): ToolRunner | null;
  /**
   * Connect the caller to a transfer target (the announcement has played); `seq`: the turn that
   * asked. Resolves false when Twilio did not move the call.
   */
  transfer(intent: Extract<ToolIntent, { kind: "transfer" }>, seq: number): Promise<boolean>;
  /** The stream is over: finalise the call. */
  stopped(reason: EndReason): Promise<void>;
  waitUntil(promise: Promise<unknown>): void;
  /** the call's logger (every line carries call_sid) */
  log(): Logger;
}

export class StreamMode {
  private readonly host: StreamHost;
  /** the caller's socket (Twilio's Media Stream, or the console's browser) and its live engine */
  private media: MediaStreamSession | WebAudioSession | null = null;

  constructor(host: StreamHost) {
    this.host = host;
  }

  /** One message on the call's socket: Twilio's Media Stream, or the console's browser test call. */
  async receive(ws: WebSocket, message: string | ArrayBuffer): Promise<void> {
    this.media ??= this.source(ws);
    await this.media.receive(message);
  }

  private source(ws: WebSocket): MediaStreamSession | WebAudioSession {
    const host: MediaStreamHost = {
      callSid: this.host.state().callSid,
      signingSecret: this.host.signingSecret(),
      stream: () => this.host.state().stream,
      save: () => this.host.save(),
      engine: (out) => this.engine(out),
      stopped: (reason) => this.host.stopped(reason),
      log: () => this.host.log(),
    };
    return this.host.state().channel === "web"
      ? new WebAudioSession(ws, host)
      : new MediaStreamSession(ws, host);
  }

  /** The call is over: stop the engine and wait for its last turn to be stored. */
  async close(): Promise<void> {
    const media = this.media;
    this.media = null;
    await media?.close();
  }

  /**
   * The conversation engine for this call, starting from the turns stored so far: the pipeline in
   * stream mode; in realtime mode the realtime engine, with the pipeline as its fallback.
   */
  private engine(out: Pick<EngineSink, "send">): ConversationEngine {
    const state = this.host.state();
    if (state.mode !== "realtime") return this.pipeline(out);
    return new FallbackEngine<RealtimeFailure>({
      primary: (failed) => this.realtime(out, failed),
      fallback: () => this.pipeline(out),
      beforeGreeting: ["connect_failed", "session_refused", "greeting_timeout"],
      log: this.streamLog().with({ from: "realtime", to: "pipeline" }),
    });
  }

  /** The call's logger with the Media Stream's stream_sid. */
  private streamLog(): Logger {
    return this.host.log().with({ stream_sid: this.host.state().stream.streamSid });
  }

  private pipeline(out: Pick<EngineSink, "send">): PipelineEngine {
    const state = this.host.state();
    const turns = this.host.turns();
    // Said once, on the stream that brings the caller back from a failed transfer.
    const resume = state.resume ?? null;
    if (resume) {
      state.resume = null;
      this.host.save();
    }
    // A realtime model has no Chat Completions endpoint: the fallback answers with the Worker's default model.
    const config = isRealtimeModel(state.config.inference_model)
      ? { ...state.config, inference_model: this.host.settings().DEFAULT_INFERENCE_MODEL }
      : state.config;
    return new PipelineEngine(
      {
        ...this.host.providers(),
        send: out.send,
        onTurn: (record, messages) => this.recordTurn(record, messages),
        onEnd: ({ reason, goodbye }) => this.host.waitUntil(this.host.hangUp(reason, goodbye)),
        onTransfer: (intent, seq) => this.transfer(intent, seq),
        onProgress: (progress) => this.progress(progress),
        greeting: () => this.greeting(),
        resume,
        tools: this.host.tools(),
        now: Date.now,
        log: this.streamLog(),
      },
      { config, history: historyOf(turns), nextSeq: turns.length + 1 },
    );
  }

  private realtime(out: Pick<EngineSink, "send">, failed: (reason: RealtimeFailure) => void): RealtimeEngine {
    const state = this.host.state();
    const turns = this.host.turns();
    const { OPENAI_API_KEY, OPENAI_BASE_URL } = this.host.settings();
    const model = state.config.inference_model;
    const runner = this.host.tools();
    const tools = runner?.hasTools
      ? {
          definitions: runner.definitions.map((d) => ({ type: "function" as const, ...d })),
          call: async (call: { id: string; name: string; arguments: string }) => {
            const execution = await runner.execute(call);
            return { output: execution.content, record: execution.record, intent: execution.intent };
          },
        }
      : undefined;
    return new RealtimeEngine(
      {
        send: out.send,
        onTurn: (record, messages) => this.recordTurn(record, messages),
        onEnd: ({ reason, goodbye }) => this.host.waitUntil(this.host.hangUp(reason, goodbye)),
        onTransfer: (intent, seq) => this.transfer(intent, seq),
        onProgress: (progress) => this.progress(progress),
        ...(tools && { tools }),
        connect: (handlers, signal) =>
          connectRealtime(
            { apiKey: OPENAI_API_KEY ?? "", baseUrl: OPENAI_BASE_URL, model, signal },
            handlers,
          ),
        onFailure: failed,
        now: Date.now,
        log: this.streamLog(),
      },
      { config: state.config, history: historyOf(turns), nextSeq: turns.length + 1 },
    );
  }

  /** The engine's transfer, kept alive past the socket's own events until Twilio has answered. */
  private transfer(intent: Extract<ToolIntent, { kind: "transfer" }>, seq: number): Promise<boolean> {
    const moved = this.host.transfer(intent, seq);
    this.host.waitUntil(moved);
    return moved;
  }

  /** The greeting as 8 kHz μ-law, from the cache or synthesised once per (text, model, voice). */
  private async greeting(): Promise<Uint8Array | null> {
    const { config } = this.host.state();
    try {
      const signal = AbortSignal.timeout(STREAM_GREETING_TIMEOUT_MS);
      return (await greetingAudio(this.host.audioStore(), this.host.providers().tts, config, "mulaw", signal))
        .bytes;
    } catch (err) {
      if (refusedCredentials(err)) {
        // No turn of this call can work either (no key, or a key OpenAI refuses): say so and end
        // it now, in Twilio's voice, rather than leave the caller in silence.
        this.host.log().error("stream_provider_unauthorized", { ...errorFields(err) });
        this.host.waitUntil(this.host.hangUp("errors", PHRASES.unavailable));
        return null;
      }
      this.host.log().warn("stream_greeting_failed", { ...errorFields(err) });
      return null;
    }
  }

  /** Only a browser test call shows turns as they happen; Twilio has no use for them. */
  private progress(progress: TurnProgress): void {
    if (this.media instanceof WebAudioSession) this.media.turnProgress(progress);
  }

  private recordTurn(record: TurnRecord, messages: ChatMessage[]): void {
    const state = this.host.state();
    // As in turns mode: after MAX_FAILURES failed turns in a row, apologise and hang up.
    state.failures = record.outcome === "failed" ? state.failures + 1 : 0;
    if (state.failures >= MAX_FAILURES && state.endReason === null) {
      this.host.waitUntil(this.host.hangUp("errors", PHRASES.goodbyeErrors));
    }
    const reply = { speech: [], next: "listen" as const, turns: record.seq };
    // With tool calls, the turn's messages keep them in the history (after an eviction too).
    this.host.storeTurn({ key: `stream:${record.seq}`, record, reply, ...(record.tools && { messages }) });
    this.host.save();
    if (this.media instanceof WebAudioSession) this.media.turnDone(record);
    this.host.log().info("stream_turn", {
      seq: record.seq,
      outcome: record.outcome,
      interrupted: record.interrupted ?? false,
      ...record.timings,
      ...toolLogFields(record.tools),
    });
  }
}

/** OpenAI answered 401 or 403 (src/providers/openai.ts answers 401 itself when no key is set). */
function refusedCredentials(err: unknown): boolean {
  return err instanceof ProviderError && (err.status === 401 || err.status === 403);
}
