import { DurableObject } from "cloudflare:workers";
import type { CallConfig } from "../config/defaults.ts";
import type { ToolIntent } from "../conversation/tools/index.ts";
import { ToolRunner } from "../conversation/tools/index.ts";
import { type Settings, settingsOf } from "../env.ts";
import { errorFields, type Logger, log } from "../log.ts";
import { createOpenAIProviders, type OpenAIProviders } from "../providers/openai.ts";
import { goodbyeTwiml, transferTwiml } from "../twilio/call-twiml.ts";
import { restAccountSid, TwilioRest } from "../twilio/rest.ts";
import type { DialCallStatus, FinalCallStatus } from "../twilio/webhook.ts";
import { AudioStore } from "./audio-store.ts";
import { Budget } from "./budget.ts";
import { callLog } from "./call-log.ts";
import type { CallState, StartInput, StoredTurn } from "./call-state.ts";
import { CallStorage } from "./call-storage.ts";
import { initialRecording, startRecording } from "./recording.ts";
import { type CallReply, PHRASES } from "./reply.ts";
import { StreamMode } from "./stream-mode.ts";
import { type CallSummary, type EndReason, summarize } from "./summary.ts";
import { signingSecret } from "./tokens.ts";
import { transferConnected, transferFailedPhrase, withDialOutcome } from "./transfer.ts";
import { type TurnRequest, TurnsMode } from "./turns-mode.ts";

/**
 * One call, named by its CallSid: the Durable Object shell around a conversation mode. It holds
 * the config snapshot the call started with (an admin edit mid-call changes the next call, not
 * this one), the turns so far, and the alarm that enforces max_call_duration, starts the
 * recording and finalises an abandoned call. Turns mode lives in turns-mode.ts; stream mode's
 * socket goes to the Media Stream adapter, which drives a ConversationEngine. When the call ends
 * the shell writes its summary to the call log and deletes its own storage.
 */

/** How long we wait for Twilio's status callback after ending a call before finalising anyway. */
const FINALIZE_GRACE_MS = 60_000;

