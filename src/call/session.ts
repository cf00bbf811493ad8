import { DurableObject } from "cloudflare:workers";
import type { CallConfig } from "../config/defaults.ts";
import type { ConfigSource } from "../config/resolver.ts";
import { type Settings, settingsOf } from "../env.ts";
import { errorFields, log } from "../log.ts";
import { createOpenAIProviders, type OpenAIProviders } from "../providers/openai.ts";
import type { ChatMessage } from "../providers/types.ts";
import { goodbyeTwiml } from "../twilio/call-twiml.ts";
import { clearMessage, markMessage, mediaMessage, parseStreamMessage } from "../twilio/media-stream.ts";
import { TwilioRest } from "../twilio/rest.ts";
import { AudioStore } from "./audio-store.ts";
import { Budget, WEBHOOK_BUDGET_MS } from "./budget.ts";
import { callLog } from "./call-log.ts";
import { greetingAudio } from "./greeting.ts";
import { type OutboundAudio, RealtimeConversation } from "./realtime.ts";
import { type CallReply, PHRASES, type Speech, saying } from "./reply.ts";
import type { CallSummary, EndReason, TurnRecord } from "./summary.ts";
import { signingSecret, verify } from "./tokens.ts";
import { runTurn } from "./turn.ts";

/**
 * One call, named by its CallSid. It holds the config snapshot the call started with (an
 * admin edit mid-call changes the next call, not this one), the conversation, and the
 * alarm that enforces max_call_duration. When the call ends it writes its summary to the
 * call log and deletes its own storage.
 */

export interface StartInput {
  callSid: string;
  from: string;
  to: string;
  config: CallConfig;
  configSource: ConfigSource;
  mode: "turns" | "stream";
  publicBaseUrl: string;
}

interface CallState extends StartInput {
  startedAt: number;
  deadlineAt: number;
  /** consecutive turns with nothing said / with a failure */
  silences: number;
  failures: number;
  /** set when we ended the call ourselves; the status callback then finalises with it */
  endReason: EndReason | null;
  /** when to finalise even if Twilio's status callback never comes */
  finalizeAt: number | null;
  recording: { wanted: boolean; started: boolean; attempts: number; nextAt: number | null };
  /** stream mode: the Media Stream this call's audio flows through, once it has started */
  stream: { streamSid: string | null; tokenUsed: boolean };
}

/** One recording webhook: `recordingUrl` null when the caller said nothing at all. */
export interface TurnRequest {
  /** RecordingSid (or "no-speech:<n>"): a retried webhook finds its answer by it */
  key: string;
  recordingUrl: string | null;
  /** Twilio's RecordingDuration, in whole seconds */
  recordingSeconds?: number;
}

interface StoredTurn {
  /** RecordingSid (or "no-speech:<n>"): a retried webhook finds its answer by it */
  key: string;
  record: TurnRecord;
  reply: CallReply;
}

const MAX_SILENCES = 3;
const MAX_FAILURES = 3;
const HISTORY_TURNS = 12;
/** Twilio answers the call after our TwiML; a recording can start only once it is in progress. */
const RECORDING_START_DELAY_MS = 1500;
const RECORDING_MAX_ATTEMPTS = 3;
/** How long we wait for Twilio's status callback after ending a call before finalising anyway. */
const FINALIZE_GRACE_MS = 60_000;

