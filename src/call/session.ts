import { DurableObject } from "cloudflare:workers";
import type { CallConfig } from "../config/defaults.ts";
import { ToolRunner } from "../conversation/tools/index.ts";
import { type Settings, settingsOf } from "../env.ts";
import { type Logger, log } from "../log.ts";
import { type OpenAIProviders, openAIProvidersFor } from "../providers/openai.ts";
import { servicesFor } from "../services.ts";
import { type TwilioRest, twilioRestFor } from "../twilio/rest.ts";
import type { DialCallStatus, FinalCallStatus } from "../twilio/webhook.ts";
import { AudioStore } from "./audio-store.ts";
import { dueAt, FINALIZE_GRACE_MS, nextAlarmAt } from "./call-clock.ts";
import { CallEnding } from "./call-end.ts";
import { CallSockets } from "./call-sockets.ts";
import { CallStart } from "./call-start.ts";
import type { CallState, StartInput, StoredTurn } from "./call-state.ts";
import { CallStorage } from "./call-storage.ts";
import { startRecording } from "./recording.ts";
import { type CallReply, PHRASES, saying } from "./reply.ts";
import { StreamMode } from "./stream-mode.ts";
import { type CallSummary, summarize } from "./summary.ts";
import { signingSecret } from "./tokens.ts";
import { Transfers } from "./transfer.ts";
import { type TurnRequest, TurnsMode } from "./turns-mode.ts";

/**
 * One call, named by its CallSid: the Durable Object shell around a conversation mode. It holds
 * the config snapshot the call was answered with (an admin edit mid-call changes the next call,
 * not this one) and the turns so far, and runs the call's alarm (call-clock.ts). The session is
 * created from the signed snapshot the answer carried, when the Media Stream starts or at the
 * first recording webhook (snapshot.ts), or at answer for a browser test call or a number that
 * records. Turns mode lives in turns-mode.ts, stream mode's socket goes to stream-mode.ts,
 * transfers to transfer.ts, and the call's end to call-end.ts.
 */