export class CallSession extends DurableObject<Env> {
  private readonly storage: CallStorage;
  private state: CallState | null = null;
  /** the call's end being written (see finalize) */
  private finalizing: Promise<CallSummary> | null = null;
  private turns: StoredTurn[] = [];
  private readonly turnsMode = new TurnsMode({
    state: () => this.requireState(),
    turns: () => this.turns,
    storeTurn: (stored) => this.storeTurn(stored),
    afterReply: (reply) => this.afterReply(reply),
    providers: () => this.providers(),
    twilio: () => this.twilio(),
    audioStore: () => this.audioStore(),
    tools: () => this.toolRunner(),
    log: () => this.log,
  });
  private readonly streamMode = new StreamMode({
    state: () => this.requireState(),
    turns: () => this.turns,
    storeTurn: (stored) => this.storeTurn(stored),
    save: () => this.save(),
    signingSecret: () => signingSecret(this.settings),
    settings: () => this.settings,
    providers: () => this.providers(),
    audioStore: () => this.audioStore(),
    hangUp: (reason, goodbye) => this.hangUp(reason, goodbye),
    tools: () => this.toolRunner(),
    transfer: (intent, seq) => this.transfer(intent, seq),
    stopped: (reason) => this.finalizeStream(reason),
    waitUntil: (promise) => this.ctx.waitUntil(promise),
    log: () => this.log,
  });

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.storage = new CallStorage(ctx.storage.sql);
    ctx.blockConcurrencyWhile(async () => {
      ({ state: this.state, turns: this.turns } = this.storage.load());
    });
  }

  private get settings(): Settings {
    return settingsOf(this.env);
  }

  private bound: { state: CallState | null; log: Logger } | null = null;

  /**
   * The call's logger, bound once per call: every line about it carries its call_sid, and the
   * routing decision (variant, rule, after_hours) when the call has one.
   */
  private get log(): Logger {
    const state = this.state;
    if (!this.bound || this.bound.state !== state) {
      const routing = state?.routing;
      this.bound = {
        state,
        log: log.with({
          call_sid: state?.callSid,
          ...(routing && { variant: routing.variant, rule: routing.rule, after_hours: routing.after_hours }),
        }),
      };
    }
    return this.bound.log;
  }

  private save(): void {
    if (this.state) this.storage.saveState(this.state);
  }

  private storeTurn(stored: StoredTurn): void {
    this.turns.push(stored);
    this.storage.saveTurn(stored);
  }

  private providers(): OpenAIProviders {
    const { OPENAI_API_KEY, OPENAI_BASE_URL, OPENAI_TOKEN_PARAM } = this.settings;
    return createOpenAIProviders({
      apiKey: OPENAI_API_KEY ?? "",
      baseUrl: OPENAI_BASE_URL,
      tokenParam: OPENAI_TOKEN_PARAM,
    });
  }

  private twilio(): TwilioRest {
    const { TWILIO_API_BASE_URL, TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN } = this.settings;
    return new TwilioRest({
      baseUrl: TWILIO_API_BASE_URL,
      // A call stored before accountSid was kept has none: the setting alone then.
      accountSid: restAccountSid(TWILIO_ACCOUNT_SID, this.state?.accountSid),
      authToken: TWILIO_AUTH_TOKEN ?? "",
    });
  }

  /** The number's tools for this call, bound to who the call is (null: the number has none). */
  private toolRunner(): ToolRunner | null {
    const state = this.requireState();
    if (state.config.tools.length === 0) return null;
    return new ToolRunner(state.config.tools, {
      context: {
        call_sid: state.callSid,
        from: state.from,
        to: state.to,
        phone_number: state.config.phone_number,
      },
      signingSecret: this.settings.TOOL_SIGNING_SECRET,
      environment: this.settings.ENVIRONMENT,
      log: this.log,
    });
  }

  private audioStore(): AudioStore {
    return new AudioStore(
      this.env.AUDIO_CACHE,
      signingSecret(this.settings),
      this.requireState().publicBaseUrl,
    );
  }

  /**
   * The incoming call, created after the voice webhook has answered (through its waitUntil):
   * the call's clock starts at `answeredAt`, not now. Idempotent: Twilio retrying the voice
   * webhook leaves the call, and the config snapshot it started with, as they are.
   */
  async start(input: StartInput): Promise<{ config: CallConfig }> {
    if (!this.state) {
      this.storage.ensureSchema();
      const startedAt = input.answeredAt;
      this.state = {
        ...input,
        startedAt,
        deadlineAt: startedAt + input.config.max_call_duration * 1000,
        silences: 0,
        failures: 0,
        endReason: null,
        finalizeAt: null,
        // A browser test call has no Twilio call to record.
        recording: initialRecording(input.config.enable_recording && input.channel !== "web", startedAt),
        stream: { streamSid: null, tokenUsed: false },
      };
      this.save();
      await this.scheduleAlarm();
      await this.writeLog();
      this.log.info("call_started", {
        to: input.to,
        number_rule: input.routing?.number_rule,
        display_name: input.config.display_name,
        config_version: input.config.version,
        config_source: input.configSource,
        mode: input.mode,
        session_delay_ms: Date.now() - startedAt,
      });
    }
    return { config: this.state.config };
  }

  /** Turns mode: one caller turn from the recording webhook (`recordingUrl` null: the caller said nothing). */
  async turn(input: TurnRequest): Promise<CallReply> {
    if (!this.state) return { speech: [], next: "hangup", turns: 0 };
    return this.turnsMode.turn(input);
  }

  private afterReply(reply: CallReply): CallReply {
    if (reply.next === "hangup") this.requireState().finalizeAt = Date.now() + FINALIZE_GRACE_MS;
    this.save();
    this.ctx.waitUntil(this.scheduleAlarm());
    return reply;
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
    if (!this.state || this.state.mode === "turns")
      return new Response("no streaming call here", { status: 404 });
    // A browser test call has one socket: a second one (a replay) is refused.
    if (this.state.channel === "web" && this.ctx.getWebSockets().length > 0) {
      return new Response("this test call is already connected", { status: 409 });
    }
    const pair = new WebSocketPair();
    this.ctx.acceptWebSocket(pair[1]);
    return new Response(null, { status: 101, webSocket: pair[0] });
  }

  override async webSocketMessage(ws: WebSocket, message: string | ArrayBuffer): Promise<void> {
    if (!this.state) {
      ws.close(1000, "call ended");
      return;
    }
    await this.streamMode.receive(ws, message);
  }

  override async webSocketClose(ws: WebSocket, code: number): Promise<void> {
    ws.close(code === 1005 ? 1000 : code, "closing");
    await this.finalizeStream("stream_closed");
  }

  override async webSocketError(_ws: WebSocket, error: unknown): Promise<void> {
    this.log.warn("stream_socket_error", { ...errorFields(error) });
    await this.finalizeStream("stream_closed");
  }

  private async finalizeStream(reason: EndReason): Promise<void> {
    if (!this.state) return;
    await this.streamMode.close();
    // The call may have been ended meanwhile (Twilio's status callback).
    if (!this.state) return;
    // A transfer takes the call off the stream: the call goes on until the <Dial> ends.
    if (this.state.transfer) {
      this.state.stream = { streamSid: null, tokenUsed: false };
      this.save();
      return;
    }
    await this.finalize(this.state.endReason ?? reason);
  }

  /**
   * Stream mode: the transfer's announcement has played. The live call leaves the Media Stream
   * for the <Dial> (REST update); the dial webhook brings the outcome.
   */
  private async transfer(intent: Extract<ToolIntent, { kind: "transfer" }>, seq: number): Promise<boolean> {
    const state = this.state;
    if (!state) return false;
    state.transfer = { seq, target: { name: intent.target.name, to: intent.target.to } };
    this.save();
    const target = {
      to: intent.target.to,
      ...(intent.target.caller_id && { callerId: intent.target.caller_id }),
    };
    try {
      const result = await this.twilio().updateCall(state.callSid, {
        twiml: transferTwiml(target, `${state.publicBaseUrl}/webhooks/twilio/dial`),
      });
      this.log.info("call_transfer_started", { target: intent.target.name, ok: result.ok });
      if (!result.ok) state.transfer = null;
    } catch (err) {
      this.log.error("call_transfer_failed", { target: intent.target.name, ...errorFields(err) });
      state.transfer = null;
    }
    this.save();
    // Not moved: the caller is still on the stream, and the engine tells them.
    return state.transfer !== null;
  }

  /**
   * Twilio's <Dial action>: how the transfer ended. Connected: the call ends with the dialled
   * call. Otherwise the caller is back with the agent, who says so: in turns mode in this reply,
   * in stream mode first thing on the new Media Stream (`stream: true`: answer <Connect><Stream>).
   */
  async dialEnded(input: { status: DialCallStatus }): Promise<{ reply: CallReply; stream: boolean }> {
    const state = this.state;
    if (!state) return { reply: { speech: [], next: "hangup", turns: 0 }, stream: false };
    const transfer = state.transfer;
    state.transfer = null;
    const connected = transferConnected(input.status);
    const phrase = connected || !transfer ? null : transferFailedPhrase(transfer.target.name, input.status);
    const index = transfer ? this.turns.findIndex((t) => t.record.seq === transfer.seq) : -1;
    const turn = this.turns[index];
    if (turn) {
      this.turns[index] = withDialOutcome(turn, input.status, phrase);
      this.storage.saveTurn(this.turns[index] as StoredTurn);
    }
    this.log.info("call_transfer_ended", { dial_status: input.status, target: transfer?.target.name });
    if (connected) {
      state.endReason = "transferred";
      return {
        reply: this.afterReply({ speech: [], next: "hangup", turns: this.turns.length }),
        stream: false,
      };
    }
    const text = phrase ?? PHRASES.apology;
    if (state.mode !== "turns") {
      state.resume = text;
      this.save();
      return { reply: { speech: [], next: "listen", turns: this.turns.length }, stream: true };
    }
    const speech = await this.turnsMode.say(text, Budget.fromNow(5000));
    return {
      reply: this.afterReply({ speech: [speech], next: "listen", turns: this.turns.length }),
      stream: false,
    };
  }

  /** Twilio's status callback: the call is over. Writes the summary and frees the object. */
  async end(input: { status: FinalCallStatus; durationSeconds?: number }): Promise<CallSummary | null> {
    if (!this.state) return null;
    return this.finalize(this.state.endReason ?? input.status, input.durationSeconds);
  }

  /** The call as it stands (null when this object holds no call). */
  async snapshot(): Promise<CallSummary | null> {
    return this.state ? summarize(this.state, this.turns, null, undefined) : null;
  }

  override async alarm(): Promise<void> {
    const state = this.state;
    if (!state) return;
    const now = Date.now();
    if (state.finalizeAt !== null && now >= state.finalizeAt) {
      await this.finalize(state.endReason ?? "abandoned");
      return;
    }
    // A caller connected to a person by a transfer is not cut off by the agent's time limit.
    if (now >= state.deadlineAt && state.endReason !== "max_duration" && !state.transfer) {
      await this.hangUp("max_duration", PHRASES.goodbyeDuration);
    }
    if (state.recording.nextAt !== null && now >= state.recording.nextAt) {
      await startRecording(state.recording, this.twilio(), state.callSid, this.log);
    }
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
    // A browser test call has no Twilio call to update: closing its socket ends it.
    if (state.channel === "web") {
      this.log.info("call_hung_up", { reason });
      await this.finalizeStream(reason);
      return;
    }
    state.finalizeAt = Date.now() + FINALIZE_GRACE_MS;
    try {
      const result = await this.twilio().updateCall(state.callSid, { twiml: goodbyeTwiml(goodbye) });
      if (result.ok) {
        this.log.info("call_hung_up", { reason });
      } else {
        // Already over: nothing to hang up, and Twilio's status callback may never come.
        this.log.info("call_already_ended", { reason: result.reason });
        state.finalizeAt = Date.now();
      }
    } catch (err) {
      this.log.error("call_end_failed", { reason, ...errorFields(err) });
    }
    this.save();
    await this.scheduleAlarm();
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

  /**
   * Ends the call once: a `stop`, the socket closing and Twilio's status callback often come
   * together, and the first reason is the one the call log keeps (a later caller gets the same
   * summary, not a second write over it).
   */
  private finalize(reason: EndReason, durationSeconds?: number): Promise<CallSummary> {
    this.finalizing ??= this.writeFinalSummary(reason, durationSeconds).finally(() => {
      this.finalizing = null;
    });
    return this.finalizing;
  }

  private async writeFinalSummary(reason: EndReason, durationSeconds?: number): Promise<CallSummary> {
    const state = this.requireState();
    void this.streamMode.close();
    const summary = summarize(state, this.turns, reason, durationSeconds);
    await callLog(this.env, summary.to).record(summary);
    this.log.info("call_ended", {
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

  private async writeLog(): Promise<void> {
    try {
      const state = this.requireState();
      await callLog(this.env, state.to).record(summarize(state, this.turns, null, undefined));
    } catch (err) {
      // The call goes on without its log entry; the final summary is written again at the end.
      this.log.warn("call_log_write_failed", { ...errorFields(err) });
    }
  }

  private requireState(): CallState {
    if (!this.state) throw new Error("this call session holds no call");
    return this.state;
  }
}