export class CallSession extends DurableObject<Env> {
  private state: CallState | null = null;
  private turns: StoredTurn[] = [];
  /** A Twilio retry arriving while the first delivery is still being answered waits for it. */
  private readonly inFlight = new Map<string, Promise<CallReply>>();
  /** stream mode: the live conversation engine (rebuilt if the object was evicted mid-call) */
  private realtime: RealtimeConversation | null = null;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    ctx.blockConcurrencyWhile(async () => {
      this.ensureSchema();
      const row = ctx.storage.sql.exec<{ data: string }>("SELECT data FROM call WHERE id = 1").toArray()[0];
      this.state = row ? (JSON.parse(row.data) as CallState) : null;
      this.turns = ctx.storage.sql
        .exec<{ data: string }>("SELECT data FROM turns ORDER BY seq")
        .toArray()
        .map((r) => JSON.parse(r.data) as StoredTurn);
    });
  }

  /** Also after a finished call's deleteAll(), should Twilio reuse the object (a retried webhook). */
  private ensureSchema(): void {
    this.ctx.storage.sql.exec(
      "CREATE TABLE IF NOT EXISTS call (id INTEGER PRIMARY KEY CHECK (id = 1), data TEXT NOT NULL)",
    );
    this.ctx.storage.sql.exec(
      "CREATE TABLE IF NOT EXISTS turns (seq INTEGER PRIMARY KEY, key TEXT UNIQUE, data TEXT NOT NULL)",
    );
  }

  private get settings(): Settings {
    return settingsOf(this.env);
  }

  private logFields(): Record<string, unknown> {
    return { callSid: this.state?.callSid };
  }

  private save(): void {
    if (this.state) {
      this.ctx.storage.sql.exec(
        "INSERT OR REPLACE INTO call (id, data) VALUES (1, ?)",
        JSON.stringify(this.state),
      );
    }
  }

  private providers(): OpenAIProviders {
    const { OPENAI_API_KEY, OPENAI_BASE_URL } = this.settings;
    return createOpenAIProviders({ apiKey: OPENAI_API_KEY ?? "", baseUrl: OPENAI_BASE_URL });
  }

  private twilio(): TwilioRest {
    const { TWILIO_API_BASE_URL, TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN } = this.settings;
    return new TwilioRest({
      baseUrl: TWILIO_API_BASE_URL,
      accountSid: TWILIO_ACCOUNT_SID ?? "",
      authToken: TWILIO_AUTH_TOKEN ?? "",
    });
  }

  private audioStore(publicBaseUrl: string): AudioStore {
    return new AudioStore(this.env.AUDIO_CACHE, signingSecret(this.settings), publicBaseUrl);
  }

  /**
   * The incoming call. Idempotent: Twilio retrying the voice webhook gets the same greeting
   * and the call keeps the config snapshot it started with.
   */
  async start(input: StartInput): Promise<{ reply: CallReply; config: CallConfig }> {
    if (!this.state) {
      this.ensureSchema();
      const now = Date.now();
      this.state = {
        ...input,
        startedAt: now,
        deadlineAt: now + input.config.max_call_duration * 1000,
        silences: 0,
        failures: 0,
        endReason: null,
        finalizeAt: null,
        recording: {
          wanted: input.config.enable_recording,
          started: false,
          attempts: 0,
          nextAt: input.config.enable_recording ? now + RECORDING_START_DELAY_MS : null,
        },
        stream: { streamSid: null, tokenUsed: false },
      };
      this.save();
      await this.scheduleAlarm();
      await this.writeLog();
      log.info("call_started", {
        ...this.logFields(),
        to: input.to,
        display_name: input.config.display_name,
        config_version: input.config.version,
        config_source: input.configSource,
        mode: input.mode,
      });
    }
    // In stream mode the greeting plays over the Media Stream as soon as it starts.
    const speech = this.state.mode === "turns" ? [await this.greeting(Budget.fromNow(5000))] : [];
    return { reply: { speech, next: "listen", turns: this.turns.length }, config: this.state.config };
  }

  /** The greeting in the number's voice, synthesised once per (text, model, voice). */
  private async greeting(budget: Budget): Promise<Speech> {
    const { config, publicBaseUrl } = this.requireState();
    try {
      const { id } = await greetingAudio(
        this.audioStore(publicBaseUrl),
        this.providers().tts,
        config,
        "mp3",
        budget.signal(4500, 0),
      );
      return { text: config.greeting, audioId: id };
    } catch (err) {
      log.warn("greeting_tts_fell_back_to_say", { ...this.logFields(), ...errorFields(err) });
      return saying(config.greeting);
    }
  }

  /** One caller turn from the recording webhook (`recordingUrl` null: the caller said nothing). */
  async turn(input: TurnRequest): Promise<CallReply> {
    if (!this.state) return { speech: [], next: "hangup", turns: 0 };
    const done = this.turns.find((t) => t.key === input.key);
    if (done) return done.reply;
    let pending = this.inFlight.get(input.key);
    if (!pending) {
      pending = this.runTurn(input).finally(() => this.inFlight.delete(input.key));
      this.inFlight.set(input.key, pending);
    }
    return pending;
  }

  private async runTurn(input: TurnRequest): Promise<CallReply> {
    const state = this.requireState();
    const budget = Budget.fromNow(WEBHOOK_BUDGET_MS);
    const seq = this.turns.length + 1;
    const at = new Date().toISOString();
    if (Date.now() >= state.deadlineAt) {
      // Not a turn of the conversation: the goodbye the alarm may not have delivered yet.
      state.endReason = "max_duration";
      return this.afterReply({ speech: [saying(PHRASES.goodbyeDuration)], next: "hangup", turns: seq - 1 });
    }
    if (input.recordingUrl === null) return this.silentTurn(input.key, seq, at, zeroTimings());

    const recordingUrl = input.recordingUrl;
    const twilio = this.twilio();
    const audio = this.audioStore(state.publicBaseUrl);
    const outcome = await runTurn(
      {
        ...this.providers(),
        fetchRecording: (retryUntil) => twilio.fetchRecording(recordingUrl, { format: "wav", retryUntil }),
        storeAudio: async (bytes) => {
          const id = `r-${crypto.randomUUID()}`;
          await audio.put(id, bytes, "reply");
          return id;
        },
        now: Date.now,
      },
      {
        config: state.config,
        history: this.history(),
        budget,
        logFields: { ...this.logFields(), seq },
        ...(input.recordingSeconds !== undefined && { recordingSeconds: input.recordingSeconds }),
      },
    );

    if (outcome.kind === "silence") return this.silentTurn(input.key, seq, at, outcome.timings);
    if (outcome.kind === "failed") {
      state.failures += 1;
      const giveUp = state.failures >= MAX_FAILURES;
      if (giveUp) state.endReason = "errors";
      return this.finishTurn(
        input.key,
        {
          seq,
          at,
          outcome: "failed",
          failed_stage: outcome.stage,
          transcript: outcome.transcript ?? null,
          reply: null,
          timings: outcome.timings,
        },
        [saying(giveUp ? PHRASES.goodbyeErrors : PHRASES.apology)],
        giveUp ? "hangup" : "listen",
      );
    }
    state.failures = 0;
    state.silences = 0;
    log.info("turn_answered", {
      ...this.logFields(),
      seq,
      ...outcome.timings,
      tts_fallback: outcome.speech.some((piece) => piece.audioId === null),
    });
    return this.finishTurn(
      input.key,
      {
        seq,
        at,
        outcome: "reply",
        transcript: outcome.transcript,
        reply: outcome.reply,
        timings: outcome.timings,
      },
      outcome.speech,
      "listen",
    );
  }

  private silentTurn(key: string, seq: number, at: string, timings: TurnRecord["timings"]): CallReply {
    const state = this.requireState();
    state.silences += 1;
    const giveUp = state.silences >= MAX_SILENCES;
    if (giveUp) state.endReason = "silence";
    return this.finishTurn(
      key,
      { seq, at, outcome: "silence", transcript: null, reply: null, timings },
      [saying(giveUp ? PHRASES.goodbyeSilence : PHRASES.reprompt)],
      giveUp ? "hangup" : "listen",
    );
  }

  /** Stores the turn under its key, so a retried webhook gets this same reply. */
  private finishTurn(key: string, record: TurnRecord, speech: Speech[], next: CallReply["next"]): CallReply {
    const reply: CallReply = { speech, next, turns: record.seq };
    const stored: StoredTurn = { key, record, reply };
    this.turns.push(stored);
    this.ctx.storage.sql.exec(
      "INSERT INTO turns (seq, key, data) VALUES (?, ?, ?)",
      record.seq,
      key,
      JSON.stringify(stored),
    );
    return this.afterReply(reply);
  }

  private afterReply(reply: CallReply): CallReply {
    if (reply.next === "hangup") this.requireState().finalizeAt = Date.now() + FINALIZE_GRACE_MS;
    this.save();
    this.ctx.waitUntil(this.scheduleAlarm());
    return reply;
  }

  private history(): ChatMessage[] {
    return this.turns
      .filter((t) => t.record.outcome === "reply" && t.record.transcript && t.record.reply)
      .slice(-HISTORY_TURNS)
      .flatMap((t) => [
        { role: "user" as const, content: t.record.transcript as string },
        { role: "assistant" as const, content: t.record.reply as string },
      ]);
  }

  /**
   * Stream mode: Twilio's WebSocket for this call (the route checked X-Twilio-Signature on the
   * handshake). The only URL-level entry into the object, because a socket cannot cross RPC.
   * Hibernatable: the object may sleep between frames without dropping the call.
   */
  override async fetch(request: Request): Promise<Response> {
    if (request.headers.get("Upgrade")?.toLowerCase() !== "websocket") {
      return new Response("expected a WebSocket upgrade", { status: 426 });
    }
    if (this.state?.mode !== "stream") return new Response("no streaming call here", { status: 404 });
    const pair = new WebSocketPair();
    this.ctx.acceptWebSocket(pair[1]);
    return new Response(null, { status: 101, webSocket: pair[0] });
  }

  override async webSocketMessage(ws: WebSocket, message: string | ArrayBuffer): Promise<void> {
    const event = parseStreamMessage(
      typeof message === "string" ? message : new TextDecoder().decode(message),
    );
    const state = this.state;
    if (!state) {
      ws.close(1000, "call ended");
      return;
    }
    switch (event.kind) {
      case "invalid":
        log.warn("stream_message_skipped", { ...this.logFields(), reason: event.reason });
        return;
      case "start":
        await this.startStream(ws, event.streamSid, event.callSid, event.customParameters.token ?? "");
        return;
      case "media":
        if (event.track === "inbound") this.engine(ws)?.pushAudio(event.payload);
        return;
      case "mark":
        this.engine(ws)?.markPlayed(event.name);
        return;
      case "stop":
        await this.finalizeStream("completed");
        return;
      default:
        return;
    }
  }

  override async webSocketClose(ws: WebSocket, code: number): Promise<void> {
    ws.close(code === 1005 ? 1000 : code, "closing");
    await this.finalizeStream("stream_closed");
  }

  override async webSocketError(_ws: WebSocket, error: unknown): Promise<void> {
    log.warn("stream_socket_error", { ...this.logFields(), ...errorFields(error) });
    await this.finalizeStream("stream_closed");
  }

  private async startStream(ws: WebSocket, streamSid: string, callSid: string, token: string): Promise<void> {
    const state = this.requireState();
    const [expires, signature] = token.split(".");
    const check =
      callSid === state.callSid && !state.stream.tokenUsed
        ? await verify(signingSecret(this.settings), "stream", callSid, Number(expires), signature ?? "")
        : ({ ok: false, reason: "bad_signature" } as const);
    if (!check.ok) {
      log.warn("stream_refused", {
        ...this.logFields(),
        reason: state.stream.tokenUsed ? "token_reused" : check.reason,
      });
      ws.close(1008, "invalid stream token");
      return;
    }
    state.stream = { streamSid, tokenUsed: true };
    this.save();
    const engine = this.engine(ws);
    if (!engine) return;
    log.info("stream_started", { ...this.logFields(), streamSid });
    const greeting = await this.streamGreeting();
    if (greeting) engine.playAudio(greeting, state.config.greeting);
  }

  /** The greeting as 8 kHz μ-law, from the cache or synthesised once per (text, model, voice). */
  private async streamGreeting(): Promise<Uint8Array | null> {
    const { config, publicBaseUrl } = this.requireState();
    try {
      const audio = this.audioStore(publicBaseUrl);
      return (await greetingAudio(audio, this.providers().tts, config, "mulaw", AbortSignal.timeout(8000)))
        .bytes;
    } catch (err) {
      log.warn("stream_greeting_failed", { ...this.logFields(), ...errorFields(err) });
      return null;
    }
  }

  private engine(ws: WebSocket): RealtimeConversation | null {
    const state = this.state;
    const streamSid = state?.stream.streamSid;
    if (!state || !streamSid) return null;
    if (!this.realtime) {
      this.realtime = new RealtimeConversation(
        {
          ...this.providers(),
          send: (out) => sendOutbound(ws, streamSid, out),
          onTurn: (record) => this.recordStreamTurn(record),
          now: Date.now,
          logFields: { ...this.logFields(), streamSid },
        },
        { config: state.config, history: this.history(), nextSeq: this.turns.length + 1 },
      );
    }
    return this.realtime;
  }

  private recordStreamTurn(record: TurnRecord): void {
    const state = this.state;
    if (!state) return;
    // As in turns mode: after MAX_FAILURES failed turns in a row, apologise and hang up.
    state.failures = record.outcome === "failed" ? state.failures + 1 : 0;
    if (state.failures >= MAX_FAILURES && state.endReason === null) {
      this.ctx.waitUntil(this.hangUp("errors", PHRASES.goodbyeErrors));
    }
    const stored: StoredTurn = {
      key: `stream:${record.seq}`,
      record,
      reply: { speech: [], next: "listen", turns: record.seq },
    };
    this.turns.push(stored);
    this.ctx.storage.sql.exec(
      "INSERT OR REPLACE INTO turns (seq, key, data) VALUES (?, ?, ?)",
      record.seq,
      stored.key,
      JSON.stringify(stored),
    );
    this.save();
    log.info("stream_turn", {
      ...this.logFields(),
      seq: record.seq,
      outcome: record.outcome,
      interrupted: record.interrupted ?? false,
      ...record.timings,
    });
  }

  private async finalizeStream(reason: EndReason): Promise<void> {
    if (!this.state) return;
    const engine = this.realtime;
    this.realtime = null;
    if (engine) {
      engine.close();
      await engine.idle();
    }
    await this.finalize(this.state.endReason ?? reason);
  }

  /** Twilio's status callback: the call is over. Writes the summary and frees the object. */
  async end(input: { status: string; durationSeconds?: number }): Promise<CallSummary | null> {
    if (!this.state) return null;
    const reason = this.state.endReason ?? statusReason(input.status);
    return this.finalize(reason, input.durationSeconds);
  }

  /** The call as it stands (null when this object holds no call). */
  async snapshot(): Promise<CallSummary | null> {
    return this.state ? this.summary(null, undefined) : null;
  }

  override async alarm(): Promise<void> {
    const state = this.state;
    if (!state) return;
    const now = Date.now();
    if (state.finalizeAt !== null && now >= state.finalizeAt) {
      await this.finalize(state.endReason ?? "abandoned");
      return;
    }
    if (now >= state.deadlineAt && state.endReason !== "max_duration") {
      await this.hangUp("max_duration", PHRASES.goodbyeDuration);
    }
    if (state.recording.nextAt !== null && now >= state.recording.nextAt) await this.startRecording();
    this.save();
    await this.scheduleAlarm();
  }

  /**
   * Ends the call from our side through Twilio's REST API, with a goodbye in Twilio's voice
   * (max_call_duration reached, or a stream call whose providers keep failing). Twilio's status
   * callback then finalises the call with `reason`; if it never comes, the alarm does.
   */
  private async hangUp(reason: EndReason, goodbye: string): Promise<void> {
    const state = this.state;
    // The call may have ended on its own before a deferred hang-up ran.
    if (!state) return;
    state.endReason = reason;
    state.finalizeAt = Date.now() + FINALIZE_GRACE_MS;
    try {
      const result = await this.twilio().updateCall(state.callSid, { twiml: goodbyeTwiml(goodbye) });
      if (result.ok) {
        log.info("call_hung_up", { ...this.logFields(), reason });
      } else {
        // Already over: nothing to hang up, and Twilio's status callback may never come.
        log.info("call_already_ended", { ...this.logFields(), reason: result.reason });
        state.finalizeAt = Date.now();
      }
    } catch (err) {
      log.error("call_end_failed", { ...this.logFields(), reason, ...errorFields(err) });
    }
    this.save();
    await this.scheduleAlarm();
  }

  private async startRecording(): Promise<void> {
    const { recording, callSid } = this.requireState();
    recording.attempts += 1;
    recording.nextAt = null;
    try {
      const result = await this.twilio().startRecording(callSid);
      if (result.ok) {
        recording.started = true;
        log.info("call_recording_started", { ...this.logFields(), recording_sid: result.recording.sid });
        return;
      }
      log.info("call_recording_not_yet_possible", {
        ...this.logFields(),
        reason: result.reason,
        attempt: recording.attempts,
      });
    } catch (err) {
      log.warn("call_recording_failed", {
        ...this.logFields(),
        attempt: recording.attempts,
        ...errorFields(err),
      });
    }
    if (recording.attempts < RECORDING_MAX_ATTEMPTS)
      recording.nextAt = Date.now() + 2000 * recording.attempts;
  }

  private async scheduleAlarm(): Promise<void> {
    const state = this.state;
    if (!state) return;
    const candidates = [
      state.finalizeAt,
      state.recording.nextAt,
      state.endReason === "max_duration" ? null : state.deadlineAt,
    ];
    const next = Math.min(...candidates.filter((t): t is number => t !== null));
    if (Number.isFinite(next)) await this.ctx.storage.setAlarm(next);
  }

  private async finalize(reason: EndReason, durationSeconds?: number): Promise<CallSummary> {
    this.realtime?.close();
    this.realtime = null;
    const summary = this.summary(reason, durationSeconds);
    await callLog(this.env).record(summary);
    log.info("call_ended", {
      ...this.logFields(),
      end_reason: reason,
      duration_seconds: summary.duration_seconds,
      turns: summary.turns.length,
    });
    await this.ctx.storage.deleteAlarm();
    await this.ctx.storage.deleteAll();
    for (const ws of this.ctx.getWebSockets()) ws.close(1000, "call ended");
    this.state = null;
    this.turns = [];
    return summary;
  }

  private summary(reason: EndReason | null, durationSeconds: number | undefined): CallSummary {
    const state = this.requireState();
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
      status: ended ? "ended" : "in_progress",
      started_at: new Date(state.startedAt).toISOString(),
      ended_at: ended ? new Date().toISOString() : null,
      duration_seconds: ended ? (durationSeconds ?? Math.round((Date.now() - state.startedAt) / 1000)) : null,
      end_reason: reason,
      turns: this.turns.map((t) => t.record),
    };
  }

  private async writeLog(): Promise<void> {
    try {
      await callLog(this.env).record(this.summary(null, undefined));
    } catch (err) {
      // The call goes on without its log entry; the final summary is written again at the end.
      log.warn("call_log_write_failed", { ...this.logFields(), ...errorFields(err) });
    }
  }

  private requireState(): CallState {
    if (!this.state) throw new Error("this call session holds no call");
    return this.state;
  }
}

function sendOutbound(ws: WebSocket, streamSid: string, out: OutboundAudio): void {
  try {
    if (out.kind === "media") ws.send(mediaMessage(streamSid, out.mulaw));
    else if (out.kind === "mark") ws.send(markMessage(streamSid, out.name));
    else ws.send(clearMessage(streamSid));
  } catch (err) {
    // The socket closed under us; webSocketClose finalises the call.
    log.warn("stream_send_failed", { streamSid, ...errorFields(err) });
  }
}

function zeroTimings() {
  return { recording_ms: 0, stt_ms: 0, llm_ms: 0, tts_ms: 0, total_ms: 0 };
}

const STATUS_REASONS: Record<string, EndReason> = {
  completed: "completed",
  busy: "busy",
  failed: "failed",
  "no-answer": "no-answer",
  canceled: "canceled",
};

function statusReason(status: string): EndReason {
  return STATUS_REASONS[status] ?? "completed";
}
