import { streamStart } from "../conversation/media-stream-session.ts";
import { errorFields, type Logger, log } from "../log.ts";
import type { Services } from "../services.ts";
import { goodbyeTwiml } from "../twilio/call-twiml.ts";
import type { TwilioRest } from "../twilio/rest.ts";
import { answeredCall } from "./answered-call.ts";
import { callLog } from "./call-log.ts";
import type { CallState, StartInput } from "./call-state.ts";
import { initialRecording } from "./recording.ts";
import { PHRASES } from "./reply.ts";
import { type CallSnapshot, openSnapshot } from "./snapshot.ts";
import { type EndReason, summarize } from "./summary.ts";

/**
 * A call's session coming into being. Usually from the signed snapshot its answer carried
 * (src/call/snapshot.ts): the Media Stream's `start`, or the first recording webhook, creates it
 * exactly as answered; at answer only for a browser test call or a number that records. Either
 * way the call's clock starts at `answeredAt`, and the call gets its in-progress log entry,
 * unless the log already has it as ended (a late delivery does not bring an ended call back).
 */

/** The state a call starts with: max_call_duration and the recording are timed from `answeredAt`. */
export function initialState(input: StartInput): CallState {
  const startedAt = input.answeredAt;
  return {
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
}

/** What starting a call needs from the call session that holds it. */
export interface StartHost {
  readonly env: Env;
  /** the call held (null: none yet) */
  state(): CallState | null;
  /** Hold `state` as the call: store it and arm its alarm. Throws holding nothing (state() stays null). */
  hold(state: CallState): Promise<void>;
  /** The Durable Object's blockConcurrencyWhile: nothing else reaches it until the call exists. */
  exclusive<T>(fn: () => Promise<T>): Promise<T>;
  signingSecret(): string;
  services(): Pick<Services, "resolver" | "settings">;
  /** Twilio's REST API for the call's account */
  twilio(accountSid: string): TwilioRest;
}

export class CallStart {
  private readonly host: StartHost;

  constructor(host: StartHost) {
    this.host = host;
  }

  /**
   * Creates the call from `input` (or keeps the one held). Null when the call log has it as
   * ended. Throws (with the cause) when it could not be stored.
   */
  async start(input: StartInput | (() => Promise<StartInput>)): Promise<CallState | null> {
    // A throw inside blockConcurrencyWhile would reset the object: the failure is carried out.
    const outcome = await this.host.exclusive(async () => {
      try {
        if (this.host.state()) return { state: this.host.state() };
        return { state: await this.create(typeof input === "function" ? await input() : input) };
      } catch (err) {
        return { failed: err };
      }
    });
    if ("failed" in outcome) throw new Error("the call's session could not start", { cause: outcome.failed });
    return outcome.state;
  }

  /**
   * Turns mode: the first recording webhook's signed snapshot creates the call. Never throws:
   * a refused snapshot or a failed start is logged, and the webhook then says sorry and hangs up.
   */
  async fromRecording(token: string, callSid: string): Promise<void> {
    const snapshot = await this.snapshot(token, callSid);
    try {
      if (snapshot) await this.fromSnapshot(snapshot);
    } catch (err) {
      log.error("call_start_failed", { call_sid: callSid, ...errorFields(err) });
    }
  }

  /**
   * A message on a socket before the call exists: a `start` carrying a good snapshot creates it
   * (true: handle the message). Anything before the `start` (Twilio's `connected`) is skipped; a
   * bad snapshot closes the socket (1008). If the call cannot start, the caller hears an apology
   * in Twilio's voice and the stream closes (1011); the call log has it ended as `start_failed`.
   */
  async fromStream(ws: WebSocket, message: string | ArrayBuffer): Promise<boolean> {
    const start = streamStart(message);
    if (!start) return false;
    const snapshot = await this.snapshot(start.parameters.call ?? "", start.callSid);
    if (!snapshot) {
      ws.close(1008, "invalid call snapshot");
      return false;
    }
    try {
      if (await this.fromSnapshot(snapshot)) return true;
      ws.close(1000, "call ended");
    } catch (err) {
      log.error("call_start_failed", { call_sid: snapshot.call_sid, ...errorFields(err) });
      await this.apologize(snapshot);
      ws.close(1011, "the call could not start");
    }
    return false;
  }

  private fromSnapshot(snapshot: CallSnapshot): Promise<CallState | null> {
    const callLog = log.with({ call_sid: snapshot.call_sid });
    return this.start(() => answeredCall(this.host.services(), snapshot, callLog));
  }

  /** The snapshot a webhook or stream carried, checked (null, logged: tampered, expired or another call's). */
  private async snapshot(token: string, callSid: string): Promise<CallSnapshot | null> {
    const check = await openSnapshot(this.host.signingSecret(), token, callSid);
    if (check.ok) return check.snapshot;
    log.warn("call_snapshot_refused", { call_sid: callSid, reason: check.reason });
    return null;
  }

  private async create(input: StartInput): Promise<CallState | null> {
    const state = initialState(input);
    const callLine = log.with({ call_sid: input.callSid });
    if (!(await this.logStart(state, callLine))) {
      callLine.info("call_start_refused", { reason: "call_already_ended" });
      return null;
    }
    try {
      await this.host.hold(state);
    } catch (err) {
      // Nothing holds the call to end it: its in-progress entry is closed here, with why.
      await this.logEnd(state, "start_failed", callLine);
      throw err;
    }
    return state;
  }

  /**
   * Writes the call's in-progress entry; false when the log already has the call as ended. A
   * failed write is logged and the call goes on (the final summary is written at the end).
   */
  private async logStart(state: CallState, callLine: Logger): Promise<boolean> {
    try {
      return await callLog(this.host.env, state.to).begin(summarize(state, [], null, undefined));
    } catch (err) {
      callLine.warn("call_log_write_failed", { ...errorFields(err) });
      return true;
    }
  }

  /** Writes the ended entry of a call that never started. A failed write is logged, not thrown. */
  private async logEnd(state: CallState, reason: EndReason, callLine: Logger): Promise<void> {
    try {
      await callLog(this.host.env, state.to).record(summarize(state, [], reason, undefined));
    } catch (err) {
      callLine.warn("call_log_write_failed", { ...errorFields(err) });
    }
  }

  /** A call that could not start: "sorry" in Twilio's voice, then Twilio hangs up. Never throws. */
  private async apologize(snapshot: CallSnapshot): Promise<void> {
    try {
      await this.host.twilio(snapshot.account_sid).updateCall(snapshot.call_sid, {
        twiml: goodbyeTwiml(PHRASES.unavailable),
      });
    } catch (err) {
      log.error("call_end_failed", {
        call_sid: snapshot.call_sid,
        reason: "start_failed",
        ...errorFields(err),
      });
    }
  }
}