export class CallSession extends DurableObject<Env> {
  private readonly storage: CallStorage;
  private state: CallState | null = null;
  private turns: StoredTurn[] = [];
  private readonly starter = new CallStart({
    env: this.env,
    state: () => this.state,
    hold: (state) => this.hold(state),
    exclusive: (fn) => this.ctx.blockConcurrencyWhile(fn),
    signingSecret: () => signingSecret(this.settings),
    services: () => servicesFor(this.env, this.ctx),
    twilio: (accountSid) => this.twilio(accountSid),
  });
  private readonly ending = new CallEnding(this.env, {
    state: () => this.state,
    turns: () => this.turns,
    save: () => this.save(),
    twilio: () => this.twilio(),
    scheduleAlarm: () => this.scheduleAlarm(),
    closeStream: () => this.streamMode.close(),
    clear: () => this.clear(),
    log: () => this.log,
  });
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
  private readonly transfers = new Transfers({
    state: () => this.state,
    turns: () => this.turns,
    saveTurn: (index) => this.storage.saveTurn(this.turns[index] as StoredTurn),
    save: () => this.save(),
    twilio: () => this.twilio(),
    afterReply: (reply) => this.afterReply(reply),
    say: (text, budget) => this.turnsMode.say(text, budget),
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
    hangUp: (reason, goodbye) => this.ending.hangUp(reason, goodbye),
    tools: () => this.toolRunner(),
    transfer: (intent, seq) => this.transfers.start(intent, seq),
    stopped: (reason) => this.ending.streamStopped(reason),
    waitUntil: (promise) => this.ctx.waitUntil(promise),
    log: () => this.log,
  });
  private readonly sockets = new CallSockets({
    message: async (ws, data) => {
      if (!this.state && !(await this.starter.fromStream(ws, data))) return;
      await this.streamMode.receive(ws, data);
    },
    closed: () => this.ending.streamStopped("stream_closed"),
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
    return openAIProvidersFor(this.settings);
  }

  /** `accountSid`: the call's own (a call stored before it was kept has none: the setting alone then). */
  private twilio(accountSid = this.state?.accountSid): TwilioRest {
    return twilioRestFor(this.settings, accountSid);
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
   * Creates the call's session at answer (a browser test call, a number that records), timed
   * from `input.answeredAt`. Idempotent: a call already held keeps the config it started with.
   * Null when the call log already has this call as ended.
   */
  async start(input: StartInput): Promise<{ config: CallConfig } | null> {
    const state = await this.starter.start(input);
    return state && { config: state.config };
  }

  /**
   * Turns mode: one caller turn from the recording webhook (`recordingUrl` null: the caller said
   * nothing). The first one creates the session from `snapshot`, the signed query of the
   * <Record action> the answer gave. Without a call, or one that cannot start, it says sorry and
   * hangs up.
   */
  async turn(input: TurnRequest & { callSid: string; snapshot?: string }): Promise<CallReply> {
    if (!this.state && input.snapshot) await this.starter.fromRecording(input.snapshot, input.callSid);
    if (!this.state) return { speech: [saying(PHRASES.unavailable)], next: "hangup", turns: 0 };
    return this.turnsMode.turn(input);
  }

  /**
   * The new call: stored, its alarm armed, and logged. Throws (SQLite's or the alarm's error)
   * holding nothing: a call that could not be stored must not run on memory alone.
   */
  private async hold(state: CallState): Promise<void> {
    try {
      this.storage.ensureSchema();
      this.state = state;
      this.save();
      await this.scheduleAlarm();
    } catch (err) {
      this.state = null;
      throw err;
    }
    this.log.info("call_started", {
      to: state.to,
      number_rule: state.routing?.number_rule,
      display_name: state.config.display_name,
      config_version: state.config.version,
      config_source: state.configSource,
      mode: state.mode,
      session_delay_ms: Date.now() - state.answeredAt,
    });
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
   * Accepted before the call's session exists: its `start` message creates it. A regular socket,
   * not a hibernatable one (call-sockets.ts says why).
   */
  override async fetch(request: Request): Promise<Response> {
    if (request.headers.get("Upgrade")?.toLowerCase() !== "websocket") {
      return new Response("expected a WebSocket upgrade", { status: 426 });
    }
    if (this.state?.mode === "turns") return new Response("no streaming call here", { status: 404 });
    // A browser test call has one socket: a second one (a replay) is refused.
    if (this.state?.channel === "web" && this.sockets.size > 0) {
      return new Response("this test call is already connected", { status: 409 });
    }
    return this.sockets.accept();
  }

  /** Twilio's <Dial action>: how a transfer ended (see transfer.ts). */
  async dialEnded(input: { status: DialCallStatus }): Promise<{ reply: CallReply; stream: boolean }> {
    return this.transfers.dialEnded(input.status);
  }

  /** Twilio's status callback: the call is over. Writes the summary and frees the object (null: no call here). */
  async end(input: { status: FinalCallStatus; durationSeconds?: number }): Promise<CallSummary | null> {
    if (!this.state) return null;
    return this.ending.finalize(this.state.endReason ?? input.status, input.durationSeconds);
  }

  /** The call as it stands (null when this object holds no call). */
  async snapshot(): Promise<CallSummary | null> {
    return this.state ? summarize(this.state, this.turns, null, undefined) : null;
  }

  override async alarm(): Promise<void> {
    const state = this.state;
    if (!state) return;
    const due = dueAt(state, Date.now());
    if (due.finalize) {
      await this.ending.finalize(state.endReason ?? "abandoned");
      return;
    }
    if (due.maxDuration) await this.ending.hangUp("max_duration", PHRASES.goodbyeDuration);
    if (due.recording) await startRecording(state.recording, this.twilio(), state.callSid, this.log);
    this.save();
    await this.scheduleAlarm();
  }

  private async scheduleAlarm(): Promise<void> {
    const next = this.state ? nextAlarmAt(this.state) : null;
    if (next !== null) await this.ctx.storage.setAlarm(next);
  }

  private async clear(): Promise<void> {
    await this.ctx.storage.deleteAlarm();
    await this.ctx.storage.deleteAll();
    this.sockets.closeAll(1000, "call ended");
    this.state = null;
    this.turns = [];
  }

  private requireState(): CallState {
    if (!this.state) throw new Error("this call session holds no call");
    return this.state;
  }
}
